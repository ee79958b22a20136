"""Rule text: what /autosell and [autosell] accept, what they refuse (with the reason,
naming the key and quoting the value), and that the canonical text reads back the same."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from daemon.autosell.rules import RuleError, Spec, Target, parse


def test_the_issue_example_reads_into_every_part_and_back() -> None:
    words = ["sl=-5%", "tp=+10%:50%,+20%:50%", "trail=3%", "arm=+5%", "be=on", "time=48h"]
    spec = parse(words)
    assert spec == Spec(
        stop_percent=D(-5),
        targets=(Target(D(10), D(50)), Target(D(20), D(50))),
        trail=D(3),
        arm=D(5),
        breakeven=True,
        hold=48 * 3600,
    )
    assert spec.text() == "sl=-5% tp=+10%:50%,+20%:50% trail=3% arm=+5% be=on time=2d"
    assert parse(spec.text().split()) == spec


def test_an_absolute_stop_and_edits_over_a_base() -> None:
    base = parse(["sl=-5%", "tp=10%:100%"])
    edited = parse(["sl=25000.5", "tp=off", "time=30m"], base)
    assert edited == Spec(stop_price=D("25000.5"), hold=1800)


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        (
            ["tp=+10%:60%,+20%:50%"],
            "tp=+10%:60%,+20%:50%: the shares add up to 110%, more than 100%",
        ),
        (["trail=0%"], "trail=0%: a percentage must be more than zero, got '0'"),
        (["trail=-3%"], "trail=-3%: must be a gain above the entry, e.g. trail=+3%"),
        (["trail=100%"], "trail=100%: must be less than 100%"),
        (["foo=1"], "unknown key 'foo' (known: sl, tp, trail, arm, be, time)"),
        (["sl=5%"], "sl=5%: a stop-loss is below the entry, e.g. sl=-5%"),
        (["sl=-100%"], "sl=-100%: a stop at or below -100% never triggers"),
        (
            ["sl=abc"],
            "sl=abc: a stop price must be a plain decimal number like 0.25, got 'abc' "
            "(or a percentage like -5%)",
        ),
        (
            ["tp=+20%:50%,+10%:50%"],
            "tp=+20%:50%,+10%:50%: targets must rise, each above the one before",
        ),
        (["tp=+10%"], "tp=+10%: each target is GAIN:SHARE, e.g. +10%:50%"),
        (["be=maybe"], "be=maybe: expected on or off"),
        (["time=2 days"], "time=2 days: expected a holding period like 30m, 48h or 7d"),
        (["sl=-5%", "sl=-3%"], "sl is given twice"),
        (["sl"], "'sl': expected key=value (keys: sl, tp, trail, arm, be, time)"),
        (["arm=+5%"], "arm sets when the trailing stop starts: it needs trail=N%"),
        (["be=on"], "be moves the stop after the first take-profit: it needs tp=…"),
        (
            ["sl=-NaN%"],
            "sl=-NaN%: a percentage must be a plain decimal number like 0.25, got 'NaN'",
        ),
    ],
)
def test_bad_rules_are_refused_with_the_reason(words: list[str], reason: str) -> None:
    with pytest.raises(RuleError) as refused:
        parse(words)
    assert str(refused.value) == reason
