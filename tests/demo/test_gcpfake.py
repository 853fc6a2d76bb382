"""The GCP fake's behaviour over HTTP: auth, alignment, reduction, filters, paging, faults."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from dbsnooze.demo.gcpfake import GcpFake, ServiceAccountKey
from gcphelp import PROJECT, assertion, fake, gcp_env, google_session, key

__all__ = ["fake", "gcp_env", "key"]  # fixtures used by name

T0 = datetime(2026, 11, 16, 9, tzinfo=UTC)
CPU = "cloudsql.googleapis.com/database/cpu/utilization"
BACKENDS = "cloudsql.googleapis.com/database/postgresql/num_backends"
READS = "cloudsql.googleapis.com/database/disk/read_ops_count"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _db(fake: GcpFake, name: str = "db", version: str = "POSTGRES_15") -> None:
    fake.sql.add_instance(
        PROJECT, name, database_version=version, region="us-central1", tier="db-f1-micro"
    )


def _list(fake: GcpFake, key: ServiceAccountKey, metric: str, **params: Any) -> requests.Response:
    query = {
        "filter": f'metric.type = "{metric}"',
        "interval.startTime": _z(T0),
        "interval.endTime": _z(_at(3)),
        **params,
    }
    return google_session(key).get(f"{fake.url}/v3/projects/{PROJECT}/timeSeries", params=query)


def _values(series: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(p["interval"]["endTime"], next(iter(p["value"].values()))) for p in series["points"]]


# --- token endpoint and authorization --------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "error", "words"),
    [
        ({"aud": "https://example.com/token"}, "invalid_grant", "audience"),
        ({"iat": 1_000_000_000, "exp": 1_000_003_600}, "invalid_grant", "iat and exp"),
        ({"exp": 2**40}, "invalid_grant", "60 minutes"),
        ({"scope": ""}, "invalid_scope", "scope"),
    ],
)
def test_the_token_endpoint_checks_the_jwt_claims(
    fake: GcpFake, key: ServiceAccountKey, claims: dict[str, Any], error: str, words: str
) -> None:
    answer = requests.post(
        fake.token_uri,
        data={"grant_type": JWT_BEARER, "assertion": assertion(key, **claims)},
        timeout=10,
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == error and words in answer.json()["error_description"]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"grant_type": JWT_BEARER, "assertion": "not.a.jwt"}, "invalid_request"),
        ({"grant_type": JWT_BEARER}, "invalid_request"),
    ],
)
def test_the_token_endpoint_refuses_other_grants_and_garbage(
    fake: GcpFake, form: dict[str, str], error: str
) -> None:
    answer = requests.post(fake.token_uri, data=form, timeout=10)

    assert (answer.status_code, answer.json()["error"]) == (400, error)


@pytest.mark.parametrize("authorization", [None, "Bearer ya29.made-up", "Basic abc"])
def test_an_api_call_without_an_issued_token_is_unauthenticated(
    fake: GcpFake, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    answer = requests.get(
        f"{fake.url}/v1/projects/{PROJECT}/instances", headers=headers, timeout=10
    )

    assert answer.status_code == 401
    assert answer.json()["error"]["status"] == "UNAUTHENTICATED"


def test_unknown_paths_instances_and_operations_are_not_found(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    session = google_session(key)
    for path in (
        "/v2/nothing",
        f"/v1/projects/{PROJECT}/instances/nope",
        f"/v1/projects/{PROJECT}/operations/nope",
    ):
        answer = session.get(fake.url + path)
        assert (answer.status_code, answer.json()["error"]["status"]) == (404, "NOT_FOUND")


# --- Cloud SQL Admin -------------------------------------------------------------------------


def test_list_pages_default_to_500_and_are_coerced_to_1000(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    for i in range(1001):
        _db(fake, f"db-{i:04d}")
    session = google_session(key)
    url = f"{fake.url}/v1/projects/{PROJECT}/instances"

    default = session.get(url).json()
    coerced = session.get(url, params={"maxResults": 5000}).json()
    rest = session.get(
        url, params={"maxResults": 5000, "pageToken": coerced["nextPageToken"]}
    ).json()

    assert len(default["items"]) == 500 and default["items"][0]["name"] == "db-0000"
    assert len(coerced["items"]) == 1000
    assert [i["name"] for i in rest["items"]] == ["db-1000"] and "nextPageToken" not in rest


def test_a_stop_is_an_operation_that_finishes_over_polls(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    _db(fake)
    session = google_session(key)
    url = f"{fake.url}/v1/projects/{PROJECT}"

    operation = session.patch(
        f"{url}/instances/db", json={"settings": {"activationPolicy": "NEVER"}}
    ).json()
    before = session.get(f"{url}/instances/db").json()["settings"]["activationPolicy"]
    polls = [session.get(f"{url}/operations/{operation['name']}").json() for _ in range(3)]
    instance = session.get(f"{url}/instances/db").json()

    assert [operation["status"], *(p["status"] for p in polls)] == [
        "PENDING",
        "RUNNING",
        "DONE",
        "DONE",
    ]
    assert before == "ALWAYS"  # the policy changes only when the operation is done
    assert instance["settings"]["activationPolicy"] == "NEVER" and instance["state"] == "RUNNABLE"
    assert instance["settings"]["settingsVersion"] == "2"
    assert polls[-1]["endTime"] == polls[-2]["endTime"]


@pytest.mark.parametrize(
    "body",
    [
        {"settings": {"activationPolicy": "ON_DEMAND"}},
        {"settings": {"tier": "db-custom-4-15360"}},
        {"name": "renamed"},
        ["not", "an", "object"],
    ],
)
def test_patches_the_fake_cannot_honour_are_refused(
    fake: GcpFake, key: ServiceAccountKey, body: Any
) -> None:
    _db(fake)

    answer = google_session(key).patch(f"{fake.url}/v1/projects/{PROJECT}/instances/db", json=body)

    assert (answer.status_code, answer.json()["error"]["status"]) == (400, "INVALID_ARGUMENT")


def test_a_read_replica_cannot_be_stopped(fake: GcpFake, key: ServiceAccountKey) -> None:
    _db(fake)
    fake.sql.add_instance(
        PROJECT,
        "copy",
        database_version="POSTGRES_15",
        region="us-east1",
        tier="db-f1-micro",
        master="db",
    )

    answer = google_session(key).patch(
        f"{fake.url}/v1/projects/{PROJECT}/instances/copy",
        json={"settings": {"activationPolicy": "NEVER"}},
    )

    assert (answer.status_code, answer.json()["error"]["status"]) == (400, "FAILED_PRECONDITION")


def test_each_method_needs_its_own_permission(fake: GcpFake, key: ServiceAccountKey) -> None:
    _db(fake)
    fake.identities.grant(key.email, PROJECT, {"cloudsql.instances.list"})
    session = google_session(key)

    listed = session.get(f"{fake.url}/v1/projects/{PROJECT}/instances")
    got = session.get(f"{fake.url}/v1/projects/{PROJECT}/instances/db")

    assert listed.status_code == 200
    assert got.status_code == 403
    assert got.json()["error"]["details"][0]["metadata"]["permission"] == "cloudsql.instances.get"


# --- Monitoring: alignment -------------------------------------------------------------------


def _gauge(fake: GcpFake) -> None:
    _db(fake)
    fake.instance_series(PROJECT, "db", CPU).add(
        {_at(1): 1.0, _at(1.5): 2.0, _at(2): 3.0, _at(2.25): 10.0, _at(0): 99.0}
    )


@pytest.mark.parametrize(
    ("aligner", "expected"),
    [
        # periods end at endTime, endTime - 1 h, ...; each holds the points in (end - 1 h, end]
        ("ALIGN_MEAN", [("12:00", 10.0), ("11:00", 2.5), ("10:00", 1.0)]),
        ("ALIGN_MAX", [("12:00", 10.0), ("11:00", 3.0), ("10:00", 1.0)]),
        ("ALIGN_MIN", [("12:00", 10.0), ("11:00", 2.0), ("10:00", 1.0)]),
        ("ALIGN_SUM", [("12:00", 10.0), ("11:00", 5.0), ("10:00", 1.0)]),
        ("ALIGN_COUNT", [("12:00", "1"), ("11:00", "2"), ("10:00", "1")]),
    ],
)
def test_aligned_points_stand_at_the_end_of_their_period_newest_first(
    fake: GcpFake, key: ServiceAccountKey, aligner: str, expected: list[tuple[str, Any]]
) -> None:
    _gauge(fake)

    body = _list(
        fake,
        key,
        CPU,
        **{"aggregation.alignmentPeriod": "3600s", "aggregation.perSeriesAligner": aligner},
    ).json()

    (series,) = body["timeSeries"]
    assert _values(series) == [(f"2026-11-16T{hhmm}:00Z", value) for hhmm, value in expected]


def test_raw_points_are_those_after_the_start_up_to_the_end_newest_first(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    _gauge(fake)

    (series,) = _list(
        fake, key, CPU, **{"interval.startTime": _z(_at(1)), "interval.endTime": _z(_at(2))}
    ).json()["timeSeries"]

    assert _values(series) == [("2026-11-16T11:00:00Z", 3.0), ("2026-11-16T10:30:00Z", 2.0)]
    assert (
        series["points"][0]["interval"]["startTime"] == series["points"][0]["interval"]["endTime"]
    )


def test_delta_counts_align_as_a_rate_and_keep_their_sample_interval(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    _db(fake)
    fake.instance_series(PROJECT, "db", READS).add(
        {_at(0) + timedelta(minutes=m): 60 * m for m in range(1, 61)}
    )

    rate = _list(
        fake,
        key,
        READS,
        **{"aggregation.alignmentPeriod": "3600s", "aggregation.perSeriesAligner": "ALIGN_RATE"},
    )
    raw = _list(fake, key, READS)

    assert _values(rate.json()["timeSeries"][0]) == [("2026-11-16T10:00:00Z", 60 * 1830 / 3600)]
    assert rate.json()["timeSeries"][0]["valueType"] == "DOUBLE"
    newest = raw.json()["timeSeries"][0]["points"][0]
    assert newest == {
        "interval": {"startTime": "2026-11-16T09:59:00Z", "endTime": "2026-11-16T10:00:00Z"},
        "value": {"int64Value": "3600"},
    }


@pytest.mark.parametrize(
    ("params", "words"),
    [
        (
            {"aggregation.perSeriesAligner": "ALIGN_RATE", "aggregation.alignmentPeriod": "3600s"},
            "kind GAUGE",
        ),
        ({"aggregation.perSeriesAligner": "ALIGN_MEAN"}, "alignment period"),
        (
            {"aggregation.perSeriesAligner": "ALIGN_MEAN", "aggregation.alignmentPeriod": "30s"},
            "at least 60s",
        ),
        (
            {"aggregation.perSeriesAligner": "ALIGN_MEDIAN", "aggregation.alignmentPeriod": "60s"},
            "ALIGN_MEDIAN",
        ),
        ({"aggregation.crossSeriesReducer": "REDUCE_SUM"}, "per-series aligner"),
        ({"interval.endTime": _z(T0)}, "before the end"),
        ({"interval.startTime": "yesterday"}, "Timestamp"),
        ({"view": "BRIEF"}, "view"),
        ({"pageSize": "-1"}, "pageSize"),
        ({"orderby": "x"}, 'Unknown name "orderby"'),
        ({"filter": 'resource.type = "cloudsql_database"'}, "one metric type"),
        ({"filter": f'metric.type = "{CPU}" OR resource.type = "x"'}, "Unsupported filter"),
        ({"filter": f'metric.type = "{CPU}" AND zone = "x"'}, "Unknown selector"),
        ({"pageToken": "garbage"}, "page token"),
    ],
)
def test_requests_google_would_refuse_are_400_invalid_argument(
    fake: GcpFake, key: ServiceAccountKey, params: dict[str, str], words: str
) -> None:
    _gauge(fake)

    answer = _list(fake, key, CPU, **params)

    assert (answer.status_code, answer.json()["error"]["status"]) == (400, "INVALID_ARGUMENT")
    assert words in answer.json()["error"]["message"]


def test_an_unknown_metric_type_is_not_found(fake: GcpFake, key: ServiceAccountKey) -> None:
    answer = _list(fake, key, "cloudsql.googleapis.com/database/nothing")

    assert (answer.status_code, answer.json()["error"]["status"]) == (404, "NOT_FOUND")


# --- Monitoring: filters, reduction, paging ---------------------------------------------------


def _backends(fake: GcpFake) -> None:
    for name in ("db-a", "db-b"):
        _db(fake, name)
        for i, database in enumerate(("postgres", "app")):
            fake.instance_series(PROJECT, name, BACKENDS, {"database": database}).add(
                {_at(h / 2): 10 * (i + 1) + h for h in range(1, 5)}
            )


def test_the_filter_selects_series_by_resource_and_metric_labels(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    _backends(fake)
    one_of = f'resource.labels.database_id = one_of("{PROJECT}:db-b", "other:db-a")'
    filters = {
        f'resource.type = "cloudsql_database" AND {one_of}': {
            ("db-b", "postgres"),
            ("db-b", "app"),
        },
        f'resource.label.database_id = "{PROJECT}:db-a" AND metric.label.database != "app"': {
            ("db-a", "postgres")
        },
        f'project = "{PROJECT}" AND metric.labels.database = "app"': {
            ("db-a", "app"),
            ("db-b", "app"),
        },
    }

    for clause, expected in filters.items():
        body = _list(fake, key, BACKENDS, filter=f'metric.type = "{BACKENDS}" AND {clause}').json()
        found = {
            (
                s["resource"]["labels"]["database_id"].split(":")[1],
                s["metric"]["labels"]["database"],
            )
            for s in body["timeSeries"]
        }
        assert found == expected, clause


def test_a_reduction_sums_series_per_group_and_keeps_only_the_grouped_labels(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    _backends(fake)

    body = _list(
        fake,
        key,
        BACKENDS,
        **{
            "aggregation.alignmentPeriod": "3600s",
            "aggregation.perSeriesAligner": "ALIGN_MAX",
            "aggregation.crossSeriesReducer": "REDUCE_SUM",
            "aggregation.groupByFields": "resource.label.database_id",
        },
    ).json()

    assert [s["resource"] for s in body["timeSeries"]] == [
        {"type": "cloudsql_database", "labels": {"database_id": f"{PROJECT}:db-a"}},
        {"type": "cloudsql_database", "labels": {"database_id": f"{PROJECT}:db-b"}},
    ]
    assert all("labels" not in s["metric"] for s in body["timeSeries"])
    # postgres: 11..14 and app: 21..24 per half hour; max per hour summed over both databases
    assert _values(body["timeSeries"][0]) == [
        ("2026-11-16T11:00:00Z", "38"),
        ("2026-11-16T10:00:00Z", "34"),
    ]


def test_pages_split_series_by_points_and_tokens_belong_to_their_query(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    _backends(fake)
    pages, token = [], None
    while True:
        params: dict[str, Any] = {"pageSize": 3, **({"pageToken": token} if token else {})}
        body = _list(fake, key, BACKENDS, **params).json()
        pages.append(
            [
                (s["resource"]["labels"]["database_id"][-4:], len(s["points"]))
                for s in body["timeSeries"]
            ]
        )
        token = body.get("nextPageToken")
        if token is None:
            break
    other_query = _list(
        fake, key, CPU, pageToken=_list(fake, key, BACKENDS, pageSize=3).json()["nextPageToken"]
    )

    # four series of four points, three points a page: a series continues on the next page
    assert pages == [
        [("db-a", 3)],
        [("db-a", 1), ("db-a", 2)],
        [("db-a", 2), ("db-b", 1)],
        [("db-b", 3)],
        [("db-b", 3)],
        [("db-b", 1)],
    ]
    assert other_query.status_code == 400


def test_the_headers_view_pages_by_series_without_points(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    _backends(fake)

    first = _list(fake, key, BACKENDS, view="HEADERS", pageSize=3).json()
    second = _list(
        fake, key, BACKENDS, view="HEADERS", pageSize=3, pageToken=first["nextPageToken"]
    ).json()

    assert [len(first["timeSeries"]), len(second["timeSeries"])] == [3, 1]
    assert all("points" not in s for s in first["timeSeries"] + second["timeSeries"])
    assert "nextPageToken" not in second


# --- faults ----------------------------------------------------------------------------------


def test_injected_faults_answer_in_googles_error_shape_then_stop(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    _db(fake)
    session = google_session(key)
    url = f"{fake.url}/v1/projects/{PROJECT}/instances"
    session.get(url)  # the token first: faults below hit only the API path
    fake.faults.inject("429", path="/instances", count=1)
    fake.faults.inject("503", path="/instances", count=1)

    answers = [session.get(url) for _ in range(3)]

    assert [a.status_code for a in answers] == [429, 503, 200]
    assert [a.json()["error"]["status"] for a in answers[:2]] == [
        "RESOURCE_EXHAUSTED",
        "UNAVAILABLE",
    ]
    assert [r.fault for r in fake.faults.requests("/instances")] == [None, "429", "503", None]


def test_a_held_request_is_dropped_unanswered_when_released(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    _db(fake)
    session = google_session(key)
    url = f"{fake.url}/v1/projects/{PROJECT}/instances"
    session.get(url)
    fake.faults.inject("hold", path="/instances")

    with pytest.raises(requests.Timeout):
        session.get(url, timeout=0.3)
    assert fake.faults.wait_for(lambda: fake.faults.held == 1)
    fake.faults.release()

    assert fake.faults.wait_for(lambda: fake.faults.held == 0)
    assert session.get(url).status_code == 200


def test_an_unknown_fault_kind_is_a_programming_error(fake: GcpFake) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        fake.faults.inject("418")
