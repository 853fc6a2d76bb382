"""`dbsnooze recommend` and `dbsnooze prices` against a real store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clihelp import run
from dbsnooze.context import Context
from dbsnooze.store import recommendations
from fleethelp import seed_store

NOW = datetime.now(UTC)


PRICES = """instance_class,engine,region,deployment,usd_per_hour
db.t3.micro,postgres,us-east-1,single-az,0.018
db.m5.large,mysql,us-east-1,Single-AZ,0.171
"""


def test_prices_load_list_and_recommend_with_money(env: None, ctx: Context, tmp_path: Path) -> None:
    seed_store(ctx, NOW)
    table = tmp_path / "prices.csv"
    table.write_text(PRICES)
    assert run("prices", "load", str(table)) == (0, "loaded 2 prices from prices.csv\n")
    code, listed = run("prices", "list", "--csv")
    assert code == 0 and "db.m5.large,mysql,us-east-1,single-az,0.171,csv" in listed

    code, out = run("recommend", "--refresh", "--json")
    assert code == 0, out
    body = json.loads(out[out.index("{") :])
    by_name = {item["instance_name"]: item for item in body["data"]}
    assert by_name["legacy-reporting"]["kind"] == "stop"
    assert by_name["legacy-reporting"]["saving_usd_month"] == pytest.approx(0.171 * 730.5, 0.01)
    assert by_name["dev-alice-pg"]["kind"] == "sleep"
    assert by_name["orders-prod"]["kind"] == "none"
    assert body["total"]["priced"] == 2 and body["total"]["unpriced"] == 8

    code, table_out = run("recommend")
    assert code == 0 and "Predicted saving:" in table_out and "storage keeps" in table_out


def test_apply_and_dismiss_by_id(env: None, ctx: Context) -> None:
    seed_store(ctx, NOW)
    assert run("recommend", "--refresh")[0] == 0
    with ctx.sessions() as session:
        pairs = recommendations.listing(session, recommendations.RecommendationFilter())
        ids = {row.provider_id: rec.id for rec, row in pairs}
    code, out = run("recommend", "--apply", str(ids["dev-bob-mysql"]))
    assert code == 0 and "Fri 19:00 → Mon 07:40" in out
    code, out = run("recommend", "--dismiss", str(ids["wiki-old"]))
    assert code == 0 and "until its windows change" in out
    code, out = run("recommend", "--apply", str(ids["orders-prod"]))
    assert code == 1 and "not_applicable" in out
    assert run("recommend", "--apply", "99999")[0] == 1


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("instance_class,engine\nx,y\n", "the CSV needs the columns"),
        (PRICES.replace("0.018", "free"), "line 2: usd_per_hour"),
        (PRICES.replace("single-az", "two-az"), "line 2: deployment"),
        (PRICES.replace("0.018", "-1"), "line 2: usd_per_hour"),
    ],
)
def test_a_bad_price_file_loads_nothing(
    env: None, ctx: Context, tmp_path: Path, text: str, says: str
) -> None:
    table = tmp_path / "prices.csv"
    table.write_text(text)
    code, out = run("prices", "load", str(table))
    assert code == 1 and says in out
    assert "0.171" not in run("prices", "list")[1]
