"""Label matchers as Alertmanager writes them: `name="value"`, `name!=value`,
`name=~"regex"`, `name!~regex`. Regexes are anchored (the whole value must match); a
label the alert lacks is matched as "". Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_MATCHER = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*")
# Typographic quotes, as phones type them, read as plain ones.
QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})


class MatcherError(ValueError):
    """str() quotes the matcher and says what is wrong with it; `reason` is the rest."""

    def __init__(self, text: str, reason: str):
        super().__init__(f"{text!r} {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # =, !=, =~, !~
    value: str
    pattern: re.Pattern[str] | None = None

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.pattern is not None:
            return (self.pattern.fullmatch(actual) is not None) == (self.op == "=~")
        return (actual == self.value) == (self.op == "=")

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


def _unquote(text: str, shown: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if text[:1] in "\"'" or text[-1:] in "\"'":
        raise MatcherError(shown, "has a quote that does not close")
    return text


def parse_matcher(text: str) -> Matcher:
    shown = text.translate(QUOTES)
    found = _MATCHER.fullmatch(shown)
    if found is None:
        raise MatcherError(
            text, "is not a matcher (label=value, label!=value, label=~regex, label!~regex)"
        )
    name, op, raw = found.groups()
    value = _unquote(raw, text)
    if op in ("=~", "!~"):
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise MatcherError(text, f"is not a valid regular expression ({exc})") from None
        return Matcher(name, op, value, pattern)
    return Matcher(name, op, value)


def all_match(matchers: Sequence[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
