"""The actions and overrides stores on SQLite and PostgreSQL: one open action per instance, claims,
holds, expiry, and the spans asleep that savings are computed from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dbsnooze.context import Context
from dbsnooze.store import actions, overrides
from dbsnooze.store.actions import NewAction, State
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import EventRow
from metricshelp import register

NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def _stop(instance_id: int, state: State = State.PLANNED, **extra: object) -> NewAction:
    return NewAction(instance_id, "stop", state, "window", "schedule:1", 1, **extra)  # type: ignore[arg-type]


def test_an_instance_has_one_open_action_and_one_claimant(ctx: Context) -> None:
    ids = register(ctx, "http://127.0.0.1:9", ["a", "b"])
    with transaction(ctx.sessions) as session:
        first = actions.add(session, _stop(ids["a"]), NOW)
        assert first is not None
        assert actions.add(session, _stop(ids["a"]), NOW) is None  # a second open one is refused
        assert actions.add(session, _stop(ids["b"]), NOW) is not None
        assert actions.add(session, _stop(ids["a"], State.SKIPPED), NOW) is not None
        first_id = first.id
    with transaction(ctx.sessions) as session:
        assert actions.claim(session, first_id, "w1", NOW, LEASE)
    with transaction(ctx.sessions) as session:
        assert not actions.claim(session, first_id, "w2", NOW + timedelta(minutes=1), LEASE)
    with transaction(ctx.sessions) as session:  # w1 died: its lease ran out
        assert actions.claim(session, first_id, "w2", NOW + timedelta(minutes=3), LEASE)
    with ctx.sessions() as session:
        row = actions.open_actions(session, [ids["a"]])[ids["a"]]
        assert (row.lease_owner, row.attempts, row.state) == ("w2", 2, "in_flight")


def test_a_planned_action_is_claimed_only_when_due(ctx: Context) -> None:
    ids = register(ctx, "http://127.0.0.1:9", ["a"])
    with transaction(ctx.sessions) as session:
        row = actions.add(session, _stop(ids["a"], next_attempt_at=NOW + timedelta(minutes=4)), NOW)
        assert row is not None
        action_id = row.id
    with transaction(ctx.sessions) as session:
        assert not actions.claim(session, action_id, "w1", NOW, LEASE)
    with transaction(ctx.sessions) as session:
        assert actions.claim(session, action_id, "w1", NOW + timedelta(minutes=4), LEASE)


def test_holds_last_done_and_spans_asleep(ctx: Context) -> None:
    ids = register(ctx, "http://127.0.0.1:9", ["a", "b"])
    a, b = ids["a"], ids["b"]
    later = NOW + timedelta(hours=10)
    with transaction(ctx.sessions) as session:
        for new in (
            _stop(a),
            NewAction(a, "start", State.PLANNED, "w", "schedule:1", 1),
            _stop(b),
        ):
            row = actions.add(session, new, NOW)
            assert row is not None
            actions.finish(session, row, State.DONE, later if row.kind == "start" else NOW)
        held = actions.add(session, _stop(a, State.SKIPPED, holds_until=later), NOW)
        assert held is not None
    with ctx.sessions() as session:
        assert set(actions.holding(session, [a, b], NOW)) == {(a, "stop")}
        assert actions.holding(session, [a, b], later) == {}
        assert {i: r.kind for i, r in actions.last_done(session, [a, b]).items()} == {
            a: "start",
            b: "stop",
        }
        spans = actions.asleep_spans(session, schedule_id=1)
    assert [(s.instance_id, s.start, s.end) for s in spans] == [(a, NOW, later), (b, NOW, None)]
    with ctx.sessions() as session:
        rows, total = actions.page(session, actions.ActionFilter(instance_id=a), 2, 0)
    assert total == 3 and [r.state for r in rows] == ["skipped", "done"]


def test_spans_since_a_moment_read_only_what_still_sleeps_then(ctx: Context) -> None:
    ids = register(ctx, "http://127.0.0.1:9", ["a", "b"])
    a, b = ids["a"], ids["b"]
    at = [NOW + timedelta(hours=h) for h in range(8)]
    done = [(a, "stop", 0), (b, "stop", 0), (a, "start", 1), (a, "stop", 2), (a, "start", 3),
            (a, "stop", 4), (b, "start", 6)]  # fmt: skip
    with transaction(ctx.sessions) as session:
        for instance_id, kind, hour in done:
            new = NewAction(instance_id, kind, State.PLANNED, "w", "schedule:1", 1)
            row = actions.add(session, new, at[hour])
            assert row is not None
            actions.finish(session, row, State.DONE, at[hour])
    since = at[5]  # a sleeps since 4, b since 0 until 6; a's earlier spans ended before 5
    with ctx.sessions() as session:
        every = actions.asleep_spans(session)
        recent = actions.asleep_spans(session, since=since)
    assert [(s.instance_id, s.start, s.end) for s in recent] == [
        (a, at[4], None),
        (b, at[0], at[6]),
    ]
    assert recent == [s for s in every if s.end is None or s.end >= since]


def test_overrides_are_set_replaced_cleared_and_expire_with_events(ctx: Context) -> None:
    ids = register(ctx, "http://127.0.0.1:9", ["a", "b"])
    a, b = ids["a"], ids["b"]
    with transaction(ctx.sessions) as session:
        overrides.put(session, a, "awake", NOW + timedelta(hours=2), "user:ann", NOW)
        overrides.put(session, a, "asleep", NOW + timedelta(hours=1), "user:bob", NOW)
        overrides.put(session, b, "awake", NOW + timedelta(hours=3), "user:ann", NOW)
    with ctx.sessions() as session:
        found = overrides.active(session, NOW)
        assert (found[a].state, found[a].created_by, found[a].asleep) == (
            "asleep",
            "user:bob",
            True,
        )
    with transaction(ctx.sessions) as session:
        ended = overrides.expire(session, NOW + timedelta(hours=1))
        assert [o.instance_id for o in ended] == [a]
        assert overrides.clear(session, b, "user:ann", NOW)
        assert not overrides.clear(session, b, "user:ann", NOW)
    with ctx.sessions() as session:
        assert overrides.active(session, NOW) == {}
        names = list(session.scalars(select(EventRow.action).order_by(EventRow.id)))
    assert names[-5:] == [
        "override.set",
        "override.set",
        "override.set",
        "override.expired",
        "override.cleared",
    ]
