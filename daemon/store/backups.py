"""When the last backup was taken (`tradebotd backup` records it; the digest and the
doctor say it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from daemon.store import named_values

LAST_BACKUP_KEY = "backup.last"


@dataclass(frozen=True)
class BackupRecord:
    at: datetime
    path: str
    size: int


def record(backup: BackupRecord) -> None:
    named_values.put(
        LAST_BACKUP_KEY,
        json.dumps({"at": backup.at.isoformat(), "path": backup.path, "size": backup.size}),
    )


def last() -> BackupRecord | None:
    value = named_values.get(LAST_BACKUP_KEY)
    if value is None:
        return None
    fields = json.loads(value)
    return BackupRecord(datetime.fromisoformat(fields["at"]), fields["path"], int(fields["size"]))
