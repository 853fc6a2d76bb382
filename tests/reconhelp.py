"""Shared by the reconciler tests, its world: moto over HTTP behind the stateful RDS layer
(transitions, refusals, the 7-day restart) and the fault proxy (request log, faults), a store,
an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from dbsnooze.config import Settings
from dbsnooze.context import Context, build_context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.store.tables import ActionRow, EventRow
from faultproxy import FaultProxy
from metricshelp import Clock, register
from migrated import migrate
from rdslayer import RdsLayer

REGION = "us-east-1"
START = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)  # a Wednesday


@dataclass
class World:
    ctx: Context
    clock: Clock
    layer: RdsLayer
    proxy: FaultProxy
    moto: Emulator

    def instance(self, name: str, **described: Any) -> int:
        """An RDS instance in moto and in the store, as discovery would have stored it."""
        self.moto.client("rds", REGION).create_db_instance(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.t3.micro",
            Engine=described.get("engine", "postgres"),
            AllocatedStorage=20,
            MasterUsername="admin_user",
            MasterUserPassword="not-a-real-password",
        )
        return register(self.ctx, self.proxy.url, [name], **described)[name]

    def calls(self, *operations: str) -> list[str]:
        """Identifiers of the stop/start requests that reached the cloud, in order."""
        wanted = operations or ("StopDBInstance", "StartDBInstance")
        return [
            f"{r.operation}:{r.params.get('DBInstanceIdentifier')}"
            for r in self.proxy.forwarded(*wanted)
        ]

    def status(self, name: str) -> str:
        (item,) = self.moto.client("rds", REGION).describe_db_instances(DBInstanceIdentifier=name)[
            "DBInstances"
        ]
        return str(self.layer.status(name) or item["DBInstanceStatus"])

    def actions(self, instance_id: int | None = None) -> list[ActionRow]:
        with self.ctx.sessions() as session:
            query = select(ActionRow).order_by(ActionRow.id)
            if instance_id is not None:
                query = query.where(ActionRow.instance_id == instance_id)
            rows = list(session.scalars(query))
            session.expunge_all()
            return rows

    def events(self, prefix: str = "action.") -> list[tuple[str, str, str]]:
        with self.ctx.sessions() as session:
            rows = session.scalars(select(EventRow).order_by(EventRow.id))
            return [
                (r.action, r.actor, str(r.detail.get("reason", "")))
                for r in rows
                if r.action.startswith(prefix)
            ]


@contextmanager
def world_of(settings: Settings, moto: Emulator) -> Iterator[World]:
    clock = Clock(START)
    with RdsLayer(moto.endpoint_url, clock) as layer, FaultProxy(layer.url) as proxy:
        ctx = build_context(settings.model_copy(update={"cloud_max_attempts": 2}), clock)
        migrate(ctx.engine)
        try:
            yield World(ctx, clock, layer, proxy, moto)
        finally:
            ctx.close()
