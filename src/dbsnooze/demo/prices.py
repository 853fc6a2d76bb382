"""The demo fleet's price table: illustrative on-demand prices, stored with source `demo`.

Never used outside the demo: a real store gets its prices from the user's CSV or from the AWS
Price List API (`dbsnooze prices`).
"""

from __future__ import annotations

from dbsnooze.prices.table import Deployment, Price, PriceKey, PriceSource

# Single-AZ USD per hour in us-east-1, per (class, engine); other regions by a factor.
_BASE: dict[tuple[str, str], float] = {
    ("db.r6g.large", "postgres"): 0.225,
    ("db.r6g.large", "mysql"): 0.215,
    ("db.r6g.large", "mariadb"): 0.215,
    ("db.m6g.large", "postgres"): 0.159,
    ("db.m6g.large", "mysql"): 0.152,
    ("db.m6g.large", "mariadb"): 0.152,
    ("db.m5.large", "postgres"): 0.178,
    ("db.m5.large", "mysql"): 0.171,
    ("db.t3.large", "postgres"): 0.145,
    ("db.t3.large", "mysql"): 0.136,
    ("db.t3.medium", "postgres"): 0.072,
    ("db.t3.medium", "mysql"): 0.068,
    ("db.t3.medium", "mariadb"): 0.068,
    ("db.t3.small", "postgres"): 0.036,
    ("db.t3.small", "mysql"): 0.034,
    ("db.t3.small", "mariadb"): 0.034,
    ("db.t3.micro", "postgres"): 0.018,
    ("db.t3.micro", "mysql"): 0.017,
    ("db.t3.micro", "mariadb"): 0.017,
}
_REGION_FACTOR = {"us-east-1": 1.0, "eu-west-1": 1.1}
_MULTI_AZ_FACTOR = 2.0


def demo_prices() -> list[Price]:
    prices = []
    for (instance_class, engine), usd in _BASE.items():
        for region, factor in _REGION_FACTOR.items():
            for deployment, times in (
                (Deployment.SINGLE_AZ, 1.0),
                (Deployment.MULTI_AZ, _MULTI_AZ_FACTOR),
            ):
                key = PriceKey(instance_class, engine, region, deployment)
                prices.append(Price(key, round(usd * factor * times, 4), PriceSource.DEMO))
    return prices
