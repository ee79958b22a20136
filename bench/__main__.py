"""Run every benchmark and print their figures as one JSON document."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench import (
    alerts,
    autosell_engine,
    cluster,
    daemon_throughput,
    emulator_throughput,
    notify_priority,
    paper_commands,
    paper_ledger,
)

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    figures = {
        "emulator_throughput": emulator_throughput.run(),
        "daemon_throughput": daemon_throughput.run(),
        "notify_priority": notify_priority.run(),
        "paper_ledger": paper_ledger.run(),
        "paper_commands": paper_commands.run(),
        "autosell_engine": autosell_engine.run(),
        "alerts": alerts.run(),
        "cluster": cluster.run(),
    }
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(figures, indent=2)
    (RESULTS / "latest.json").write_text(text + "\n")
    print(text)
    return 0


sys.exit(main())
