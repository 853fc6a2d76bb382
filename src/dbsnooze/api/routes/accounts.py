"""Cloud accounts: create (tested first), list, get, delete, test."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from dbsnooze import accounts
from dbsnooze.api.deps import ActorDep, ContextDep, SessionDep
from dbsnooze.api.openapi import errors
from dbsnooze.api.params import Id
from dbsnooze.api.schemas import (
    AccountCreate,
    AccountCreated,
    AccountPublic,
    AccountTestResult,
    Page,
    to_credentials,
)
from dbsnooze.errors import NotFound
from dbsnooze.store import accounts as account_store
from dbsnooze.store.accounts import NewAccount
from dbsnooze.store.tables import AccountRow

router = APIRouter(prefix="/cloud-accounts", tags=["accounts"])


def public(row: AccountRow, instance_count: int = 0) -> AccountPublic:
    return AccountPublic(
        id=row.id,
        provider=row.provider,
        name=row.name,
        auth_method=row.auth_method,
        profile=row.auth_params.get("profile"),
        role_arn=row.auth_params.get("role_arn"),
        secret_hint=row.secret_hint,
        regions=row.regions,
        projects=row.projects or [],
        target_service_account=row.auth_params.get("target_service_account"),
        endpoint_url=row.endpoint_url,
        timezone=row.timezone,
        instance_count=instance_count,
        created_at=row.created_at,
        last_tested_at=row.last_tested_at,
        last_test_error=row.last_test_error,
    )


@router.get("")
def list_accounts(session: SessionDep) -> Page[AccountPublic]:
    rows = account_store.all_rows(session)
    counts = account_store.instance_counts(session)
    data = [public(row, counts.get(row.id, 0)) for row in rows]
    return Page(data=data, count=len(data), limit=len(data), offset=0)


@router.post("", status_code=status.HTTP_201_CREATED, responses=errors(400, 409))
def create_account(
    body: AccountCreate, ctx: ContextDep, who: ActorDep, response: Response
) -> AccountCreated:
    credentials = to_credentials(body.auth)
    new = NewAccount(
        provider=body.provider,
        name=body.name,
        regions=tuple(body.regions),
        credentials=credentials,
        endpoint_url=body.endpoint_url,
        secret_hint=accounts.secret_hint(credentials),
        timezone=body.timezone,
        projects=tuple(body.projects),
    )
    created = accounts.create(ctx, new, who)
    response.headers["Location"] = f"/api/v1/cloud-accounts/{created.row.id}"
    return AccountCreated(**public(created.row).model_dump(), warnings=list(created.warnings))


@router.get("/{account_id}", responses=errors(404))
def get_account(account_id: Id, session: SessionDep) -> AccountPublic:
    row = account_store.get(session, account_id)
    if row is None:
        raise NotFound("account_not_found", f"no cloud account with id {account_id}")
    return public(row, account_store.instance_counts(session).get(row.id, 0))


@router.delete("/{account_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(404))
def delete_account(account_id: Id, ctx: ContextDep, who: ActorDep) -> Response:
    accounts.delete(ctx, account_id, who)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{account_id}/test", responses=errors(404))
def test_account(account_id: Id, ctx: ContextDep, who: ActorDep) -> AccountTestResult:
    tested = accounts.test_stored(ctx, account_id, who)
    return AccountTestResult(ok=tested.ok, error=tested.error, warnings=list(tested.warnings))
