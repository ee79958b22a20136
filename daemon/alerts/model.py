"""An alert: labels (kind, severity, symbol, source, …), a text, when it happened, and a
fingerprint of its labels, which is what deduplication compares. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class Alert:
    labels: Mapping[str, str]
    text: str
    at: datetime
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fingerprint", fingerprint(self.labels))

    def label(self, name: str) -> str:
        """A label's value; "" when the alert has none (as Alertmanager matches)."""
        return self.labels.get(name, "")


def fingerprint(labels: Mapping[str, str]) -> str:
    """The same labels, in any order, give the same fingerprint; any other set another."""
    digest = hashlib.sha256()
    for name in sorted(labels):
        digest.update(name.encode() + b"\x00" + labels[name].encode() + b"\x00")
    return digest.hexdigest()[:16]
