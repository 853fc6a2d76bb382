"""Cloud accounts: credentials are tested before they are saved, and every change is audited."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dbsnooze.context import Context
from dbsnooze.crypto import mask
from dbsnooze.domain import (
    AuthMethod,
    CloudAccount,
    Credentials,
    Provider,
    ProviderError,
    endpoint_url_problem,
)
from dbsnooze.errors import NotFound, Unprocessable
from dbsnooze.jobs import queue
from dbsnooze.providers.registry import provider
from dbsnooze.store import accounts as account_store
from dbsnooze.store import events, retention
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import AccountRow, InstanceRow

# Which credential field identifies an account to a person, masked, per auth method.
HINT_FIELD = {
    AuthMethod.STATIC_KEYS: "access_key_id",
    AuthMethod.ASSUME_ROLE: "external_id",
}


@dataclass(frozen=True, slots=True)
class Created:
    row: AccountRow
    warnings: tuple[str, ...] = ()  # the credentials work, but only in part


@dataclass(frozen=True, slots=True)
class Tested:
    error: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


def create(ctx: Context, new: account_store.NewAccount, actor: str) -> Created:
    if new.endpoint_url and (problem := endpoint_url_problem(new.endpoint_url)):
        raise Unprocessable("invalid_endpoint_url", f"endpoint_url {problem}")
    with ctx.sessions() as session:
        if account_store.by_name(session, new.name) is not None:
            raise account_store.name_taken(new.name)
    warnings = test(ctx, _unsaved(new))
    with transaction(ctx.sessions) as session:
        row = account_store.add(session, ctx.box, new, ctx.clock())
        events.record(
            session,
            ctx.clock(),
            actor,
            "account.created",
            ("account", row.id),
            _created(new, warnings),
        )
    return Created(row, warnings)


def _created(new: account_store.NewAccount, warnings: tuple[str, ...]) -> dict[str, object]:
    detail: dict[str, object] = {
        "name": new.name,
        "regions": list(new.regions),
        "auth": new.credentials.method.value,
    }
    if new.provider is Provider.GCP:
        detail["provider"], detail["projects"] = new.provider.value, list(new.projects)
    if warnings:
        detail["warnings"] = list(warnings)
    return detail


def test(ctx: Context, account: CloudAccount) -> tuple[str, ...]:
    """Raise Unprocessable saying what failed when the cloud does not accept the credentials;
    the warnings of what they allow only in part."""
    try:  # a probe gives up fast: a person is waiting on the answer
        return provider(ctx, account.provider).check(account)
    except ProviderError as exc:
        raise Unprocessable(exc.code, exc.message) from exc


def test_stored(ctx: Context, account_id: int, actor: str) -> Tested:
    account = load(ctx, account_id)
    provider(ctx, account.provider).forget(account.id)
    try:
        outcome = Tested(warnings=test(ctx, account))
    except Unprocessable as exc:
        outcome = Tested(error=exc.message)
    detail: dict[str, object] = {"ok": outcome.ok, "error": outcome.error}
    if outcome.warnings:
        detail["warnings"] = list(outcome.warnings)
    with transaction(ctx.sessions) as session:
        row = _row(session, account_id)
        row.last_tested_at, row.last_test_error = ctx.clock(), outcome.error
        events.record(
            session, ctx.clock(), actor, "account.tested", ("account", account_id), detail
        )
    return outcome


def delete(ctx: Context, account_id: int, actor: str) -> None:
    """Delete an account with its instances and their history; jobs working on them end
    cancelled (they keep their rows, so the jobs page and audit log still explain them)."""
    with transaction(ctx.sessions) as session:
        row = _row(session, account_id)
        name, kind = row.name, row.provider
        instance_ids = select(InstanceRow.id).where(InstanceRow.account_id == account_id)
        why = f"cloud account {name!r} (id {account_id}) was deleted"
        cancelled = queue.cancel_working_on(session, instance_ids, ctx.clock(), why)
        retention.forget_instances(session, account_id)
        session.delete(row)
        events.record(
            session,
            ctx.clock(),
            actor,
            "account.deleted",
            ("account", account_id),
            {"name": name, "cancelled_jobs": cancelled},
        )
    provider(ctx, kind).forget(account_id)


def load(ctx: Context, account_id: int) -> CloudAccount:
    with ctx.sessions() as session:
        return account_store.to_domain(_row(session, account_id), ctx.box)


def load_all(ctx: Context) -> list[CloudAccount]:
    with ctx.sessions() as session:
        return [account_store.to_domain(row, ctx.box) for row in account_store.all_rows(session)]


def secret_hint(credentials: Credentials) -> str | None:
    if credentials.service_account_json:  # a key is known by its (masked) key id
        key_id = _key_id(credentials.service_account_json)
        return mask(key_id) if key_id else None
    name = HINT_FIELD.get(credentials.method)
    value = getattr(credentials, name) if name else None
    return mask(value) if value else None


def _key_id(key_json: str) -> str | None:
    try:
        info = json.loads(key_json)
    except ValueError:
        return None
    found = info.get("private_key_id") if isinstance(info, dict) else None
    return found if isinstance(found, str) else None


def _unsaved(new: account_store.NewAccount) -> CloudAccount:
    return CloudAccount(
        id=0,
        provider=new.provider,
        name=new.name,
        regions=new.regions,
        credentials=new.credentials,
        endpoint_url=new.endpoint_url,
        projects=new.projects,
    )


def _row(session: Session, account_id: int) -> AccountRow:
    row = account_store.get(session, account_id)
    if row is None:
        raise NotFound("account_not_found", f"no cloud account with id {account_id}")
    return row
