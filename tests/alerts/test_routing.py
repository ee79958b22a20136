"""Matchers, the routing tree and silences, table-driven and pure: operators and anchored
regexes, a missing label read as "", depth-first matching with `continue`, inheritance
of receiver, grouping and timings, and /mute's text."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from daemon.alerts.matchers import MatcherError, parse_matcher
from daemon.alerts.routing import Route, Timing, group_key, match
from daemon.alerts.silences import MuteError, Silence, parse_mute, silenced
from daemon.alerts.sources import from_event

T0 = datetime(2026, 11, 30, 9, 0)


@pytest.mark.parametrize(
    ("matcher", "labels", "matches"),
    [
        ('severity="critical"', {"severity": "critical"}, True),
        ("severity=critical", {"severity": "warning"}, False),
        ("severity!=info", {"severity": "critical"}, True),
        ("severity!=info", {}, True),  # a missing label is ""
        ('symbol=~"BTC.*"', {"symbol": "BTC/USDT"}, True),
        ('symbol=~"BTC"', {"symbol": "BTC/USDT"}, False),  # anchored: the whole value
        ('symbol!~"BTC.*"', {"symbol": "ETH/USDT"}, True),
        ('symbol=""', {}, True),
        ("symbol=~.+", {}, False),
        ("symbol=~“BTC.*”", {"symbol": "BTC/USDT"}, True),  # typographic quotes
    ],
)
def test_matchers(matcher: str, labels: dict[str, str], matches: bool) -> None:
    assert parse_matcher(matcher).matches(labels) is matches


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("severity", "'severity' is not a matcher (label=value, label!=value, label=~regex, "
                     "label!~regex)"),
        ("sev=~(", "'sev=~(' is not a valid regular expression (missing ), unterminated "
                   "subpattern at position 0)"),
        ('sev="critical', "'sev=\"critical' has a quote that does not close"),
        ("1sev=x", "'1sev=x' is not a matcher (label=value, label!=value, label=~regex, "
                   "label!~regex)"),
    ],
)  # fmt: skip
def test_bad_matchers_say_why(text: str, error: str) -> None:
    with pytest.raises(MatcherError) as refused:
        parse_matcher(text)
    assert str(refused.value) == error


TIMING = Timing(0, 60, 3600)


def route(path: str, receiver: str, *matchers: str, carry_on: bool = False,
          routes: tuple[Route, ...] = ()) -> Route:  # fmt: skip
    return Route(path, receiver, tuple(parse_matcher(m) for m in matchers), ("kind",), TIMING,
                 carry_on, routes)  # fmt: skip


TREE = route(
    "root", "admins",
    routes=(
        route("root.0", "ops", "severity=critical", carry_on=True,
              routes=(route("root.0.0", "pager", "kind=autosell"),)),
        route("root.1", "traders", "kind=~autosell|fill"),
        route("root.2", "never", "kind=autosell"),
    ),
)  # fmt: skip


@pytest.mark.parametrize(
    ("labels", "paths"),
    [
        ({"kind": "start"}, ["root"]),  # no child matches: the root itself
        ({"kind": "fill"}, ["root.1"]),
        # critical: ops (continue) and then the next sibling that matches; the deepest
        # match below ops is its child; root.2 is never reached after root.1 matched.
        ({"kind": "autosell", "severity": "critical"}, ["root.0.0", "root.1"]),
        ({"kind": "stale_feed", "severity": "critical"}, ["root.0"]),
    ],
)
def test_alerts_go_depth_first_and_stop_unless_continue(labels: dict[str, str],
                                                         paths: list[str]) -> None:  # fmt: skip
    assert [r.path for r in match(TREE, labels)] == paths


def test_group_keys_are_the_routes_group_by_values() -> None:
    assert group_key(TREE, {"kind": "fill", "symbol": "BTC"}) == ("root", (("kind", "fill"),))
    assert group_key(TREE, {}) == ("root", (("kind", ""),))


def test_mute_reads_matchers_a_duration_and_a_comment() -> None:
    mute = parse_mute('severity=info symbol=~"BTC .*" 2h noisy during the upgrade')
    assert [str(m) for m in mute.matchers] == ['severity="info"', 'symbol=~"BTC .*"']
    assert (mute.seconds, mute.comment) == (7200, "noisy during the upgrade")
    assert parse_mute("kind=fill 30m").comment == ""
    typographic = parse_mute("symbol=~“ETH.*” 1d")
    assert str(typographic.matchers[0]) == 'symbol=~"ETH.*"'


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("2h", "give at least one matcher first, e.g. severity=info"),
        ("severity=info", "after the matchers comes a duration like 30m, 2h or 1d, got "
                          "'nothing'"),
        ("severity=info soon", "after the matchers comes a duration like 30m, 2h or 1d, got "
                               "'soon'"),
        ("severity=info 30s", "a silence lasts from 1m to 90d, got 30s"),
        ("severity=info 91d", "a silence lasts from 1m to 90d, got 91d"),
    ],
)  # fmt: skip
def test_mute_refuses_with_the_reason(text: str, error: str) -> None:
    with pytest.raises(MuteError) as refused:
        parse_mute(text)
    assert str(refused.value) == error


def test_a_silence_mutes_what_it_matches_while_active() -> None:
    mute = parse_mute("severity=info 1h")
    silence = Silence(1, mute.matchers, T0, T0 + timedelta(hours=1), "", 7)
    assert silenced({"severity": "info"}, [silence], T0) is silence
    assert silenced({"severity": "critical"}, [silence], T0) is None
    assert silenced({"severity": "info"}, [silence], T0 + timedelta(hours=1)) is None
    assert silenced({"severity": "info"}, [silence], T0 - timedelta(seconds=1)) is None


def test_events_are_their_own_fingerprint_and_conditions_share_one() -> None:
    """A second stop-loss is a new alert; a foreign poller, a stale feed or a dead letter
    for the same receiver is the same condition again (held back until its repeat)."""
    fills = [from_event(n, "autosell", T0, '{"symbol": "BTC/USDT", "rule": "stop-loss"}')
             for n in (1, 2)]  # fmt: skip
    assert fills[0].fingerprint != fills[1].fingerprint
    for kind, detail in (("conflict", "409"), ("stale_feed", '{"symbol": "BTC/USDT"}'),
                         ("dead_letter", '{"receiver": "chat 5"}')):  # fmt: skip
        first, again = (from_event(n, kind, T0, detail) for n in (1, 2))
        assert first.fingerprint == again.fingerprint, kind
        assert "id" not in first.labels
