"""Schedules and which instance each one holds (SPEC §11).

An instance gets a schedule explicitly (`schedule_assignments`) or by a schedule's selector.
It has at most one: a write that would give an instance a second raises `schedule_conflict`
naming both (writes take the schedules' lock, so two at once cannot both pass the check); an
instance discovered later that two schedules claim is left out of `assignments` and reported
by `conflicts`. The opt-out tag always wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dbsnooze.errors import Conflict, NotFound, Unprocessable
from dbsnooze.schedules.check import check
from dbsnooze.schedules.spec import ScheduleSpec
from dbsnooze.store import locks
from dbsnooze.store.schedule_values import (
    Selector,
    Settings,
    settings_of,
    spec_of,
    window_json,
    window_of,
)
from dbsnooze.store.tables import InstanceRow, ScheduleAssignmentRow, ScheduleRow

__all__ = [
    "Assignment",
    "InstanceConflict",
    "Member",
    "Selector",
    "Settings",
    "assignments",
    "conflicts",
    "settings_of",
    "spec_of",
    "window_json",
    "window_of",
]

OPT_OUT_TAG = ("dbsnooze:schedule", "off")


@dataclass(frozen=True)
class Assignment:
    """The one schedule an instance follows, as the reconciler reads it."""

    schedule_id: int
    name: str
    spec: ScheduleSpec
    enabled: bool
    dry_run: bool
    enforce: bool
    grace_minutes: int


@dataclass(frozen=True, slots=True)
class InstanceConflict:
    """An instance two or more schedules claim: shown, never acted on."""

    instance_id: int
    instance_name: str
    schedule_ids: tuple[int, ...]
    schedule_names: tuple[str, ...]

    @property
    def message(self) -> str:
        names = " and ".join(repr(n) for n in self.schedule_names)
        return f"instance {self.instance_name!r} would follow two schedules: {names}"


def assignment_of(row: ScheduleRow) -> Assignment:
    return Assignment(
        schedule_id=row.id,
        name=row.name,
        spec=spec_of(row),
        enabled=row.enabled,
        dry_run=row.dry_run,
        enforce=row.enforce,
        grace_minutes=row.guard_grace_minutes,
    )


def _write(row: ScheduleRow, settings: Settings) -> None:
    spec = check(settings.spec)
    if settings.grace_minutes not in range(0, 24 * 60 + 1):
        raise Unprocessable("bad_grace_minutes", "guard_grace_minutes is 0 to 1440")
    row.timezone = spec.timezone
    row.windows = [window_json(w) for w in spec.windows]
    row.sleep_cron, row.wake_cron = spec.sleep_cron or None, spec.wake_cron or None
    row.skip_dates = sorted({day.isoformat() for day in spec.skip_dates})
    row.holidays_country = spec.holidays_country or None
    row.holidays_subdivision = spec.holidays_subdivision or None
    row.enabled, row.dry_run, row.enforce = settings.enabled, settings.dry_run, settings.enforce
    row.guard_grace_minutes = settings.grace_minutes
    row.selector = settings.selector.as_json()


# -- reading


def get(session: Session, schedule_id: int) -> ScheduleRow | None:
    return session.get(ScheduleRow, schedule_id)


def require(session: Session, schedule_id: int) -> ScheduleRow:
    row = get(session, schedule_id)
    if row is None:
        raise NotFound("schedule_not_found", f"no schedule with id {schedule_id}")
    return row


def by_name(session: Session, name: str) -> ScheduleRow | None:
    return session.scalar(select(ScheduleRow).where(ScheduleRow.name == name))


def by_origin(session: Session, instance_id: int) -> ScheduleRow | None:
    """The (first) schedule made from this instance's applied sleep recommendation."""
    query = select(ScheduleRow).where(ScheduleRow.origin_instance_id == instance_id)
    return session.scalar(query.order_by(ScheduleRow.id).limit(1))


def listing(session: Session) -> list[ScheduleRow]:
    return list(session.scalars(select(ScheduleRow).order_by(ScheduleRow.name)))


def explicit_instances(session: Session, schedule_id: int) -> list[int]:
    query = select(ScheduleAssignmentRow.instance_id).where(
        ScheduleAssignmentRow.schedule_id == schedule_id
    )
    return sorted(session.scalars(query))


def opted_out(row: InstanceRow) -> bool:
    key, value = OPT_OUT_TAG
    return str((row.tags or {}).get(key, "")).strip().lower() == value


# -- writing


def lock(session: Session) -> None:
    """Hold the schedules' write lock until the transaction ends, then read afresh.

    Whether a write gives an instance a second schedule (or takes a name) depends on every
    schedule's selector and assignments: two writes at once, each checking without the other's,
    would both pass. The second waits here until the first has committed, then reads what it
    wrote (on SQLite the lock is the database's write lock: see `store/locks.py`).
    """
    locks.hold(session, locks.SCHEDULES)
    session.flush()
    session.expire_all()  # rows this session read before waiting may predate the other write


def create(
    session: Session,
    name: str,
    settings: Settings,
    actor: str,
    now: datetime,
    instance_ids: Iterable[int] = (),
    origin_instance_id: int | None = None,
) -> ScheduleRow:
    """A new schedule, with the instances given to it explicitly; `origin_instance_id`: the
    instance whose applied recommendation it comes from."""
    lock(session)
    if by_name(session, name) is not None:
        raise Conflict("schedule_name_taken", f"a schedule named {name!r} exists")
    before = _claims(session)
    row = ScheduleRow(
        name=name,
        created_at=now,
        created_by=actor,
        updated_at=now,
        origin_instance_id=origin_instance_id,
    )
    _write(row, settings)
    session.add(row)
    session.flush()
    _add_explicit(session, row.id, instance_ids)
    _refuse_new_conflicts(session, before)
    return row


def update(
    session: Session, schedule_id: int, now: datetime, name: str | None = None, **changes: Any
) -> ScheduleRow:
    """Change the given parts of a schedule: `name`, or any field of `Settings` (`spec`,
    `enabled`, `dry_run`, `enforce`, `grace_minutes`, `selector`)."""
    lock(session)
    row = require(session, schedule_id)
    before = _claims(session)
    if name is not None and name != row.name:
        if by_name(session, name) is not None:
            raise Conflict("schedule_name_taken", f"a schedule named {name!r} exists")
        row.name = name
    _write(row, replace(settings_of(row), **changes))
    row.updated_at = now
    session.flush()
    _refuse_new_conflicts(session, before)
    return row


def set_dry_run(session: Session, schedule_id: int, dry_run: bool, now: datetime) -> ScheduleRow:
    return update(session, schedule_id, now, dry_run=dry_run)


def remove(session: Session, schedule_id: int) -> None:
    row = require(session, schedule_id)
    session.execute(
        delete(ScheduleAssignmentRow).where(ScheduleAssignmentRow.schedule_id == schedule_id)
    )
    session.delete(row)
    session.flush()


def assign(session: Session, schedule_id: int, instance_ids: Iterable[int]) -> list[int]:
    """Give the instances to the schedule explicitly; the ids newly given."""
    lock(session)
    require(session, schedule_id)
    before = _claims(session)
    added = _add_explicit(session, schedule_id, instance_ids)
    _refuse_new_conflicts(session, before)
    return added


def unassign(session: Session, schedule_id: int, instance_ids: Iterable[int]) -> list[int]:
    """Take explicit assignments back (a selector may still match); the ids taken back."""
    require(session, schedule_id)
    wanted = set(instance_ids)
    rows = session.scalars(
        select(ScheduleAssignmentRow).where(
            ScheduleAssignmentRow.schedule_id == schedule_id,
            ScheduleAssignmentRow.instance_id.in_(wanted),
        )
    )
    removed = []
    for row in rows:
        removed.append(row.instance_id)
        session.delete(row)
    session.flush()
    return sorted(removed)


def _add_explicit(session: Session, schedule_id: int, instance_ids: Iterable[int]) -> list[int]:
    added = []
    for instance_id in sorted(set(instance_ids)):
        instance = session.get(InstanceRow, instance_id)
        if instance is None or instance.deleted_at is not None:
            raise NotFound("instance_not_found", f"no instance with id {instance_id}")
        current = session.get(ScheduleAssignmentRow, instance_id)
        if current is not None and current.schedule_id != schedule_id:
            other = require(session, current.schedule_id)
            mine = require(session, schedule_id)
            raise _conflict(
                InstanceConflict(
                    instance_id, instance.provider_id, (other.id, mine.id), (other.name, mine.name)
                )
            )
        if current is None:
            session.add(ScheduleAssignmentRow(instance_id=instance_id, schedule_id=schedule_id))
            added.append(instance_id)
    session.flush()
    return added


# -- resolution


@dataclass(frozen=True, slots=True)
class _Claim:
    instance: InstanceRow
    schedules: tuple[ScheduleRow, ...]  # in id order


def _claims(session: Session, instance_ids: Sequence[int] | None = None) -> dict[int, _Claim]:
    """Every live, not opted-out instance that at least one schedule claims."""
    schedules = {row.id: row for row in session.scalars(select(ScheduleRow))}
    if not schedules:
        return {}
    explicit: dict[int, int] = {
        instance_id: schedule_id
        for instance_id, schedule_id in session.execute(
            select(ScheduleAssignmentRow.instance_id, ScheduleAssignmentRow.schedule_id)
        )
    }
    selectors = [(row, Selector.from_json(row.selector)) for row in schedules.values()]
    selectors = [(row, sel) for row, sel in selectors if not sel.empty]
    query = select(InstanceRow).where(InstanceRow.deleted_at.is_(None))
    if instance_ids is not None:
        query = query.where(InstanceRow.id.in_(list(instance_ids)))
    elif not selectors:
        query = query.where(InstanceRow.id.in_(list(explicit)))
    claims = {}
    for instance in session.scalars(query):
        if opted_out(instance):
            continue
        ids = {row.id for row, sel in selectors if sel.matches(instance)}
        if instance.id in explicit:
            ids.add(explicit[instance.id])
        if ids:
            claims[instance.id] = _Claim(instance, tuple(schedules[i] for i in sorted(ids)))
    return claims


def assignments(
    session: Session, instance_ids: Sequence[int] | None = None
) -> dict[int, Assignment]:
    """Instance id -> its one schedule (opted-out and conflicted instances absent)."""
    return {
        instance_id: assignment_of(claim.schedules[0])
        for instance_id, claim in _claims(session, instance_ids).items()
        if len(claim.schedules) == 1
    }


@dataclass(frozen=True, slots=True)
class Member:
    """An instance a schedule claims, and whether it follows it."""

    instance: InstanceRow
    status: str  # assigned | opted_out | conflict
    reason: str


def members(session: Session, schedule_id: int) -> list[Member]:
    """The instances the schedule claims (explicitly or by selector), by name; opted-out and
    conflicted ones included with the reason they do not follow it."""
    row = require(session, schedule_id)
    selector = Selector.from_json(row.selector)
    explicit = set(explicit_instances(session, schedule_id))
    query = select(InstanceRow).where(InstanceRow.deleted_at.is_(None))
    if selector.empty:
        query = query.where(InstanceRow.id.in_(explicit))
    claimed = [i for i in session.scalars(query) if i.id in explicit or selector.matches(i)]
    claims = _claims(session, [i.id for i in claimed])
    found = []
    for instance in sorted(claimed, key=lambda i: (i.provider_id, i.id)):
        how = "assigned explicitly" if instance.id in explicit else "matched by the selector"
        if opted_out(instance):
            found.append(Member(instance, "opted_out", "tag dbsnooze:schedule=off"))
        elif len(claims[instance.id].schedules) > 1:
            found.append(Member(instance, "conflict", _as_conflict(claims[instance.id]).message))
        else:
            found.append(Member(instance, "assigned", how))
    return found


def schedules_of(session: Session, instance_id: int) -> list[ScheduleRow]:
    """Every schedule that claims the instance (one, or several in conflict; none when it is
    opted out or unclaimed)."""
    claim = _claims(session, [instance_id]).get(instance_id)
    return list(claim.schedules) if claim else []


def conflicts(session: Session) -> list[InstanceConflict]:
    """Instances more than one schedule claims, by instance id."""
    return [
        _as_conflict(claim)
        for _, claim in sorted(_claims(session).items())
        if len(claim.schedules) > 1
    ]


def _as_conflict(claim: _Claim) -> InstanceConflict:
    return InstanceConflict(
        claim.instance.id,
        claim.instance.provider_id,
        tuple(row.id for row in claim.schedules),
        tuple(row.name for row in claim.schedules),
    )


def _refuse_new_conflicts(session: Session, before: dict[int, _Claim]) -> None:
    """Raise when the write just made gave an instance a second schedule (a conflict that
    was already there, from a later discovery, does not block unrelated edits)."""
    for instance_id, claim in sorted(_claims(session).items()):
        if len(claim.schedules) < 2:
            continue
        had = {row.id for row in before[instance_id].schedules} if instance_id in before else set()
        if {row.id for row in claim.schedules} - had:
            raise _conflict(_as_conflict(claim))


def _conflict(found: InstanceConflict) -> Conflict:
    return Conflict(
        "schedule_conflict",
        found.message,
        instance_id=found.instance_id,
        schedule_ids=list(found.schedule_ids),
        schedule_names=list(found.schedule_names),
    )
