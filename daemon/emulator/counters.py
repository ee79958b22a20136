"""What the emulator counts per bot, in total and per caller (User-Agent and connection)."""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

EVENT_HISTORY = 1000
POLL_HISTORY = 20000


@dataclass
class _Tally:
    requests: Counter[str] = field(default_factory=Counter)
    status: Counter[int] = field(default_factory=Counter)

    def to_api(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "get_updates": self.requests["getUpdates"],
            "conflicts": self.status[409],
            "flood": self.status[429],
            "status": {str(code): n for code, n in sorted(self.status.items())},
        }


@dataclass
class Counters:
    total: _Tally = field(default_factory=_Tally)
    by_user_agent: dict[str, _Tally] = field(default_factory=dict)
    by_connection: dict[str, _Tally] = field(default_factory=dict)
    connection_agents: dict[str, str] = field(default_factory=dict)
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=EVENT_HISTORY))
    polls: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=POLL_HISTORY))

    def polled(self, caller: str, started: float, ended: float, ended_by: str) -> None:
        """One getUpdates call, from arrival to answer (the emulator's monotonic clock)."""
        self.polls.append(
            {"caller": caller, "started": started, "ended": ended, "ended_by": ended_by}
        )

    def record(
        self,
        method: str,
        user_agent: str,
        connection: str,
        status: int,
        description: str | None = None,
    ) -> None:
        tallies = (
            self.total,
            self.by_user_agent.setdefault(user_agent, _Tally()),
            self.by_connection.setdefault(connection, _Tally()),
        )
        self.connection_agents[connection] = user_agent
        for tally in tallies:
            tally.requests[method] += 1
            tally.status[status] += 1
        if status in (409, 429):
            self.events.append(
                {
                    "time": time.time(),
                    "status": status,
                    "method": method,
                    "user_agent": user_agent,
                    "connection": connection,
                    "description": description,
                }
            )

    def to_api(self) -> dict[str, Any]:
        return {
            **self.total.to_api(),
            "by_user_agent": {ua: t.to_api() for ua, t in self.by_user_agent.items()},
            "by_connection": {
                conn: {**t.to_api(), "user_agent": self.connection_agents[conn]}
                for conn, t in self.by_connection.items()
            },
            "events": list(self.events),
        }
