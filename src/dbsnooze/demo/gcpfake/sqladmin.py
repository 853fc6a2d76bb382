"""Cloud SQL Admin API v1 of the fake: instances list / get / patch, and operations.

A PATCH of settings.activationPolicy answers an Operation that goes PENDING -> RUNNING -> DONE
over a few operations.get polls; the instance's policy changes when it is DONE. Read replicas
cannot be stopped (the API refuses, as Cloud SQL does). Operations Cloud SQL runs on its own (a
backup, maintenance) are started by tests with `start_operation` and run until a moment of the
clock or `finish_operation`. As in Cloud SQL, an instance runs one operation at a time: a PATCH
while one is not DONE is refused with 409 `operationInProgress`.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dbsnooze.demo.gcpfake import paging
from dbsnooze.demo.gcpfake.errors import GoogleError, invalid, not_found, operation_in_progress

API = "https://sqladmin.googleapis.com/v1"
DEFAULT_PAGE = 500  # instances.list: "If unspecified, at most 500 instances are returned."
MAX_PAGE = 1000  # "The maximum value is 1000; values above 1000 are coerced to 1000."
POLICIES = frozenset({"ALWAYS", "NEVER"})


def rfc3339(moment: datetime) -> str:
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


@dataclass(slots=True)
class _Operation:
    project: str
    name: str
    instance: str
    user: str
    policy: str | None  # what a PATCH sets; None for an operation that changes no policy
    inserted: datetime
    operation_type: str = "UPDATE"
    by_polls: bool = True  # a PATCH's ends after polls; Cloud SQL's own by `until` or by hand
    until: datetime | None = None
    polls: int = 0
    ended: datetime | None = None


class CloudSql:
    """The instances and operations of every project, behind one lock."""

    def __init__(self, clock: Callable[[], datetime], polls_to_done: int = 2) -> None:
        self._clock = clock
        self.polls_to_done = polls_to_done
        # Google may answer fewer items than maxResults asks for; tests lower this to page
        self.page_cap = MAX_PAGE
        self._lock = threading.Lock()
        self._instances: dict[tuple[str, str], dict[str, Any]] = {}
        self._operations: dict[tuple[str, str], _Operation] = {}

    def add_instance(
        self,
        project: str,
        name: str,
        *,
        database_version: str,
        region: str,
        tier: str,
        activation_policy: str = "ALWAYS",
        labels: Mapping[str, str] | None = None,
        master: str | None = None,
        created: datetime | None = None,
    ) -> dict[str, Any]:
        """Add an instance (a read replica of `master` if given); returns its resource."""
        resource = _instance_resource(project, name, database_version, region, tier)
        resource["settings"]["activationPolicy"] = activation_policy
        resource["settings"]["userLabels"] = dict(labels or {})
        resource["createTime"] = rfc3339(created or self._clock())
        with self._lock:
            if master is not None:
                _link_replica(resource, self._instances[(project, master)])
            self._instances[(project, name)] = resource
            return copy.deepcopy(resource)

    def set_state(self, project: str, name: str, state: str) -> None:
        """Put an instance in a SqlInstanceState (MAINTENANCE, SUSPENDED...), as Google may."""
        with self._lock:
            self._instance(project, name)["state"] = state

    def remove_instance(self, project: str, name: str) -> None:
        with self._lock:
            del self._instances[(project, name)]

    def get(self, project: str, name: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._instance(project, name))

    def list_page(self, project: str, max_results: int | None, token: str | None) -> dict[str, Any]:
        """One page of instances.list, in the alphabetical order of the instance names."""
        size = min(DEFAULT_PAGE if not max_results else min(max_results, MAX_PAGE), self.page_cap)
        query = f"instances:{project}"
        start = paging.decode(token, query, 1)[0] if token else 0
        with self._lock:
            names = sorted(name for (p, name) in self._instances if p == project)
            items = [copy.deepcopy(self._instances[(project, n)]) for n in names]
        answer: dict[str, Any] = {"kind": "sql#instancesList"}
        if items[start : start + size]:
            answer["items"] = items[start : start + size]
        if start + size < len(items):
            answer["nextPageToken"] = paging.encode(query, [start + size])
        return answer

    def patch(self, project: str, name: str, body: Mapping[str, Any], user: str) -> dict[str, Any]:
        policy = _requested_policy(body)
        with self._lock:
            instance = self._instance(project, name)
            if policy == "NEVER" and instance["instanceType"] == "READ_REPLICA_INSTANCE":
                raise GoogleError(
                    "FAILED_PRECONDITION", "The requested operation is not valid for a replica."
                )
            if self._running(project, name):
                raise operation_in_progress()
            operation = self._add_operation(project, name, user, policy)
            return _operation_resource(operation, "PENDING")

    def start_operation(
        self,
        project: str,
        name: str,
        operation_type: str = "BACKUP_VOLUME",
        until: datetime | None = None,
    ) -> str:
        """An operation Cloud SQL runs on the instance by itself (a backup, maintenance): RUNNING
        until `until` on the clock, or until `finish_operation`; its name."""
        with self._lock:
            self._instance(project, name)
            operation = self._add_operation(project, name, "cloud-sql-system", None)
            operation.operation_type, operation.by_polls = operation_type, False
            operation.until = until
            return operation.name

    def finish_operation(self, project: str, operation_name: str) -> None:
        with self._lock:
            operation = self._operations[(project, operation_name)]
            if operation.ended is None:
                self._end(operation, self._clock())

    def operation(self, project: str, name: str) -> dict[str, Any]:
        """operations.get: each poll moves a PATCH's operation on; DONE applies its change."""
        with self._lock:
            operation = self._operations.get((project, name))
            if operation is None:
                raise not_found(f"The operation {name} does not exist in project {project}.")
            operation.polls += 1
            done = operation.by_polls and operation.polls >= self.polls_to_done
            if done and operation.ended is None:
                self._end(operation, self._clock())
            self._settle(operation)
            return _operation_resource(operation, "RUNNING" if operation.ended is None else "DONE")

    def _add_operation(self, project: str, name: str, user: str, policy: str | None) -> _Operation:
        operation = _Operation(project, f"fake-{uuid.uuid4()}", name, user, policy, self._clock())
        self._operations[(project, operation.name)] = operation
        return operation

    def _running(self, project: str, name: str) -> bool:
        """Whether an operation on the instance is not DONE yet."""
        found = False
        for operation in self._operations.values():
            if (operation.project, operation.instance) == (project, name):
                self._settle(operation)
                found = found or operation.ended is None
        return found

    def _settle(self, operation: _Operation) -> None:
        """An operation of Cloud SQL's own ends when the clock reaches its `until`."""
        until = operation.until
        if operation.ended is None and until is not None and self._clock() >= until:
            self._end(operation, until)

    def _end(self, operation: _Operation, at: datetime) -> None:
        operation.ended = at
        if operation.policy is not None:
            self._apply(operation)

    def _apply(self, operation: _Operation) -> None:
        instance = self._instances.get((operation.project, operation.instance))
        if instance is not None:
            settings = instance["settings"]
            settings["activationPolicy"] = operation.policy
            settings["settingsVersion"] = str(int(settings["settingsVersion"]) + 1)
            instance["etag"] = uuid.uuid4().hex

    def _instance(self, project: str, name: str) -> dict[str, Any]:
        instance = self._instances.get((project, name))
        if instance is None:
            raise not_found(f"The Cloud SQL instance {name} does not exist in project {project}.")
        return instance


def _requested_policy(body: Mapping[str, Any]) -> str:
    settings = body.get("settings")
    if (
        set(body) != {"settings"}
        or not isinstance(settings, dict)
        or set(settings) != {"activationPolicy"}
    ):
        raise invalid("The fake only patches settings.activationPolicy.")
    policy = settings["activationPolicy"]
    if policy not in POLICIES:
        raise invalid(f"Invalid value for settings.activationPolicy: {policy!r}")
    return str(policy)


def _instance_resource(
    project: str, name: str, database_version: str, region: str, tier: str
) -> dict[str, Any]:
    return {
        "kind": "sql#instance",
        "state": "RUNNABLE",
        "databaseVersion": database_version,
        "settings": {
            "kind": "sql#settings",
            "tier": tier,
            "settingsVersion": "1",
            "availabilityType": "ZONAL",
            "pricingPlan": "PER_USE",
            "dataDiskSizeGb": "10",
            "dataDiskType": "PD_SSD",
        },
        "etag": uuid.uuid4().hex,
        "instanceType": "CLOUD_SQL_INSTANCE",
        "project": project,
        "backendType": "SECOND_GEN",
        "selfLink": f"{API}/projects/{project}/instances/{name}",
        "connectionName": f"{project}:{region}:{name}",
        "name": name,
        "region": region,
        "gceZone": f"{region}-a",
    }


def _link_replica(replica: dict[str, Any], master: dict[str, Any]) -> None:
    replica["instanceType"] = "READ_REPLICA_INSTANCE"
    replica["masterInstanceName"] = f"{master['project']}:{master['name']}"
    master.setdefault("replicaNames", []).append(replica["name"])


def _operation_resource(operation: _Operation, status: str) -> dict[str, Any]:
    base = f"{API}/projects/{operation.project}"
    resource: dict[str, Any] = {
        "kind": "sql#operation",
        "targetLink": f"{base}/instances/{operation.instance}",
        "status": status,
        "user": operation.user,
        "insertTime": rfc3339(operation.inserted),
        "operationType": operation.operation_type,
        "name": operation.name,
        "targetId": operation.instance,
        "selfLink": f"{base}/operations/{operation.name}",
        "targetProject": operation.project,
    }
    if status != "PENDING":
        resource["startTime"] = rfc3339(operation.inserted)
    if operation.ended is not None:
        resource["endTime"] = rfc3339(operation.ended)
    return resource
