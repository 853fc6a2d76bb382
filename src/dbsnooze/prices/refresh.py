"""`dbsnooze prices refresh`: the fleet's on-demand prices from the AWS Price List query API."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from dbsnooze import accounts as account_service
from dbsnooze.context import Context
from dbsnooze.domain import CloudAccount, Provider, ProviderError
from dbsnooze.errors import NotFound
from dbsnooze.providers.aws.errors import AWS_ERRORS, credential_secrets, to_provider_error
from dbsnooze.providers.aws.pricing import PRICING_REGION, fetch_prices
from dbsnooze.store import prices as price_store
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import InstanceRow

FAILURES: tuple[type[Exception], ...] = (*AWS_ERRORS, ProviderError)


@dataclass(frozen=True, slots=True)
class PriceRefresh:
    account: str
    asked: int  # (region, instance class) pairs asked for
    saved: int  # prices stored


def _account(ctx: Context, account_id: int | None) -> CloudAccount:
    if account_id is not None:
        return account_service.load(ctx, account_id)
    aws = [a for a in account_service.load_all(ctx) if a.provider is Provider.AWS]
    if not aws:
        raise NotFound("account_not_found", "no AWS account to ask for prices")
    return aws[0]


def _pairs(ctx: Context) -> set[tuple[str, str]]:
    query = select(InstanceRow.region, InstanceRow.instance_class).where(
        InstanceRow.provider == Provider.AWS.value,
        InstanceRow.deleted_at.is_(None),
        InstanceRow.instance_class != "",  # an Aurora cluster has no class: its members do
    )
    with ctx.sessions() as session:
        return set(session.execute(query).tuples())


def refresh(ctx: Context, account_id: int | None = None) -> PriceRefresh:
    """Ask through one account (the first AWS account unless given) for every (region, class)
    of the known instances, and store what comes back (source `aws`)."""
    account = _account(ctx, account_id)
    pairs = _pairs(ctx)
    try:
        client = ctx.clients.client(account, PRICING_REGION, "pricing")
        found = fetch_prices(client, pairs)
    except FAILURES as exc:
        raise to_provider_error(
            exc,
            action="pricing:GetProducts",
            region=PRICING_REGION,
            secrets=credential_secrets(account.credentials),
        ) from None
    with transaction(ctx.sessions) as session:
        saved = price_store.save(session, found, ctx.clock()) if found else 0
    return PriceRefresh(account.name, len(pairs), saved)
