"""Carrying out one reconciler decision (schedules/reconcile.py decides what, this does it).

The open action is the claim: planned (or taken over from a dead worker) and claimed with a
lease by a conditional update before the cloud is called, outside any transaction; the outcome
is written back only if the claim is still ours. Every outcome is an audit event naming the
schedule or the person, a Prometheus count, and (done or failed) a notification.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dbsnooze import notify
from dbsnooze.context import Context
from dbsnooze.domain import CloudAccount, PowerUnit, ProviderError
from dbsnooze.observability import ACTIONS
from dbsnooze.providers.registry import provider
from dbsnooze.schedules.decide import START, STOP, Decision, Done, Verdict, Want
from dbsnooze.store import actions, events
from dbsnooze.store.actions import NewAction, State
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import ActionRow

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=30)
FIRST_BACKOFF = timedelta(minutes=1)
# A unit the cloud is busy with (another operation on it) is looked at again at least this often.
MAX_BUSY_WAIT = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Item:
    """One instance the pass looks at, with everything its decision needs but the cloud."""

    instance_id: int
    name: str
    account: CloudAccount
    provider: str
    unit: PowerUnit
    want: Want | None
    ineligible: str | None
    open: ActionRow | None
    last_done: Done | None
    held: frozenset[str]

    @property
    def group(self) -> tuple[int, str]:
        return (self.account.id, self.unit.scope)


def carry_out(
    ctx: Context, owner: str, item: Item, decision: Decision, busy: str | None
) -> str | None:
    now = ctx.clock()
    if decision.verdict is Verdict.COMPLETE:
        return _complete(ctx, item, now)
    if decision.cancel_open is not None and item.open is not None:
        with transaction(ctx.sessions) as session:
            _cancel(session, item.open.id, decision.cancel_open, now)
    if decision.verdict is Verdict.SKIP:
        return _record(ctx, item, decision, State.SKIPPED, now)
    if decision.verdict is Verdict.WOULD:
        return _record(ctx, item, decision, State.DRY_RUN, now)
    if decision.verdict is Verdict.ACT:
        return _act(ctx, owner, item, decision, busy)
    return None


def _cancel(session: Session, action_id: int, reason: str, now: datetime) -> None:
    row = actions.locked(session, action_id)
    if row is None or row.state not in actions.OPEN:
        return
    if row.state == State.IN_FLIGHT and row.lease_until is not None and row.lease_until > now:
        return  # someone is acting on it right now
    actions.finish(session, row, State.SKIPPED, now, reason=reason)


def _complete(ctx: Context, item: Item, now: datetime) -> str | None:
    """An in-flight action whose worker died after the cloud took the request: done."""
    assert item.open is not None
    with transaction(ctx.sessions) as session:
        row = session.get(ActionRow, item.open.id)
        if row is None or row.state != State.IN_FLIGHT or (row.lease_until or now) > now:
            return None
        actions.finish(session, row, State.DONE, now)
        _audit(session, row, now, "action.done", {"completed_after": "its worker stopped"})
    _tell(ctx, item, row, "done")
    return "done"


def _record(ctx: Context, item: Item, decision: Decision, state: State, now: datetime) -> str:
    want = item.want
    assert want is not None and decision.kind is not None
    new = NewAction(
        item.instance_id,
        decision.kind,
        state,
        decision.reason,
        want.actor,
        want.schedule_id,
        holds_until=decision.hold_until,
    )
    with transaction(ctx.sessions) as session:
        if item.open is not None and decision.cancel_open is None:  # e.g. a retry now moot
            _cancel(session, item.open.id, f"superseded: {decision.reason}", now)
            session.flush()
        row = actions.add(session, new, now)
        if row is None:
            return "lost"
        _audit(session, row, now, f"action.{state.value}", {})
    _tell(ctx, item, row, state.value)
    return state.value


def _act(ctx: Context, owner: str, item: Item, decision: Decision, busy: str | None) -> str:
    want = item.want
    assert want is not None and decision.kind is not None
    now = ctx.clock()
    with transaction(ctx.sessions) as session:
        row = _open_or_new(session, item, decision, want, now)
        if row is None:
            return "lost"
        if decision.guard and busy is not None:
            return _postpone(ctx, session, item, row, busy, now)
        if not actions.claim(session, row.id, owner, now, _action_lease(ctx, item)):
            return "lost"
        action_id = row.id
    return _call(ctx, owner, item, action_id, decision.kind)


def _open_or_new(
    session: Session, item: Item, decision: Decision, want: Want, now: datetime
) -> ActionRow | None:
    open_ = item.open
    if open_ is not None and open_.kind == decision.kind and decision.cancel_open is None:
        row = actions.locked(session, open_.id)  # another worker may have claimed it since
        return row if row is not None and actions.claimable(row, now) else None
    new = NewAction(
        item.instance_id,
        decision.kind or STOP,
        State.PLANNED,
        decision.reason,
        want.actor,
        want.schedule_id,
    )
    return actions.add(session, new, now)


def _postpone(
    ctx: Context, session: Session, item: Item, row: ActionRow, busy: str, now: datetime
) -> str:
    """The stop guard: wait for quiet, each tick, for the schedule's grace; then skip."""
    want = item.want
    assert want is not None
    if now - row.created_at >= want.grace:
        reason = f"busy at sleep time: {busy}; this window is skipped"
        actions.finish(
            session,
            row,
            State.SKIPPED,
            now,
            reason=reason,
            holds_until=want.until or now + timedelta(days=1),
        )
        _audit(session, row, now, "action.skipped", {})
        _tell(ctx, item, row, "skipped")
        return "skipped"
    first = row.next_attempt_at is None
    row.reason = f"postponed: {busy}"
    row.next_attempt_at = now + timedelta(seconds=ctx.settings.reconcile_interval_seconds)
    if first:
        _audit(session, row, now, "action.postponed", {})
    return "postponed"


def _action_lease(ctx: Context, item: Item) -> timedelta:
    """Long enough for the provider's longest stop or start, and some slack."""
    return timedelta(seconds=provider(ctx, item.provider).power_call_seconds + 60)


def _call(ctx: Context, owner: str, item: Item, action_id: int, kind: str) -> str:
    cloud = provider(ctx, item.provider)
    error: ProviderError | None = None
    try:
        cloud.set_power(item.account, item.unit, awake=kind == START)
    except ProviderError as exc:
        error = exc
    now = ctx.clock()
    with transaction(ctx.sessions) as session:
        row = session.get(ActionRow, action_id)
        if row is None or row.lease_owner != owner or row.state != State.IN_FLIGHT:
            log.warning("an action's claim was lost while it ran", extra={"action": action_id})
            return "lost"
        result = _settle(ctx, session, row, error, now)
        _tell(ctx, item, row, result)
    return result


def _settle(
    ctx: Context, session: Session, row: ActionRow, error: ProviderError | None, now: datetime
) -> str:
    if error is None:
        actions.finish(session, row, State.DONE, now)
        _audit(session, row, now, "action.done", {})
        return "done"
    detail = {"error": error.code, "message": error.message}
    if error.busy:  # waited out like a transition: never a failure, whatever the attempts
        again = row.error_code == error.code  # said once per wait, not at every look
        at = now + min(backoff(row.attempts), MAX_BUSY_WAIT)
        actions.retry_later(session, row, at, error.code, error.message)
        if not again:
            _audit(session, row, now, "action.retry", detail)
        return "retry"
    if error.retryable and row.attempts < ctx.settings.action_max_attempts:
        actions.retry_later(session, row, now + backoff(row.attempts), error.code, error.message)
        _audit(session, row, now, "action.retry", detail)
        return "retry"
    row.error_code, row.error_message = error.code, error.message[: actions.MAX_ERROR_CHARS]
    actions.finish(session, row, State.FAILED, now, holds_until=now + MAX_BACKOFF)
    _audit(session, row, now, "action.failed", detail)
    return "failed"


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after the 1st, 2nd, 3rd ... failed attempt, at most 30."""
    delay: timedelta = FIRST_BACKOFF * 2 ** max(attempts - 1, 0)
    return min(delay, MAX_BACKOFF)


def _audit(
    session: Session, row: ActionRow, now: datetime, action: str, extra: Mapping[str, object]
) -> None:
    detail = {
        "action_id": row.id,
        "kind": row.kind,
        "reason": row.reason,
        "schedule_id": row.schedule_id,
        **extra,
    }
    events.record(session, now, row.actor, action, ("instance", row.instance_id), detail)


def _tell(ctx: Context, item: Item, row: ActionRow, outcome: str) -> None:
    """Count the outcome; a final one (not a retry to come) also goes to the webhooks."""
    if outcome == "retry":
        ACTIONS.labels(row.kind, outcome).inc()
        return
    event = notify.ActionEvent(
        instance=item.name,
        action=row.kind,
        outcome=outcome,
        reason=row.reason,
        actor=row.actor,
        at=row.finished_at or row.created_at,
        instance_id=item.instance_id,
        unit="cluster" if item.unit.cluster else "instance",
        provider=item.provider,
        region=item.unit.scope,
        error=row.error_message if outcome == "failed" else None,
    )
    notify.action(ctx, event)
