"""The idle rule on plain values: classes, reasons, the learned floor and tag overrides."""

from __future__ import annotations

import pytest

from dbsnooze.analysis.idle import (
    TAG_CONNECTIONS,
    TAG_CPU,
    TAG_IOPS,
    Activity,
    HourClass,
    IdleRule,
    Reason,
    Thresholds,
    classify,
    classify_hour,
    idle_share,
    learn_floor,
    thresholds_for,
)

RULE = Thresholds(cpu_percent=5.0, iops=20.0, connection_floor=2.0, connections_margin=1.0)


@pytest.mark.parametrize(
    ("cpu", "connections", "iops", "asleep", "expected"),
    [
        (1.0, 3.0, 5.0, False, (HourClass.IDLE, Reason.QUIET)),  # a pool of 3 is idle
        (5.0, 0.0, 0.0, False, (HourClass.ACTIVE, Reason.CPU)),  # at the threshold: active
        (4.9, 0.0, 20.0, False, (HourClass.ACTIVE, Reason.IOPS)),
        (1.0, 4.0, 5.0, False, (HourClass.ACTIVE, Reason.CONNECTIONS)),  # above floor + margin
        (90.0, 50.0, 900.0, True, (HourClass.ASLEEP, Reason.STOPPED)),  # asleep is never idle
        (None, None, None, False, (HourClass.UNKNOWN, Reason.NO_DATA)),
        (1.0, None, 5.0, False, (HourClass.UNKNOWN, Reason.PARTIAL)),
    ],
)
def test_one_hour(
    cpu: float | None,
    connections: float | None,
    iops: float | None,
    asleep: bool,
    expected: tuple[HourClass, Reason],
) -> None:
    assert classify_hour(cpu, connections, iops, asleep, RULE) == expected


def test_iops_are_ignored_when_not_collected() -> None:
    assert classify_hour(1.0, 0.0, None, False, RULE, uses_iops=False) == (
        HourClass.IDLE,
        Reason.QUIET,
    )


def test_the_floor_is_a_low_percentile_of_the_hourly_maxima() -> None:
    maxima = [2.0] * 80 + [30.0] * 20  # a pool of 2 at night, a busy day
    assert learn_floor(maxima, 10) == 2.0
    assert learn_floor([None, 4.0, None], 10) == 4.0
    assert learn_floor([], 10) == 0.0


def _pooled(hours: int, day: range) -> Activity:
    """A staging-like instance: a pool of 2 connections all night, 30 by day."""
    busy = [h % 24 in day for h in range(hours)]
    return Activity(
        cpu=[40.0 if b else 2.0 for b in busy],
        connections=[30.0 if b else 2.0 for b in busy],
        iops=[300.0 if b else 3.0 for b in busy],
        asleep=[False] * hours,
    )


def test_a_pooled_instance_is_idle_at_night() -> None:
    activity = _pooled(96, range(8, 19))
    rule = thresholds_for(IdleRule(), {}, activity)
    assert rule.connection_floor == 2.0 and rule.sources["connection_floor"] == "learned"
    found = classify(activity, rule)
    assert found.classes[3] is HourClass.IDLE
    assert found.classes[12] is HourClass.ACTIVE
    assert idle_share(found.classes) == pytest.approx(13 / 24)


def test_a_fixed_connections_rule_would_call_it_busy_forever() -> None:
    """The regression: with a floor of 0 (any connection is activity) nothing is idle."""
    activity = _pooled(48, range(8, 19))
    rule = thresholds_for(IdleRule(connections_margin=0), {TAG_CONNECTIONS: "0"}, activity)
    assert idle_share(classify(activity, rule).classes) == 0.0


def test_tags_override_each_threshold() -> None:
    tags = {TAG_CPU: "50", TAG_IOPS: "1000", TAG_CONNECTIONS: "40"}
    rule = thresholds_for(IdleRule(), tags, _pooled(24, range(8, 19)))
    assert (rule.cpu_percent, rule.iops, rule.connection_floor) == (50.0, 1000.0, 40.0)
    assert rule.connections_margin == 0.0  # a floor given by hand is taken as meant
    assert set(rule.sources.values()) == {"tag"}
    assert classify(_pooled(24, range(8, 19)), rule).classes[12] is HourClass.IDLE


@pytest.mark.parametrize("bad", ["", "abc", "-1", "nan", "inf"])
def test_a_bad_tag_leaves_the_setting(bad: str) -> None:
    rule = thresholds_for(IdleRule(cpu_percent=7.0), {TAG_CPU: bad}, None)
    assert rule.cpu_percent == 7.0 and rule.sources["cpu_percent"] == "setting"


def test_asleep_hours_do_not_teach_the_floor() -> None:
    activity = Activity([1.0] * 3, [5.0, 0.0, 0.0], [0.0] * 3, [False, True, True])
    assert thresholds_for(IdleRule(), {}, activity).connection_floor == 5.0


def test_idle_share_leaves_out_asleep_and_unknown_hours() -> None:
    classes = [HourClass.IDLE, HourClass.ASLEEP, HourClass.UNKNOWN, HourClass.ACTIVE]
    assert idle_share(classes) == 0.5
    assert idle_share([HourClass.ASLEEP]) is None
