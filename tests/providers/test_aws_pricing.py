"""Prices from the AWS Price List query API, through real boto3 against a loopback fake that
serves recorded answers of the documented shape (moto has no pricing service)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from dbsnooze.config import Settings
from dbsnooze.context import Context
from dbsnooze.domain import (
    AuthMethod,
    CloudAccount,
    Credentials,
    DiscoveredInstance,
    Provider,
    ProviderError,
)
from dbsnooze.prices.refresh import refresh
from dbsnooze.prices.table import Deployment, PriceKey, PriceSource
from dbsnooze.providers.aws.pricing import PRICING_REGION, fetch_prices
from dbsnooze.providers.aws.session import ClientCache
from dbsnooze.store import accounts as account_store
from dbsnooze.store import instances as instance_store
from dbsnooze.store import prices as price_store
from dbsnooze.store.accounts import NewAccount
from dbsnooze.store.db import transaction
from pricefake import PricingFake, product

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEYS = Credentials(
    AuthMethod.STATIC_KEYS, access_key_id="AKIAIOSFODNN7EXAMPLE", secret_access_key=SECRET
)
NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)
RECORDED = [
    product("us-east-1", "db.t3.micro", "PostgreSQL", "0.0180000000"),
    product("us-east-1", "db.t3.micro", "PostgreSQL", "0.0360000000", deployment="Multi-AZ"),
    product("us-east-1", "db.t3.micro", "MySQL", "0.0170000000"),
    product(
        "us-east-1",
        "db.t3.micro",
        "PostgreSQL",
        "0.0400000000",
        deployment="Multi-AZ (readable standbys)",
    ),
    product(
        "us-east-1",
        "db.t3.micro",
        "SQL Server",
        "0.0310000000",
        edition="Express",
        licence="License included",
    ),
    product(
        "us-east-1",
        "db.t3.micro",
        "Oracle",
        "0.0170000000",
        edition="Standard Two",
        licence="Bring your own license",
    ),  # BYOL SE2 is not the licence-included price: skipped
    product("us-east-1", "db.t3.micro", "PostgreSQL", "0.0000000000", deployment="Single-AZ"),
    product("eu-west-1", "db.r6g.large", "MariaDB", "0.2390000000"),
    product("eu-west-1", "db.t3.micro", "PostgreSQL", "0.0190000000"),
]


@pytest.fixture()
def fake() -> Iterator[PricingFake]:
    with PricingFake(list(RECORDED)) as served:
        yield served


def _client(fake: PricingFake) -> object:
    account = CloudAccount(1, Provider.AWS, "p", ("us-east-1",), KEYS, fake.url)
    return ClientCache(Settings(cloud_max_attempts=1)).client(account, PRICING_REGION, "pricing")


def test_prices_are_parsed_from_the_documented_shape(fake: PricingFake) -> None:
    found = fetch_prices(_client(fake), [("us-east-1", "db.t3.micro")])
    prices = {(p.key.engine, p.key.deployment): p.usd_per_hour for p in found}
    assert prices == {
        ("postgres", Deployment.SINGLE_AZ): 0.018,
        ("postgres", Deployment.MULTI_AZ): 0.036,
        ("mysql", Deployment.SINGLE_AZ): 0.017,
        ("sqlserver-ex", Deployment.SINGLE_AZ): 0.031,
    }
    assert {p.source for p in found} == {PriceSource.AWS}
    [request] = fake.requests
    filters = {f["Field"]: f["Value"] for f in request["Filters"]}
    assert filters == {
        "regionCode": "us-east-1",
        "instanceType": "db.t3.micro",
        "productFamily": "Database Instance",
    }


def test_pages_are_followed(fake: PricingFake) -> None:
    fake.products += [
        product("us-east-1", "db.t3.small", f"Engine{i}", "1.0") for i in range(150)
    ] + [product("us-east-1", "db.t3.small", "MySQL", "0.034")]
    found = fetch_prices(_client(fake), [("us-east-1", "db.t3.small")])
    assert [(p.key.engine, p.usd_per_hour) for p in found] == [("mysql", 0.034)]
    assert [r.get("NextToken") for r in fake.requests] == [None, "100"]


def _stored_account(ctx: Context, endpoint: str) -> int:
    with transaction(ctx.sessions) as session:
        account = account_store.add(
            session,
            ctx.box,
            NewAccount(Provider.AWS, "main", ("us-east-1", "eu-west-1"), KEYS, endpoint, None),
            NOW,
        )
        for region, instance_class, engine in (
            ("us-east-1", "db.t3.micro", "postgres"),
            ("eu-west-1", "db.r6g.large", "mariadb"),
        ):
            found = DiscoveredInstance(
                f"db-{region}", region, engine, "1", instance_class, "available", {}, None
            )
            instance_store.sync_region(session, (account.id, "aws"), region, [found], NOW)
        return account.id


def test_refresh_stores_the_fleet_prices(ctx: Context, fake: PricingFake) -> None:
    account_id = _stored_account(ctx, fake.url)
    done = refresh(ctx, account_id)
    assert (done.account, done.asked) == ("main", 2)
    with ctx.sessions() as session:
        stored = price_store.lookup(
            session,
            [
                PriceKey("db.t3.micro", "postgres", "us-east-1", Deployment.SINGLE_AZ),
                PriceKey("db.r6g.large", "mariadb", "eu-west-1", Deployment.SINGLE_AZ),
                PriceKey("db.t3.micro", "postgres", "eu-west-1", Deployment.SINGLE_AZ),
            ],
        )
    assert {k.region: p.usd_per_hour for k, p in stored.items()} == {
        "us-east-1": 0.018,
        "eu-west-1": 0.239,
    }  # eu-west-1 db.t3.micro was not asked for: no instance uses it


def test_a_refused_refresh_says_which_permission(ctx: Context, fake: PricingFake) -> None:
    account_id = _stored_account(ctx, fake.url)
    fake.fail_with = 400
    with pytest.raises(ProviderError) as caught:
        refresh(ctx, account_id)
    assert "pricing:GetProducts" in caught.value.message
    assert SECRET not in caught.value.message
    with ctx.sessions() as session:
        assert price_store.all_prices(session) == []
