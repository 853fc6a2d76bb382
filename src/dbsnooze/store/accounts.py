"""Queries on cloud accounts. Rows become domain accounts here, with secrets opened by the box."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dbsnooze.crypto import SecretBox
from dbsnooze.domain import AuthMethod, CloudAccount, Credentials, Provider
from dbsnooze.errors import Conflict
from dbsnooze.store.tables import AccountRow, InstanceRow

SECRET_FIELDS = (
    "access_key_id",
    "secret_access_key",
    "session_token",
    "external_id",
    "service_account_json",
)
PUBLIC_FIELDS = ("profile", "role_arn", "source_profile", "target_service_account")


@dataclass(frozen=True, slots=True)
class NewAccount:
    provider: Provider
    name: str
    regions: tuple[str, ...]
    credentials: Credentials
    endpoint_url: str | None
    secret_hint: str | None
    timezone: str | None = None  # the owners' default zone for sleep windows (SPEC §10)
    projects: tuple[str, ...] = ()  # GCP: the projects to scan


def add(session: Session, box: SecretBox, new: NewAccount, now: datetime) -> AccountRow:
    creds = new.credentials
    secrets = {f: getattr(creds, f) for f in SECRET_FIELDS if getattr(creds, f) is not None}
    row = AccountRow(
        provider=new.provider.value,
        name=new.name,
        auth_method=creds.method.value,
        auth_params={f: getattr(creds, f) for f in PUBLIC_FIELDS if getattr(creds, f)},
        secrets_encrypted=box.seal(secrets) if secrets else None,
        secret_hint=new.secret_hint,
        regions=list(new.regions),
        projects=list(new.projects),
        endpoint_url=new.endpoint_url,
        timezone=new.timezone,
        created_at=now,
        updated_at=now,
        last_tested_at=now,
    )
    try:  # the name was checked before the credentials test; another may have taken it since
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise name_taken(new.name) from None
    return row


def name_taken(name: str) -> Conflict:
    return Conflict("account_exists", f"an account named {name!r} already exists")


def get(session: Session, account_id: int) -> AccountRow | None:
    return session.get(AccountRow, account_id)


def by_name(session: Session, name: str) -> AccountRow | None:
    return session.scalar(select(AccountRow).where(AccountRow.name == name))


def all_rows(session: Session) -> list[AccountRow]:
    return list(session.scalars(select(AccountRow).order_by(AccountRow.id)))


def instance_counts(session: Session) -> dict[int, int]:
    """Live (not deleted) instances per account, in one query."""
    query = (
        select(InstanceRow.account_id, func.count())
        .where(InstanceRow.deleted_at.is_(None))
        .group_by(InstanceRow.account_id)
    )
    return {account_id: count for account_id, count in session.execute(query).tuples()}


def to_domain(row: AccountRow, box: SecretBox) -> CloudAccount:
    secrets = box.open(row.secrets_encrypted) if row.secrets_encrypted else {}
    credentials = Credentials(
        method=AuthMethod(row.auth_method),
        **{f: row.auth_params.get(f) for f in PUBLIC_FIELDS},
        **{f: secrets.get(f) for f in SECRET_FIELDS},
    )
    return CloudAccount(
        id=row.id,
        provider=Provider(row.provider),
        name=row.name,
        regions=tuple(row.regions),
        credentials=credentials,
        endpoint_url=row.endpoint_url,
        projects=tuple(row.projects or ()),
    )
