"""Discovery: list every instance of every account and scan unit (AWS region, GCP project),
and make the store match."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from dbsnooze.context import Context
from dbsnooze.crypto import SecretKeyError
from dbsnooze.domain import CloudAccount, RegionResult
from dbsnooze.errors import DbsnoozeError, NotFound
from dbsnooze.providers.registry import provider
from dbsnooze.store import accounts as account_store
from dbsnooze.store import events
from dbsnooze.store import instances as instance_store
from dbsnooze.store.db import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RegionReport:
    account_id: int
    account: str
    region: str  # the scan unit: an AWS region, or a GCP project
    error: str | None = None
    seen: int = 0
    new: int = 0
    updated: int = 0
    deleted: int = 0
    warnings: tuple[str, ...] = ()  # listed in part: what was not, and why


@dataclass(frozen=True, slots=True)
class DiscoveryReport:
    regions: tuple[RegionReport, ...]
    new_instance_ids: tuple[int, ...] = field(default=())

    def totals(self) -> dict[str, Any]:
        keys = ("seen", "new", "updated", "deleted")
        totals: dict[str, Any] = {key: sum(getattr(r, key) for r in self.regions) for key in keys}
        totals["accounts"] = len({r.account_id for r in self.regions})
        totals["regions"] = len(self.regions)
        totals["errors"] = [
            {"account": r.account, "region": r.region, "error": r.error}
            for r in self.regions
            if r.error
        ]
        totals["warnings"] = [
            {"account": r.account, "region": r.region, "warning": warning}
            for r in self.regions
            for warning in r.warnings
        ]
        return totals

    def as_dict(self) -> dict[str, Any]:
        return {"totals": self.totals(), "regions": [asdict(r) for r in self.regions]}


def discover(ctx: Context, actor: str, account_id: int | None = None) -> DiscoveryReport:
    """One discovery run over all accounts (or one); a failing region never stops the others."""
    reports: list[RegionReport] = []
    new_ids: list[list[int]] = []  # per account and scan unit
    for account in _accounts(ctx, account_id, reports):
        cloud = provider(ctx, account.provider)
        for result in cloud.scan(account):
            report, ids = _store_region(ctx, account, result)
            reports.append(report)
            new_ids.extend([ids] if cloud.reads_whole_scope else [[i] for i in ids])
    outcome = DiscoveryReport(tuple(reports), tuple(i for ids in new_ids for i in ids))
    if outcome.new_instance_ids and ctx.settings.auto_backfill:
        _auto_backfill(ctx, [ids for ids in new_ids if ids])
    with transaction(ctx.sessions) as session:
        events.record(session, ctx.clock(), actor, "discovery.run", None, outcome.totals())
    log.info("discovery finished", extra={"totals": outcome.totals()})
    return outcome


def _accounts(
    ctx: Context, account_id: int | None, reports: list[RegionReport]
) -> list[CloudAccount]:
    """Domain accounts to scan; one whose secrets cannot be opened is reported, not fatal."""
    found: list[CloudAccount] = []
    with ctx.sessions() as session:
        rows = account_store.all_rows(session)
        if account_id is not None and not any(row.id == account_id for row in rows):
            raise NotFound("account_not_found", f"no cloud account with id {account_id}")
        for row in rows:
            if account_id is not None and row.id != account_id:
                continue
            try:
                found.append(account_store.to_domain(row, ctx.box))
            except SecretKeyError as exc:
                reports.append(RegionReport(row.id, row.name, "*", error=str(exc)))
    return found


def _store_region(
    ctx: Context, account: CloudAccount, result: RegionResult
) -> tuple[RegionReport, list[int]]:
    if not result.ok:
        log.warning(
            "discovery failed for a region",
            extra={"account": account.name, "region": result.region, "error": result.error},
        )
        return RegionReport(account.id, account.name, result.region, error=result.error), []
    for warning in result.warnings:
        log.warning(
            "discovery listed a region in part",
            extra={"account": account.name, "region": result.region, "warning": warning},
        )
    with transaction(ctx.sessions) as session:
        counts = instance_store.sync_region(
            session,
            (account.id, account.provider.value),
            result.region,
            result.instances,
            ctx.clock(),
            result.unlisted,
        )
    report = RegionReport(
        account.id,
        account.name,
        result.region,
        None,
        counts.seen,
        counts.new,
        counts.updated,
        counts.deleted,
        result.warnings,
    )
    return report, counts.new_ids


def _auto_backfill(ctx: Context, groups: list[list[int]]) -> None:
    """A new instance gets its history at once, so the first screen already shows weeks.

    Each group is one job: one instance (AWS), or a GCP project's new instances, which every
    Cloud Monitoring request answers for together.
    """
    from dbsnooze.jobs.backfill import submit_instances

    days = min(ctx.settings.auto_backfill_days, ctx.settings.backfill_max_days)
    for ids in groups:
        try:
            submit_instances(ctx, ids, days, False, "auto-backfill")
        except DbsnoozeError as exc:  # e.g. a backfill of one of them is already queued
            log.info("auto-backfill skipped", extra={"instances": ids, "why": exc.message})
    ctx.wake_worker()
