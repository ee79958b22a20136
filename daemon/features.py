"""The feature packages this build ships. Importing one registers its settings section
and its document renderers (config and notify never import a feature); whatever loads
settings imports this first."""

from __future__ import annotations

from daemon.alerts import settings as alerts_settings
from daemon.autosell import settings as autosell_settings
from daemon.prices import settings as prices_settings
from daemon.trading import renderers as paper_renderers
from daemon.trading import settings as paper_settings

FEATURE_SETTINGS = (prices_settings, paper_settings, autosell_settings, alerts_settings)
# Documents rendered after commit (notify.rendering), registered at import.
FEATURE_RENDERERS = (paper_renderers,)
