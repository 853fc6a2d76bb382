"""Prices as data: (class, engine, region, deployment) → USD per hour, read from a CSV file.

A price is only ever looked up exactly. No price: savings in instance-hours only, never a guess.
"""

from __future__ import annotations

import csv
import enum
import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dbsnooze.errors import Unprocessable

CSV_COLUMNS = ("instance_class", "engine", "region", "deployment", "usd_per_hour")
MAX_CSV_ROWS = 200_000


class Deployment(enum.StrEnum):
    SINGLE_AZ = "single-az"
    MULTI_AZ = "multi-az"


class PriceSource(enum.StrEnum):
    CSV = "csv"  # the user's own table
    AWS = "aws"  # the AWS Price List query API
    DEMO = "demo"  # the demo fleet's prices: illustrative, labelled as such


@dataclass(frozen=True, slots=True, order=True)
class PriceKey:
    instance_class: str
    engine: str
    region: str
    deployment: Deployment


@dataclass(frozen=True, slots=True)
class Price:
    key: PriceKey
    usd_per_hour: float
    source: PriceSource


def deployment_of(multi_az: bool) -> Deployment:
    return Deployment.MULTI_AZ if multi_az else Deployment.SINGLE_AZ


_DEPLOYMENT_WORDS = {
    "single-az": Deployment.SINGLE_AZ,
    "single": Deployment.SINGLE_AZ,
    "multi-az": Deployment.MULTI_AZ,
    "multi": Deployment.MULTI_AZ,
}


def parse_csv(text: str, source: PriceSource = PriceSource.CSV) -> list[Price]:
    """Rows of `instance_class,engine,region,deployment,usd_per_hour` (a header line first).

    A bad row stops the whole load with its line number: a half-read price table would make
    some savings silently disappear.
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise Unprocessable("invalid_prices", f"the CSV needs the columns {', '.join(CSV_COLUMNS)}")
    prices = list(_rows(reader, source))
    if not prices:
        raise Unprocessable("invalid_prices", "the CSV has no prices")
    return prices


def _rows(reader: csv.DictReader[str], source: PriceSource) -> Iterator[Price]:
    for line, record in enumerate(reader, start=2):
        if line > MAX_CSV_ROWS + 1:
            raise Unprocessable("invalid_prices", f"at most {MAX_CSV_ROWS} prices")
        yield _price(line, record, source)


def _price(line: int, record: dict[str, str], source: PriceSource) -> Price:
    values = {c: (record.get(c) or "").strip() for c in CSV_COLUMNS}
    deployment = _DEPLOYMENT_WORDS.get(values["deployment"].lower())
    if deployment is None:
        raise Unprocessable("invalid_prices", f"line {line}: deployment is single-az or multi-az")
    if not all(values[c] for c in CSV_COLUMNS[:3]):
        raise Unprocessable("invalid_prices", f"line {line}: class, engine and region are needed")
    try:
        usd = float(values["usd_per_hour"])
    except ValueError:
        usd = math.nan
    if not math.isfinite(usd) or usd < 0:
        raise Unprocessable("invalid_prices", f"line {line}: usd_per_hour is a price in USD")
    key = PriceKey(values["instance_class"], values["engine"].lower(), values["region"], deployment)
    return Price(key, usd, source)


def to_csv(prices: Iterable[Price]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, "source"])
    for price in sorted(prices, key=lambda p: p.key):
        key = price.key
        row = [key.instance_class, key.engine, key.region, key.deployment.value]
        writer.writerow([*row, repr(price.usd_per_hour), price.source.value])
    return out.getvalue()
