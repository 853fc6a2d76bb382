"""The IAM permission of every GCP call, as data: the least-privilege role comes from code."""

from __future__ import annotations

from dbsnooze.demo.gcpfake.auth import ALL_PERMISSIONS, IMPERSONATE_PERMISSION
from dbsnooze.providers.gcp.permissions import (
    CALL_SITES,
    INSTANCES_GET,
    INSTANCES_LIST,
    INSTANCES_PATCH,
    OPERATIONS_GET,
    TIME_SERIES_LIST,
    custom_role,
    permission_for,
    required_permissions,
)


def test_each_call_names_the_permission_google_documents_for_it() -> None:
    assert permission_for(INSTANCES_LIST) == "cloudsql.instances.list"
    assert permission_for(INSTANCES_GET) == "cloudsql.instances.get"
    assert permission_for(OPERATIONS_GET) == "cloudsql.instances.get"
    assert permission_for(INSTANCES_PATCH) == "cloudsql.instances.update"
    assert permission_for(TIME_SERIES_LIST) == "monitoring.timeSeries.list"


def test_the_role_holds_exactly_what_the_calls_need_and_the_fake_enforces() -> None:
    role = custom_role()

    assert role["includedPermissions"] == sorted(ALL_PERMISSIONS)
    assert required_permissions() == tuple(sorted(ALL_PERMISSIONS))
    assert required_permissions(on_source_identity=True) == (IMPERSONATE_PERMISSION,)


def test_every_call_site_is_declared_once_with_a_purpose() -> None:
    methods = [site.method for site in CALL_SITES]
    assert len(methods) == len(set(methods))
    assert all(site.purpose and site.service for site in CALL_SITES)
