"""A person's override, as the API, the CLI and the instance page ask for it: until when, in
words they can check, and what the instance's schedule panel shows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dbsnooze.errors import Unprocessable
from dbsnooze.schedules.rules import desired_at, transitions
from dbsnooze.store import actions, overrides, schedules
from dbsnooze.store.schedules import Assignment
from dbsnooze.store.tables import ActionRow

MAX_OVERRIDE = timedelta(days=14)
# Without an end: until the schedule's next change, else these.
DEFAULT_FOR = {True: timedelta(hours=8), False: timedelta(hours=2)}  # asleep, awake
_DURATION = re.compile(r"^(?:(\d{1,3})d)?(?:(\d{1,4})h)?(?:(\d{1,5})m)?$")
DURATION_PATTERN = r"^(\d{1,3}d)?(\d{1,4}h)?(\d{1,5}m)?$"


def parse_duration(text: str) -> timedelta:
    """ "10m", "2h", "1d", "1h30m" as a span; anything else is a 422."""
    found = _DURATION.match(text.strip())
    if not text.strip() or found is None:
        raise Unprocessable("bad_duration", f"{text!r} is not a duration like 10m, 2h or 1d")
    days, hours, minutes = (int(part or 0) for part in found.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


@dataclass(frozen=True, slots=True)
class Ends:
    until: datetime
    why: str  # "for 2h", "until the schedule's next wake", "default 8 h"


def ends(
    assignment: Assignment | None,
    asleep: bool,
    now: datetime,
    until: datetime | None = None,
    duration: timedelta | None = None,
) -> Ends:
    """When an override asked for now ends, and why then."""
    if until is not None and duration is not None:
        raise Unprocessable("until_or_duration", "give an end time or a duration, not both")
    if duration is not None:
        found = Ends(now + duration, f"for {_words(duration)}")
    elif until is not None:
        found = Ends(until, "as asked")
    else:
        found = _natural_end(assignment, asleep, now)
    if found.until <= now:
        raise Unprocessable("bad_until", "an override must end in the future")
    if found.until - now > MAX_OVERRIDE:
        raise Unprocessable("bad_until", f"an override lasts at most {MAX_OVERRIDE.days} days")
    return found


def _natural_end(assignment: Assignment | None, asleep: bool, now: datetime) -> Ends:
    if assignment is not None:
        for change in transitions(assignment.spec, now, now + MAX_OVERRIDE):
            if change.asleep != asleep:
                word = "wake" if asleep else "sleep"
                return Ends(change.at, f"until the schedule's next {word}")
    span = DEFAULT_FOR[asleep]
    return Ends(now + span, f"the default {_words(span)} (no schedule says otherwise)")


def _words(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
    ]
    return "".join(parts) or "0m"


def put(
    session: Session,
    instance_id: int,
    asleep: bool,
    who: str,
    now: datetime,
    until: datetime | None = None,
    duration: timedelta | None = None,
) -> tuple[overrides.Override, str]:
    """Record the override; it and why it ends when it does."""
    assignment = schedules.assignments(session, [instance_id]).get(instance_id)
    end = ends(assignment, asleep, now, until, duration)
    state = overrides.ASLEEP if asleep else overrides.AWAKE
    return overrides.put(session, instance_id, state, end.until, who, now), end.why


@dataclass(frozen=True, slots=True)
class Panel:
    """What the instance page's schedule panel shows."""

    schedule: Assignment | None
    override: overrides.Override | None
    asleep_wanted: bool | None  # None: nothing wants anything of it
    next_change: datetime | None
    next_kind: str | None  # stop | start
    latest: ActionRow | None


def panel(session: Session, instance_id: int, now: datetime) -> Panel:
    assignment = schedules.assignments(session, [instance_id]).get(instance_id)
    override = overrides.get(session, instance_id, now)
    rows, _ = actions.page(session, actions.ActionFilter(instance_id=instance_id), 1, 0)
    latest = rows[0] if rows else None
    if override is not None:
        return Panel(
            assignment,
            override,
            override.asleep,
            override.until,
            _after_override(assignment, override),
            latest,
        )
    if assignment is None or not assignment.enabled:
        return Panel(assignment, None, None, None, None, latest)
    desired = desired_at(assignment.spec, now)
    kind = "start" if desired.asleep else "stop"
    return Panel(assignment, None, desired.asleep, desired.until, kind, latest)


def _after_override(assignment: Assignment | None, override: overrides.Override) -> str | None:
    if assignment is None:
        return "start" if override.asleep else None
    after = desired_at(assignment.spec, override.until)
    if after.asleep == override.asleep:
        return None
    return "stop" if after.asleep else "start"
