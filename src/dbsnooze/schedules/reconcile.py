"""The reconciler (SPEC §11): every minute, under the store lease "reconciler", it compares what
each scheduled or overridden instance should be with what the cloud says, and acts on the
difference. Decisions are `decide.decide`'s (pure); this module gathers their inputs, reads
power and recent activity in batches per account and scope, and hands each decision to
`act.carry_out`. The one open action per instance is the claim (a unique index), taken with a
lease, so two workers never both call the cloud for one instance; a worker that dies mid-call
leaves an in-flight action whose lease runs out, and the next pass finishes it from the cloud's
state (the request took effect) or makes it again (it did not).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dbsnooze.analysis.eligibility import why_not_stoppable
from dbsnooze.analysis.idle import HourClass, classify_hour
from dbsnooze.analysis.service import stop_facts
from dbsnooze.context import Context
from dbsnooze.domain import CloudAccount, Power, PowerReading, ProviderError
from dbsnooze.providers.registry import provider
from dbsnooze.schedules.act import Item, carry_out
from dbsnooze.schedules.decide import (
    START,
    STOP,
    Decision,
    Done,
    Facts,
    OpenAction,
    Source,
    Verdict,
    Want,
    decide,
)
from dbsnooze.schedules.wants import schedule_wants
from dbsnooze.store import accounts as account_store
from dbsnooze.store import actions, leases, overrides, thresholds
from dbsnooze.store import instances as instance_store
from dbsnooze.store.actions import State
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import ActionRow, InstanceRow

log = logging.getLogger(__name__)

LEASE = "reconciler"
RENEW_AFTER = 0.1  # of the lease's hold: how often a long pass renews it

# Schedules' wishes for these instances (all scheduled ones when None), at a moment.
ScheduleWants = Callable[[Session, datetime, Sequence[int] | None], dict[int, Want]]


@dataclass(frozen=True, slots=True)
class Outcome:
    instance_id: int
    name: str
    verdict: str
    reason: str
    kind: str | None = None
    result: str | None = None  # done | retry | failed | postponed | skipped | dry_run | lost


@dataclass
class PassReport:
    outcomes: list[Outcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def acted(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.result == "done"]


def tick(ctx: Context, owner: str, wants: ScheduleWants = schedule_wants) -> PassReport | None:
    """One pass by whichever worker holds the lease; None when another holds it."""
    hold = timedelta(seconds=ctx.settings.reconcile_interval_seconds * 0.9)
    now = ctx.clock()
    with transaction(ctx.sessions) as session:
        if not leases.acquire(session, LEASE, owner, now, now + hold):
            return None
    lease = _Lease(ctx, owner, hold, now)
    report = run_pass(ctx, owner, wants, still_mine=lease.still_mine)
    for error in report.errors:  # ProviderError messages: scrubbed, no secret
        log.warning("reconciler: %s", error)
    return report


@dataclass
class _Lease:
    """The pass's hold on the lease, checked before each action so that a slow pass never
    overlaps the next worker's. Nobody can take the lease before `renewed + hold`, so the store
    is asked again (and the hold extended) only once a tenth of it has passed: every action still
    starts with at least nine tenths of a hold ahead, without a transaction of its own."""

    ctx: Context
    owner: str
    hold: timedelta
    renewed: datetime

    def still_mine(self) -> bool:
        moment = self.ctx.clock()
        if moment - self.renewed < self.hold * RENEW_AFTER:
            return True
        with transaction(self.ctx.sessions) as session:
            if not leases.renew(session, LEASE, self.owner, moment, moment + self.hold):
                return False
        self.renewed = moment
        return True


def run_pass(
    ctx: Context,
    owner: str,
    wants: ScheduleWants = schedule_wants,
    only: Sequence[int] | None = None,
    still_mine: Callable[[], bool] = lambda: True,
) -> PassReport:
    """Reconcile every scheduled or overridden instance (or just `only`) once; before each
    action `still_mine()` renews the pass's lease, and a pass that lost it stops there."""
    report = PassReport()
    now = ctx.clock()
    with transaction(ctx.sessions) as session:
        overrides.expire(session, now)
    with ctx.sessions() as session:
        items = _gather(ctx, session, now, wants, only)
        rules = _rules(session, items)
    readings = _read_power(ctx, items, report)
    decisions = {
        item.instance_id: decide(item.want, _facts(item, readings, now))
        for item in items
        if item.instance_id in readings
    }
    guarded = [i for i in items if _guarded(decisions.get(i.instance_id, _NONE))]
    busy = _busy(ctx, guarded, rules, report)
    for item in items:
        decision = decisions.get(item.instance_id)
        if decision is None:
            continue
        if _writes(decision) and not still_mine():
            report.errors.append(f"the {LEASE} lease ran out mid-pass: another worker goes on")
            break
        result = carry_out(ctx, owner, item, decision, busy.get(item.instance_id))
        report.outcomes.append(
            Outcome(
                item.instance_id,
                item.name,
                decision.verdict.value,
                decision.reason,
                decision.kind,
                result,
            )
        )
    return report


_NONE = Decision(Verdict.NOTHING, "")
_QUIET = (Verdict.NOTHING, Verdict.WAIT)


def _writes(decision: Decision) -> bool:
    """Whether carrying it out records or calls anything (what the pass's lease guards)."""
    return decision.verdict not in _QUIET or decision.cancel_open is not None


def _guarded(decision: Decision) -> bool:
    """A stop the guard checks now (one whose retry is not due yet costs no activity read)."""
    return decision.guard and decision.verdict is Verdict.ACT


# --- gathering --------------------------------------------------------------------------------


def _gather(
    ctx: Context, session: Session, now: datetime, wants: ScheduleWants, only: Sequence[int] | None
) -> list[Item]:
    scheduled = wants(session, now, only)
    kept = overrides.active(session, now, only)
    restore = [i for i in actions.stopped_by_a_person(session) if only is None or i in only]
    pending = actions.open_actions(session, only) if only is not None else _all_open(session)
    ids = sorted({*scheduled, *kept, *restore, *pending})
    if not ids:
        return []
    rows = list(session.scalars(select(InstanceRow).where(InstanceRow.id.in_(ids))))
    done = actions.last_done(session, ids)
    holds = actions.holding(session, ids, now)
    accounts = _accounts(ctx, session, {r.account_id for r in rows})
    items = []
    for row in rows:
        if row.deleted_at is not None or row.account_id not in accounts:
            continue
        want = _want(row.id, scheduled, kept, done, ctx.settings.dry_run)
        items.append(_item(row, accounts[row.account_id], want, pending, done, holds))
    return items


def _rules(session: Session, items: Sequence[Item]) -> dict[int, thresholds.InstanceRule]:
    """Each item's idle rule for the stop guard; a cluster, which has none of its own, is judged
    by the strictest of its stored members' rules, never by looser ones than any member's."""
    ids = [item.instance_id for item in items]
    rows = (session.get(InstanceRow, item.instance_id) for item in items if item.unit.cluster)
    clusters = [row for row in rows if row is not None]  # loaded by _gather: no query
    members = instance_store.members_by_cluster(session, clusters)
    member_ids = [m.id for found in members.values() for m in found]
    rules = thresholds.read(session.connection(), ids + member_ids)
    for cluster in clusters:
        found = members.get(cluster.id, [])
        rules[cluster.id] = thresholds.strictest(rules[m.id] for m in found)
    return {i: rules[i] for i in ids}


def _all_open(session: Session) -> dict[int, ActionRow]:
    query = select(ActionRow).where(ActionRow.state.in_(actions.OPEN))
    return {row.instance_id: row for row in session.scalars(query)}


def _accounts(ctx: Context, session: Session, ids: set[int]) -> dict[int, CloudAccount]:
    return {
        row.id: account_store.to_domain(row, ctx.box)
        for row in account_store.all_rows(session)
        if row.id in ids
    }


def _want(
    instance_id: int,
    scheduled: dict[int, Want],
    kept: dict[int, overrides.Override],
    done: dict[int, ActionRow],
    dry_run: bool,
) -> Want | None:
    override = kept.get(instance_id)
    if override is not None:
        return Want(
            override.asleep,
            Source.OVERRIDE,
            override.created_by,
            override.until,
            override.created_at,
            dry_run=dry_run,
        )
    last = done.get(instance_id)
    restore = None
    if last is not None and last.kind == STOP and last.actor.startswith("user:"):
        restore = Want(False, Source.RESTORE, last.actor, dry_run=dry_run)
    want = scheduled.get(instance_id)
    if want is None:
        return restore
    if restore is not None and want.dry_run and not want.asleep:
        return restore  # a schedule in dry run only watches: a person's stop that ended is undone
    return want if not dry_run or want.dry_run else _dry(want)


def _dry(want: Want) -> Want:
    return Want(
        want.asleep,
        want.source,
        want.actor,
        want.until,
        want.since,
        want.schedule_id,
        want.schedule_name,
        want.enforce,
        True,
        want.grace,
    )


def _item(
    row: InstanceRow,
    account: CloudAccount,
    want: Want | None,
    pending: dict[int, ActionRow],
    done: dict[int, ActionRow],
    holds: dict[tuple[int, str], ActionRow],
) -> Item:
    last = done.get(row.id)
    held = frozenset(
        kind
        for kind in (STOP, START)
        if (hold := holds.get((row.id, kind))) is not None and _holds(hold, want)
    )
    return Item(
        instance_id=row.id,
        name=row.provider_id,
        account=account,
        provider=row.provider,
        unit=instance_store.power_unit(row),
        want=want,
        ineligible=why_not_stoppable(stop_facts(row)),
        open=pending.get(row.id),
        last_done=Done(last.kind, last.finished_at or last.created_at, last.actor)
        if last
        else None,
        held=held,
    )


def _holds(hold: ActionRow, want: Want | None) -> bool:
    """An earlier skip holds the same wisher; a dry run's "would" holds only while still dry
    (a schedule switched to live acts in the window it is in)."""
    if want is None or hold.actor != want.actor:
        return False
    return want.dry_run or hold.state != State.DRY_RUN


def _facts(item: Item, readings: dict[int, PowerReading], now: datetime) -> Facts:
    row = item.open
    open_ = None
    if row is not None:
        in_flight = row.state == State.IN_FLIGHT
        open_ = OpenAction(
            id=row.id,
            kind=row.kind,
            in_flight=in_flight,
            lease_alive=in_flight and row.lease_until is not None and row.lease_until > now,
            due=row.next_attempt_at is None or row.next_attempt_at <= now,
            created_at=row.created_at,
        )
    return Facts(
        now, readings[item.instance_id].state, item.ineligible, open_, item.last_done, item.held
    )


# --- the cloud, in batches --------------------------------------------------------------------


def _groups(items: Sequence[Item]) -> dict[tuple[int, str], list[Item]]:
    grouped: dict[tuple[int, str], list[Item]] = defaultdict(list)
    for item in items:
        grouped[item.group].append(item)
    return grouped


def _read_power(ctx: Context, items: Sequence[Item], report: PassReport) -> dict[int, PowerReading]:
    found: dict[int, PowerReading] = {}
    for (_, scope), group in _groups(items).items():
        first = group[0]
        try:
            read = provider(ctx, first.provider).read_power(
                first.account, scope, [i.unit for i in group]
            )
        except ProviderError as exc:
            report.errors.append(f"reading power in {first.account.name} {scope}: {exc.message}")
            continue
        for item in group:
            found[item.instance_id] = read.get(item.unit, PowerReading(Power.GONE, "not found"))
    return found


def _busy(
    ctx: Context,
    items: Sequence[Item],
    rules: dict[int, thresholds.InstanceRule],
    report: PassReport,
) -> dict[int, str | None]:
    """For the stop guard: why each instance counts as busy now (None: it is idle)."""
    minutes = ctx.settings.stop_guard_minutes
    found: dict[int, str | None] = {}
    for (_, scope), group in _groups(items).items():
        first = group[0]
        try:
            activity = provider(ctx, first.provider).recent_activity(
                first.account, scope, [i.unit for i in group], minutes
            )
        except ProviderError as exc:
            report.errors.append(f"reading activity in {first.account.name} {scope}: {exc.message}")
            found.update(
                dict.fromkeys((i.instance_id for i in group), "its activity could not be read")
            )
            continue
        for item in group:
            found[item.instance_id] = _active(
                activity.get(item.unit, {}), rules[item.instance_id], minutes
            )
    return found


def _active(values: dict[str, float], rule: thresholds.InstanceRule, minutes: int) -> str | None:
    read, write = values.get("read_iops"), values.get("write_iops")
    iops = read + write if read is not None and write is not None else None
    found, why = classify_hour(
        values.get("cpu"), values.get("connections"), iops, False, rule.thresholds, rule.uses_iops
    )
    if found is HourClass.ACTIVE:
        return f"active in the last {minutes} minutes ({why.value})"
    return None
