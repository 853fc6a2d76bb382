"""Request bodies and cloud fixtures shared by the API tests."""

from __future__ import annotations

from typing import Any

from dbsnooze.demo.emulator import Emulator

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"


def static_account(emulator: Emulator, name: str = "main", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "provider": "aws",
        "regions": ["us-east-1", "eu-west-1"],
        "endpoint_url": emulator.endpoint_url,
        "auth": {"method": "static_keys", "access_key_id": KEY_ID, "secret_access_key": SECRET},
    }
    body.update(extra)
    return body


def create_db(emulator: Emulator, region: str, identifier: str, **extra: Any) -> None:
    emulator.client("rds", region).create_db_instance(
        DBInstanceIdentifier=identifier,
        DBInstanceClass=extra.pop("DBInstanceClass", "db.t3.micro"),
        Engine=extra.pop("Engine", "postgres"),
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="password123",
        **extra,
    )
