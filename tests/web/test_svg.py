"""The server-drawn sparklines and coverage bars: pure geometry."""

from __future__ import annotations

from dbsnooze.domain import Coverage
from dbsnooze.web.svg import Band, coverage_bar, sparkline


def test_a_gap_lifts_the_pen_and_asleep_hours_become_bands() -> None:
    values = [5.0, 10.0, None, 20.0, 0.0, 0.0, 30.0]
    asleep = [False, False, False, False, True, True, False]
    drawing = sparkline(values, asleep, width=70, height=22)
    commands = drawing.path.split(" ")
    assert [c[0] for c in commands if c[0] in "ML"] == ["M", "L", "M", "M"]
    assert drawing.top == 30.0
    assert drawing.asleep == [Band(40.0, 20.0)]
    assert drawing.path.endswith("M65.0 1.0")  # the peak touches the top edge


def test_quiet_lines_stay_low_and_nothing_stored_draws_nothing() -> None:
    low = sparkline([1.0, 1.0], [False, False], width=20, height=22)
    assert low.top == 10.0  # a 1 % instance is not drawn as busy
    assert sparkline([None, None], [False, False]).path == ""


def test_coverage_bar_parts_in_a_fixed_order() -> None:
    counts = {Coverage.MISSING: 42, Coverage.COMPLETE: 126, Coverage.PARTIAL: 0}
    parts = coverage_bar(counts, width=168)
    assert [(p.state, p.x, p.width, p.hours) for p in parts] == [
        ("complete", 0.0, 126.0, 126),
        ("missing", 126.0, 42.0, 42),
    ]
    assert coverage_bar({}) == []
    stored = coverage_bar({Coverage.PROVISIONAL: 2, Coverage.COMPLETE: 6}, width=8)
    assert [(p.state, p.x, p.width) for p in stored] == [
        ("complete", 0.0, 6.0),
        ("provisional", 6.0, 2.0),
    ]
