"""Grouping and repeat timing with an injected clock: a new group waits group_wait then
notifies with whatever joined; later alerts go out at most every group_interval; one
fingerprint reaches a receiver at most once per repeat_interval, while events (unique
ids among their labels) are never held back as repeats."""

from __future__ import annotations

from datetime import datetime, timedelta

from daemon.alerts.grouping import Grouper
from daemon.alerts.model import Alert, fingerprint
from daemon.alerts.routing import Route, Timing

T0 = datetime(2026, 11, 30, 9, 0)
ROUTE = Route("root", "admins", (), ("kind",), Timing(30, 60, 3600), False)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def alert(seconds: float, **labels: str) -> Alert:
    return Alert(labels, f"{labels}", at(seconds))


def test_a_fingerprint_is_the_label_set_in_any_order() -> None:
    assert fingerprint({"a": "1", "b": "2"}) == fingerprint({"b": "2", "a": "1"})
    assert fingerprint({"a": "1"}) != fingerprint({"a": "1", "b": ""})
    assert fingerprint({"a": "1\x00b"}) != fingerprint({"a": "1", "b": ""})


def test_group_wait_then_group_interval() -> None:
    grouper = Grouper()
    grouper.add(alert(0, kind="fill", id="1"), ROUTE, at(0))
    grouper.add(alert(10, kind="fill", id="2"), ROUTE, at(10))
    grouper.add(alert(12, kind="stale_feed"), ROUTE, at(12))  # another group
    assert grouper.flush(at(29)) == []
    first = grouper.flush(at(30))
    assert [(f.labels, len(f.alerts)) for f in first] == [((("kind", "fill"),), 2)]
    assert grouper.next_due() == at(42)  # the stale_feed group's own wait
    assert [f.labels for f in grouper.flush(at(42))] == [(("kind", "stale_feed"),)]
    grouper.add(alert(50, kind="fill", id="3"), ROUTE, at(50))
    assert grouper.flush(at(89)) == []  # the fill group notified at 30: next at 90
    [later] = grouper.flush(at(90))
    assert [a.labels["id"] for a in later.alerts] == ["3"]


def test_a_repeat_waits_its_repeat_interval_but_an_event_never_does() -> None:
    grouper = Grouper()
    assert grouper.add(alert(0, kind="stale_feed", symbol="BTC"), ROUTE, at(0))
    grouper.flush(at(30))
    assert not grouper.add(alert(100, kind="stale_feed", symbol="BTC"), ROUTE, at(100))
    assert grouper.add(alert(100, kind="autosell", id="k2"), ROUTE, at(100))
    assert grouper.add(alert(3631, kind="stale_feed", symbol="BTC"), ROUTE, at(3631))


def test_forgetting_keeps_what_still_matters() -> None:
    grouper = Grouper()
    grouper.add(alert(0, kind="fill", id="1"), ROUTE, at(0))
    grouper.flush(at(30))
    grouper.forget(at(60), {"admins": 3600})
    assert grouper.groups
    assert grouper.sent
    grouper.forget(at(4000), {"admins": 3600})
    assert not grouper.groups
    assert not grouper.sent
