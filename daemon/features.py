"""The feature packages this build ships. Importing one registers its settings section
(config never imports a feature); whatever loads settings imports this first."""

from __future__ import annotations

from daemon.prices import settings as prices_settings
from daemon.trading import settings as paper_settings

FEATURE_SETTINGS = (prices_settings, paper_settings)
