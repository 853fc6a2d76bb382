"""The fake's answers against the request and response shapes in Google's documentation.

Each fixture below is copied from (or, where the page gives only a "JSON representation",
filled in with the example values its field descriptions give) the page named above it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from dbsnooze.demo.gcpfake import GcpFake, ServiceAccountKey
from gcphelp import PROJECT, SCOPE, assertion, fake, gcp_env, google_session, key

__all__ = ["fake", "gcp_env", "key"]  # fixtures used by name

# "Using OAuth 2.0 for Server to Server Applications", section "Handling the response"
# (developers.google.com/identity/protocols/oauth2/service-account)
DOC_TOKEN_RESPONSE = {
    "access_token": "1/8xbJqaOZXSUZbHLl5EOtu1pxz3fmmetKx9W8CV4t79M",
    "scope": "https://www.googleapis.com/auth/prediction",
    "token_type": "Bearer",
    "expires_in": 3600,
}

# Google Cloud API design guide, "Errors" (cloud.google.com/apis/design/errors), as quoted by
# the Routes API page "Handle request errors" (developers.google.com/maps/documentation/routes)
DOC_ERROR = {
    "error": {
        "code": 403,
        "message": "The request is missing a valid API key.",
        "status": "PERMISSION_DENIED",
    }
}

# Cloud SQL Admin API v1, "Method: instances.list" (cloud.google.com/sql/docs/postgres/
# admin-api/rest/v1/instances/list): GET .../v1/projects/{project}/instances?maxResults&pageToken
DOC_INSTANCES_LIST_RESPONSE_KEYS = {"kind", "warnings", "items", "nextPageToken"}
# "REST Resource: instances" (.../rest/v1/instances), JSON representation of DatabaseInstance
DOC_DATABASE_INSTANCE_KEYS = {
    "kind", "state", "databaseVersion", "settings", "etag", "failoverReplica",
    "masterInstanceName", "replicaNames", "maxDiskSize", "currentDiskSize", "ipAddresses",
    "serverCaCert", "instanceType", "project", "ipv6Address", "serviceAccountEmailAddress",
    "onPremisesConfiguration", "replicaConfiguration", "backendType", "selfLink",
    "suspensionReason", "connectionName", "name", "region", "gceZone", "secondaryGceZone",
    "diskEncryptionConfiguration", "diskEncryptionStatus", "rootPassword",
    "scheduledMaintenance", "createTime", "databaseInstalledVersion", "maintenanceVersion",
}  # fmt: skip
DOC_SETTINGS_KEYS = {
    "kind", "settingsVersion", "authorizedGaeApplications", "tier", "backupConfiguration",
    "pricingPlan", "replicationType", "activationPolicy", "ipConfiguration",
    "locationPreference", "databaseFlags", "dataDiskSizeGb", "dataDiskType",
    "maintenanceWindow", "storageAutoResize", "storageAutoResizeLimit", "availabilityType",
    "userLabels",
}  # fmt: skip

# "Start, stop, and restart instances" (cloud.google.com/sql/docs/postgres/
# start-stop-restart-instance), REST v1 tab: HTTP method, URL and request JSON body
DOC_PATCH_METHOD = "PATCH"
DOC_PATCH_URL = "https://sqladmin.googleapis.com/v1/projects/project-id/instances/instance-id"
DOC_PATCH_BODY = {"settings": {"activationPolicy": "activation-policy"}}
# "REST Resource: operations" (.../admin-api/rest/v1/operations), JSON representation
DOC_OPERATION_KEYS = {
    "kind", "targetLink", "status", "user", "insertTime", "startTime", "endTime", "error",
    "apiWarning", "operationType", "importContext", "exportContext", "backupContext",
    "preCheckMajorVersionUpgradeContext", "name", "targetId", "selfLink", "targetProject",
    "acquireSsrsLeaseContext", "subOperationType",
}  # fmt: skip
DOC_OPERATION_STATUS = {"SQL_OPERATION_STATUS_UNSPECIFIED", "PENDING", "RUNNING", "DONE"}
# Cloud SQL Admin's refusal of a change while another operation runs on the instance, as users
# of the API quote it (e.g. apache/airflow issue 62671; Go clients print it as "googleapi: Error
# 409: Operation failed because another operation was already in progress., operationInProgress")
DOC_OPERATION_IN_PROGRESS = {
    "error": {
        "code": 409,
        "message": "Operation failed because another operation was already in progress. Try "
        "your request after the current operation is complete.",
        "errors": [
            {
                "message": "Operation failed because another operation was already in progress. "
                "Try your request after the current operation is complete.",
                "domain": "global",
                "reason": "operationInProgress",
            }
        ],
    }
}

# Cloud Monitoring API v3, "Method: projects.timeSeries.list" (cloud.google.com/monitoring/
# api/ref_v3/rest/v3/projects.timeSeries/list): GET https://monitoring.googleapis.com/v3/
# {name}/timeSeries with these query parameters; the filter example is from "Retrieve
# time-series data" (cloud.google.com/monitoring/custom-metrics/reading-metrics).
DOC_TIME_SERIES_REQUEST = {
    "filter": 'metric.type = "cloudsql.googleapis.com/database/cpu/utilization"',
    "interval.startTime": "2014-10-02T15:01:23Z",  # TimeInterval's example timestamps
    "interval.endTime": "2014-10-02T18:01:23.045123456Z",
    "aggregation.alignmentPeriod": "3600s",
    "aggregation.perSeriesAligner": "ALIGN_MEAN",
    "view": "FULL",
    "pageSize": 100000,
}
DOC_LIST_TIME_SERIES_RESPONSE_KEYS = {"timeSeries", "nextPageToken", "executionErrors", "unit"}
# "TimeSeries" (.../rest/v3/TimeSeries), JSON representation; Point, TimeInterval, TypedValue
DOC_TIME_SERIES_KEYS = {
    "metric",
    "resource",
    "metadata",
    "metricKind",
    "valueType",
    "points",
    "unit",
}
DOC_POINT = {
    "interval": {"startTime": "2014-10-02T15:01:23Z", "endTime": "2014-10-02T15:01:23Z"},
    "value": {"doubleValue": 0.5},
}
DOC_INT64_VALUE = {"int64Value": "42"}  # "int64Value": string


def _keys_as_documented(answer: dict[str, Any], documented: set[str]) -> None:
    assert set(answer) <= documented, set(answer) - documented


def test_the_token_answer_has_the_documented_fields(fake: GcpFake, key: ServiceAccountKey) -> None:
    session = google_session(key)
    session.get(f"{fake.url}/v1/projects/{PROJECT}/instances").raise_for_status()
    token_request = fake.faults.served("/token")[0]

    assert token_request.method == "POST"
    assert session.credentials.token.startswith("ya29.")
    body = requests.post(
        fake.token_uri,
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": assertion(key),
        },
        timeout=10,
    ).json()
    assert set(body) == set(DOC_TOKEN_RESPONSE)
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, SCOPE)


def test_errors_have_the_documented_shape(fake: GcpFake, key: ServiceAccountKey) -> None:
    answer = google_session(key).get(f"{fake.url}/v1/projects/not-mine/instances")

    body = answer.json()
    assert set(body) == set(DOC_ERROR)
    assert set(DOC_ERROR["error"]) <= set(body["error"]) <= {"code", "message", "status", "details"}
    assert (answer.status_code, body["error"]["code"], body["error"]["status"]) == (
        403,
        403,
        "PERMISSION_DENIED",
    )


def test_instances_list_answers_as_documented(fake: GcpFake, key: ServiceAccountKey) -> None:
    fake.sql.add_instance(
        PROJECT, "primary", database_version="POSTGRES_15", region="us-central1", tier="db-f1-micro"
    )
    fake.sql.add_instance(
        PROJECT,
        "replica",
        database_version="POSTGRES_15",
        region="us-central1",
        tier="db-f1-micro",
        master="primary",
    )

    answer = google_session(key).get(
        f"{fake.url}/v1/projects/{PROJECT}/instances", params={"maxResults": 1}
    )

    body = answer.json()
    _keys_as_documented(body, DOC_INSTANCES_LIST_RESPONSE_KEYS)
    (item,) = body["items"]
    _keys_as_documented(item, DOC_DATABASE_INSTANCE_KEYS)
    _keys_as_documented(item["settings"], DOC_SETTINGS_KEYS)
    assert (item["kind"], item["settings"]["kind"]) == ("sql#instance", "sql#settings")
    assert item["settings"]["settingsVersion"] == "1"  # int64 fields are JSON strings
    assert item["replicaNames"] == ["replica"] and body["nextPageToken"]
    datetime.fromisoformat(item["createTime"].replace("Z", "+00:00"))  # RFC 3339


def test_the_documented_stop_request_answers_an_operation(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    fake.sql.add_instance(
        PROJECT, "db", database_version="MYSQL_8_0", region="us-central1", tier="db-f1-micro"
    )
    path = DOC_PATCH_URL.removeprefix("https://sqladmin.googleapis.com")
    path = path.replace("project-id", PROJECT).replace("instance-id", "db")
    body = {"settings": {"activationPolicy": "NEVER"}}  # "activation-policy": ALWAYS or NEVER
    assert (
        body.keys() == DOC_PATCH_BODY.keys()
        and body["settings"].keys() == DOC_PATCH_BODY["settings"].keys()
    )

    session = google_session(key)
    answer = session.request(DOC_PATCH_METHOD, fake.url + path, json=body)
    again = session.request(DOC_PATCH_METHOD, fake.url + path, json=body)  # the first runs

    operation = answer.json()
    assert (again.status_code, again.json()) == (409, DOC_OPERATION_IN_PROGRESS)
    _keys_as_documented(operation, DOC_OPERATION_KEYS)
    assert operation["kind"] == "sql#operation"
    assert operation["status"] in DOC_OPERATION_STATUS
    assert (operation["operationType"], operation["targetId"], operation["targetProject"]) == (
        "UPDATE",
        "db",
        PROJECT,
    )


def test_time_series_list_answers_as_documented(fake: GcpFake, key: ServiceAccountKey) -> None:
    fake.sql.add_instance(
        PROJECT, "db", database_version="MYSQL_8_0", region="us-central1", tier="db-f1-micro"
    )
    start = datetime(2014, 10, 2, 15, 1, 23, tzinfo=UTC)
    series = fake.instance_series(PROJECT, "db", "cloudsql.googleapis.com/database/cpu/utilization")
    series.add({start + timedelta(minutes=m): 0.5 for m in range(1, 181)})
    connections = fake.instance_series(
        PROJECT, "db", "cloudsql.googleapis.com/database/network/connections"
    )
    connections.add({start + timedelta(minutes=m): 42 for m in range(1, 181)})
    session = google_session(key)
    url = f"{fake.url}/v3/projects/{PROJECT}/timeSeries"

    body = session.get(url, params=DOC_TIME_SERIES_REQUEST).json()

    _keys_as_documented(body, DOC_LIST_TIME_SERIES_RESPONSE_KEYS)
    (found,) = body["timeSeries"]
    _keys_as_documented(found, DOC_TIME_SERIES_KEYS)
    assert found["points"][0] == {
        "interval": {"startTime": "2014-10-02T18:01:23Z", "endTime": "2014-10-02T18:01:23Z"},
        "value": DOC_POINT["value"],
    }
    ends = [p["interval"]["endTime"] for p in found["points"]]
    assert ends == sorted(ends, reverse=True) and len(ends) == 3  # reverse time order
    count = {**DOC_TIME_SERIES_REQUEST, "aggregation.perSeriesAligner": "ALIGN_MAX"}
    count["filter"] = 'metric.type = "cloudsql.googleapis.com/database/network/connections"'
    int_series = session.get(url, params=count).json()["timeSeries"][0]
    assert int_series["valueType"] == "INT64"
    assert int_series["points"][0]["value"] == DOC_INT64_VALUE
