"""Named points where a test may have the process killed, to prove exactly-once.

`TRADEBOTD_CRASH_AT=<name>` makes the process SIGKILL itself when it reaches that point,
which no timing of an outside `kill -9` can hit reliably (the window between a decision
and its fill is microseconds wide). Unset, a point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "TRADEBOTD_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
