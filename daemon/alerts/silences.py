"""Silences: matchers and a time window; an alert that every matcher of an active
silence matches is not sent. `/mute` reads them from text. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from daemon.alerts.matchers import QUOTES, Matcher, all_match, parse_matcher
from daemon.settings_schema import parse_duration

MAX_SILENCE = 90 * 86400
MAX_COMMENT = 200
# A matcher: name, operator, then a quoted value (which may hold spaces) or a bare one.
_TOKEN = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*\s*(?:=~|!~|!=|=)\s*(?:"[^"]*"|\'[^\']*\'|\S*))')


class MuteError(ValueError):
    """`/mute` text that is not matchers, a duration and a comment; str() says why."""


@dataclass(frozen=True)
class Silence:
    id: int
    matchers: tuple[Matcher, ...]
    starts: datetime
    ends: datetime
    comment: str
    created_by: int

    def mutes(self, labels: Mapping[str, str], now: datetime) -> bool:
        return self.starts <= now < self.ends and all_match(self.matchers, labels)


@dataclass(frozen=True)
class Mute:
    """What `/mute` asked for."""

    matchers: tuple[Matcher, ...]
    seconds: int
    comment: str


def silenced(
    labels: Mapping[str, str], silences: Iterable[Silence], now: datetime
) -> Silence | None:
    return next((s for s in silences if s.mutes(labels, now)), None)


def parse_mute(text: str) -> Mute:
    """`severity=info symbol=~"BTC.*" 2h optional comment`: matchers, a duration, a
    comment. MatcherError or MuteError saying what is wrong."""
    rest = text.translate(QUOTES).strip()
    matchers = []
    while True:
        found = _TOKEN.match(rest)
        if found is None:
            break
        matchers.append(parse_matcher(found[1]))
        rest = rest[found.end() :].lstrip()
    duration, _, comment = rest.partition(" ")
    if not matchers:
        raise MuteError("give at least one matcher first, e.g. severity=info")
    seconds = parse_duration(duration) if duration else None
    if seconds is None:
        shown = duration or "nothing"
        raise MuteError(f"after the matchers comes a duration like 30m, 2h or 1d, got {shown!r}")
    if not 60 <= seconds <= MAX_SILENCE:
        raise MuteError(f"a silence lasts from 1m to 90d, got {duration}")
    return Mute(tuple(matchers), int(seconds), comment.strip()[:MAX_COMMENT])
