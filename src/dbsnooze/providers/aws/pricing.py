"""AWS Price List query API (pricing:GetProducts): on-demand RDS prices become `Price`s here.

One paged GetProducts per (region, instance class) the fleet uses, filtered to database
instances; each product's engine, edition and licence map to an RDS engine id (facts as data),
its deployment to single-az or multi-az. Anything that does not map is skipped, never guessed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

from dbsnooze.prices.table import Deployment, Price, PriceKey, PriceSource

# The query API answers in a few regions only; us-east-1 serves every region's prices.
PRICING_REGION = "us-east-1"
SERVICE_CODE = "AmazonRDS"
PAGE_SIZE = 100

# (databaseEngine, databaseEdition, licenseModel) -> RDS engine id; None matches anything.
ENGINES: tuple[tuple[str, str | None, str | None, str], ...] = (
    ("PostgreSQL", None, None, "postgres"),
    ("MySQL", None, None, "mysql"),
    ("MariaDB", None, None, "mariadb"),
    ("Aurora PostgreSQL", None, None, "aurora-postgresql"),
    ("Aurora MySQL", None, None, "aurora-mysql"),
    ("SQL Server", "Express", "License included", "sqlserver-ex"),
    ("SQL Server", "Web", "License included", "sqlserver-web"),
    ("SQL Server", "Standard", "License included", "sqlserver-se"),
    ("SQL Server", "Enterprise", "License included", "sqlserver-ee"),
    ("Oracle", "Standard Two", "License included", "oracle-se2"),
    ("Oracle", "Enterprise", "Bring your own license", "oracle-ee"),
)
DEPLOYMENTS = {"Single-AZ": Deployment.SINGLE_AZ, "Multi-AZ": Deployment.MULTI_AZ}


def _filters(region: str, instance_class: str) -> list[dict[str, str]]:
    wanted = {
        "regionCode": region,
        "instanceType": instance_class,
        "productFamily": "Database Instance",
    }
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in wanted.items()]


def fetch_prices(client: Any, pairs: Iterable[tuple[str, str]]) -> list[Price]:
    """On-demand prices for each (region, instance class), through a `pricing` client."""
    prices: dict[PriceKey, Price] = {}
    for region, instance_class in sorted(set(pairs)):
        for document in _documents(client, region, instance_class):
            price = parse_product(document)
            if price is not None:
                prices.setdefault(price.key, price)
    return list(prices.values())


def _documents(client: Any, region: str, instance_class: str) -> Iterator[dict[str, Any]]:
    pages = client.get_paginator("get_products").paginate(
        ServiceCode=SERVICE_CODE,
        Filters=_filters(region, instance_class),
        FormatVersion="aws_v1",
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    for page in pages:
        for item in page.get("PriceList", []):
            yield json.loads(item) if isinstance(item, str) else item


def engine_of(attributes: dict[str, Any]) -> str | None:
    engine = attributes.get("databaseEngine")
    edition = attributes.get("databaseEdition")
    licence = attributes.get("licenseModel")
    for name, want_edition, want_licence, engine_id in ENGINES:
        if name != engine:
            continue
        if want_edition is not None and want_edition != edition:
            continue
        if want_licence is not None and want_licence != licence:
            continue
        return engine_id
    return None


def parse_product(document: dict[str, Any]) -> Price | None:
    """One GetProducts document as a price, or None when it is not a plain on-demand hour."""
    attributes = document.get("product", {}).get("attributes", {})
    engine = engine_of(attributes)
    deployment = DEPLOYMENTS.get(attributes.get("deploymentOption", ""))
    region = attributes.get("regionCode")
    instance_class = attributes.get("instanceType")
    usd = _hourly_usd(document.get("terms", {}).get("OnDemand", {}))
    if None in (engine, deployment, region, instance_class, usd):
        return None
    key = PriceKey(str(instance_class), str(engine), str(region), deployment)  # type: ignore[arg-type]
    return Price(key, usd, PriceSource.AWS)  # type: ignore[arg-type]


def _hourly_usd(on_demand: dict[str, Any]) -> float | None:
    """The single hourly USD price of the on-demand terms; None when there is not exactly one."""
    found = [
        dimension
        for term in on_demand.values()
        for dimension in term.get("priceDimensions", {}).values()
        if dimension.get("unit") == "Hrs"
    ]
    if len(found) != 1:
        return None
    try:
        usd = float(found[0].get("pricePerUnit", {}).get("USD", "nan"))
    except (TypeError, ValueError):
        return None
    return usd if math.isfinite(usd) and usd > 0 else None
