"""A real moto server over HTTP for the provider edge; an environment that never reads ~/.aws."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from dbsnooze.domain import AuthMethod, CloudAccount, Credentials, Provider

_AWS_VARIABLES_TO_CLEAR = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _post(url: str, body: bytes = b"") -> bytes:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: bytes = response.read()
        return answer


@pytest.fixture
def closed_endpoint() -> str:
    """A loopback URL where nothing listens: connections are refused at once."""
    return f"http://127.0.0.1:{_free_port()}"


@pytest.fixture
def moto_endpoint(moto_server: str) -> str:
    """The server's URL, its state wiped so every test starts from an empty cloud."""
    _post(f"{moto_server}/moto-api/reset")
    return moto_server


@pytest.fixture
def enforce_iam(moto_endpoint: str) -> Iterator[Callable[[], None]]:
    """Call it to make moto check signatures and IAM policies (its /moto-api/reset-auth switch).

    Arrange users and roles first: once enforced, every request must be signed by a known key.
    """
    enforced = False

    def enforce() -> None:
        nonlocal enforced
        _post(f"{moto_endpoint}/moto-api/reset-auth", b"0")
        enforced = True

    yield enforce
    if enforced:
        _post(f"{moto_endpoint}/moto-api/reset-auth", b"inf")


@pytest.fixture(autouse=True)
def isolated_aws_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty credentials/config files under tmp_path; default-chain keys that moto accepts."""
    aws_dir = tmp_path / "aws"
    aws_dir.mkdir()
    (aws_dir / "credentials").write_text("")
    (aws_dir / "config").write_text("")
    for name in _AWS_VARIABLES_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws_dir / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_dir / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADEFAULTCHAIN0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "default-chain-secret-for-tests")
    return aws_dir


@pytest.fixture
def make_account(moto_endpoint: str) -> Callable[..., CloudAccount]:
    """An AWS account pointed at the emulator unless endpoint is given."""

    def make(
        credentials: Credentials | None = None,
        regions: tuple[str, ...] = ("us-east-1",),
        account_id: int = 1,
        endpoint: str | None = moto_endpoint,
    ) -> CloudAccount:
        return CloudAccount(
            id=account_id,
            provider=Provider.AWS,
            name=f"account-{account_id}",
            regions=regions,
            credentials=credentials or Credentials(AuthMethod.DEFAULT_CHAIN),
            endpoint_url=endpoint,
        )

    return make


@pytest.fixture
def make_user(moto_endpoint: str) -> Callable[..., dict[str, str]]:
    """An IAM user allowed exactly the given actions; returns its access key id and secret."""

    def make(name: str, allowed_actions: tuple[str, ...] = ()) -> dict[str, str]:
        iam = boto3.client("iam", region_name="us-east-1", endpoint_url=moto_endpoint)
        iam.create_user(UserName=name)
        if allowed_actions:
            statement = {"Effect": "Allow", "Action": list(allowed_actions), "Resource": "*"}
            document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
            iam.put_user_policy(UserName=name, PolicyName="allowed", PolicyDocument=document)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}

    return make


@pytest.fixture
def make_role(moto_endpoint: str) -> Callable[[str], str]:
    """An IAM role anyone may assume; returns its ARN."""

    def make(name: str) -> str:
        iam = boto3.client("iam", region_name="us-east-1", endpoint_url=moto_endpoint)
        statement = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
        trust = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        return arn

    return make
