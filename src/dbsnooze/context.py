"""The running program's parts, built once at the edge and passed down: no globals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dbsnooze.clock import Clock, utc_now
from dbsnooze.collect.throttle import Buckets
from dbsnooze.config import Settings
from dbsnooze.crypto import SecretBox, secret_box
from dbsnooze.providers.aws.session import ClientCache
from dbsnooze.providers.gcp.session import GcpSessions
from dbsnooze.store.db import make_engine, session_factory
from dbsnooze.store.outage import OutageLog, watch

if TYPE_CHECKING:
    from dbsnooze.notify import ActionEvent


@dataclass
class Context:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    box: SecretBox
    clients: ClientCache  # AWS: boto3 clients per account, region and service
    buckets: Buckets
    gcp: GcpSessions  # GCP: one authorized session per account
    clock: Clock = field(default=utc_now)
    wake_worker: Callable[[], None] = field(default=lambda: None)  # set when a worker runs
    # set when the recommender runs: a finished backfill makes its instances' analysis stale
    wake_analysis: Callable[[], None] = field(default=lambda: None)
    outage: OutageLog = field(default_factory=OutageLog)  # the store's reachability, logged
    # set while a notifier runs: hands an action event to the webhooks (see notify.py)
    notify: Callable[[ActionEvent], None] = field(default=lambda _: None)

    def close(self) -> None:
        self.engine.dispose()


def build_context(settings: Settings, clock: Clock = utc_now) -> Context:
    engine = make_engine(settings.database_url)
    outage = OutageLog(clock)
    watch(engine, outage)
    return Context(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        box=secret_box(settings),
        clients=ClientCache(settings),
        buckets=Buckets(settings.cloud_requests_per_second, settings.cloud_requests_burst),
        gcp=GcpSessions.from_settings(settings),
        clock=clock,
        outage=outage,
    )
