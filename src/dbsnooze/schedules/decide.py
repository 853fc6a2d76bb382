"""What the reconciler does about one instance, decided from plain values (SPEC §11).

Level-triggered: the decision depends only on what is wanted now (schedule or override), what
the cloud says now, and what dbsnooze did before (its open action, its last done action, its
holds). So a missed minute or a day of downtime needs no catching up of its own.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from dbsnooze.domain import Power

STOP = "stop"
START = "start"
AUTO_RESTART_AFTER = timedelta(days=7)  # the cloud starts a unit stopped this long
DEFAULT_HOLD = timedelta(days=1)  # how long a skip holds when nothing says until when
TRANSITIONAL = frozenset({Power.STOPPING, Power.STARTING, Power.BUSY})
# A stop or start that reached the cloud shows as these states.
TOOK_EFFECT = {
    STOP: frozenset({Power.STOPPING, Power.ASLEEP}),
    START: frozenset({Power.STARTING, Power.AWAKE}),
}


class Source(enum.StrEnum):
    SCHEDULE = "schedule"
    OVERRIDE = "override"
    RESTORE = "restore"  # a person's keep-asleep ended on an instance without a schedule


@dataclass(frozen=True, slots=True)
class Want:
    """What should be true of the instance now, and who wants it."""

    asleep: bool
    source: Source
    actor: str  # schedule:<id> | user:<name>
    until: datetime | None = None  # when this wish ends (the window's end, the override's)
    since: datetime | None = None  # when it began (the window's start), if known
    schedule_id: int | None = None
    schedule_name: str | None = None
    enforce: bool = False
    dry_run: bool = False
    grace: timedelta = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class OpenAction:
    id: int
    kind: str
    in_flight: bool
    lease_alive: bool
    due: bool  # planned and its next attempt is now or past
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Done:
    kind: str
    at: datetime
    actor: str


@dataclass(frozen=True, slots=True)
class Facts:
    now: datetime
    actual: Power
    ineligible: str | None = None  # why dbsnooze will never stop it, or None
    open: OpenAction | None = None
    last_done: Done | None = None
    held: frozenset[str] = frozenset()  # kinds held by an earlier skip of the same actor


class Verdict(enum.StrEnum):
    NOTHING = "nothing"  # in the wanted state, or nothing to be done
    WAIT = "wait"  # a change in progress, or a retry not due yet
    ACT = "act"  # call the cloud (the stop guard may postpone a stop first)
    SKIP = "skip"  # record once that it will not act, and hold until `hold_until`
    WOULD = "would"  # dry run: record what it would do, and hold
    COMPLETE = "complete"  # an orphaned in-flight action did reach the cloud: done


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reason: str
    kind: str | None = None
    guard: bool = False  # a schedule's stop: check recent activity first
    hold_until: datetime | None = None
    cancel_open: str | None = None  # the open action is no longer wanted: skipped, with this


def kind_for(want: Want) -> str:
    return STOP if want.asleep else START


def matches(want: Want, actual: Power) -> bool:
    return actual is (Power.ASLEEP if want.asleep else Power.AWAKE)


def decide(want: Want | None, facts: Facts) -> Decision:
    """The one thing to do about this instance now."""
    open_ = facts.open
    if open_ is not None and open_.in_flight:
        if open_.lease_alive:
            return Decision(Verdict.WAIT, "another worker is acting on it", open_.kind)
        if facts.actual in TOOK_EFFECT[open_.kind]:
            return Decision(Verdict.COMPLETE, "the cloud took the request", open_.kind)
    if facts.actual is Power.GONE:
        return _nothing("the cloud no longer lists it", open_)
    if facts.actual in TRANSITIONAL:
        return Decision(Verdict.WAIT, f"{facts.actual.value}: waited out")
    if want is None:
        return _nothing("no schedule or override", open_)
    if matches(want, facts.actual):
        return _nothing(f"{facts.actual.value}, as wanted", open_)
    kind = kind_for(want)
    cancel = "superseded" if open_ is not None and open_.kind != kind else None
    decision = _stop(want, facts) if kind == STOP else _start(want, facts)
    if decision.verdict is Verdict.ACT and want.dry_run:
        hold = want.until or facts.now + DEFAULT_HOLD
        return Decision(Verdict.WOULD, f"would {kind}: {decision.reason}", kind, hold_until=hold)
    if cancel is not None:
        return Decision(
            decision.verdict,
            decision.reason,
            decision.kind,
            decision.guard,
            decision.hold_until,
            cancel,
        )
    if (
        decision.verdict is Verdict.ACT
        and open_ is not None
        and not open_.in_flight
        and not open_.due
    ):
        return Decision(Verdict.WAIT, "retry not due yet", kind, decision.guard)
    return decision


def _nothing(reason: str, open_: OpenAction | None) -> Decision:
    cancel = f"no longer needed: {reason}" if open_ is not None else None
    return Decision(Verdict.NOTHING, reason, cancel_open=cancel)


def _stop(want: Want, facts: Facts) -> Decision:
    hold = want.until or facts.now + DEFAULT_HOLD
    if facts.ineligible is not None:
        if STOP in facts.held:
            return Decision(Verdict.NOTHING, f"cannot be stopped: {facts.ineligible}")
        return Decision(
            Verdict.SKIP, f"cannot be stopped: {facts.ineligible}", STOP, hold_until=hold
        )
    if STOP in facts.held:
        return Decision(Verdict.NOTHING, "held by an earlier decision", STOP)
    if want.source is not Source.SCHEDULE:
        return Decision(Verdict.ACT, _by(want), STOP)
    restarted = _restarted_since_our_stop(want, facts)
    if restarted is None:
        return Decision(Verdict.ACT, _by(want), STOP, guard=True)
    if restarted >= AUTO_RESTART_AFTER:
        reason = "restarted by the cloud after 7 days stopped: stopped again"
        return Decision(Verdict.ACT, reason, STOP, guard=True)
    if want.enforce:
        return Decision(
            Verdict.ACT, "started by someone; the schedule enforces: stopped again", STOP
        )
    until = f"until {want.until.isoformat()}" if want.until else "until the window ends"
    return Decision(Verdict.SKIP, f"manual start, kept awake {until}", STOP, hold_until=hold)


def _restarted_since_our_stop(want: Want, facts: Facts) -> timedelta | None:
    """How long ago dbsnooze stopped it in this window, if it did and it runs again anyway."""
    done = facts.last_done
    if done is None or done.kind != STOP:
        return None
    if want.since is not None and done.at < want.since:
        return None  # stopped in an earlier window: this is a new one
    return facts.now - done.at


def _start(want: Want, facts: Facts) -> Decision:
    if START in facts.held:
        return Decision(Verdict.NOTHING, "held by an earlier decision", START)
    ours = facts.last_done is not None and facts.last_done.kind == STOP
    if want.source is Source.SCHEDULE and not (ours or want.enforce):
        return Decision(Verdict.NOTHING, "stopped outside dbsnooze: left asleep", START)
    return Decision(Verdict.ACT, _by(want), START)


def _by(want: Want) -> str:
    if want.source is Source.OVERRIDE:
        state = "asleep" if want.asleep else "awake"
        until = f" until {want.until.isoformat()}" if want.until else ""
        return f"override: keep {state}{until} ({want.actor})"
    if want.source is Source.RESTORE:
        return "the keep-asleep override ended: woken"
    name = want.schedule_name or want.actor
    return f"schedule {name}: {'sleep' if want.asleep else 'wake'} window"
