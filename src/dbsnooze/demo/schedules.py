"""The demo's schedules: each development instance's sleep recommendation applied, in dry run.

Recommendations exist only once the discovered fleet's history is backfilled and analysed, so
the demo asks every few seconds; an instance is handled once (a schedule a person deletes is not
made again). Each schedule shows "Switch to live" on its page: then the reconciler really stops
and starts the instance in the emulator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from dbsnooze.analysis import decisions
from dbsnooze.analysis.recommend import Kind
from dbsnooze.context import Context
from dbsnooze.errors import DbsnoozeError
from dbsnooze.store import recommendations
from dbsnooze.store import schedules as schedule_store
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import InstanceRow

log = logging.getLogger(__name__)
ACTOR = "demo"
DEVELOPMENT = ("env", "dev")


@dataclass
class DevelopmentSchedules:
    """Applies development instances' recommendations as they appear."""

    ctx: Context
    say: Callable[[str], object] = print
    handled: set[int] = field(default_factory=set)
    applied: list[str] = field(default_factory=list)

    def tick(self) -> None:
        for instance_id in self._waiting():
            self._apply(instance_id)

    def _waiting(self) -> list[int]:
        key, value = DEVELOPMENT
        with self.ctx.sessions() as session:
            rows = session.scalars(select(InstanceRow).where(InstanceRow.deleted_at.is_(None)))
            return [r.id for r in rows if r.tags.get(key) == value and r.id not in self.handled]

    def _apply(self, instance_id: int) -> None:
        now = self.ctx.clock()
        with transaction(self.ctx.sessions) as session:
            found = recommendations.of_instance(session, instance_id)
            if found is None or found.kind == Kind.NOT_ENOUGH_HISTORY.value:
                return  # not analysed with its history yet (backfill runs): asked again
            self.handled.add(instance_id)
            if found.kind != Kind.SLEEP.value or schedule_store.schedules_of(session, instance_id):
                return
            try:
                decisions.apply(session, found.id, ACTOR, now)
            except DbsnoozeError as exc:
                log.warning("demo schedule not applied: %s", exc.message)
                return
            name = schedule_store.schedules_of(session, instance_id)[0].name
        self.applied.append(name)
        self.say(f"applied {name!r} in dry run: /schedules to switch it live")
