"""Secrets at rest and in logs."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest

from dbsnooze.config import Settings
from dbsnooze.crypto import SecretBox, SecretKeyError, mask, secret_box
from dbsnooze.logs import JsonFormatter, redact

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(secret_key_file=tmp_path / "sub" / "dbsnooze.key")
    sealed = secret_box(settings).seal({"secret_access_key": SECRET})
    mode = stat.S_IMODE((tmp_path / "sub" / "dbsnooze.key").stat().st_mode)
    assert mode == 0o600
    assert SECRET not in sealed
    assert secret_box(settings).open(sealed) == {"secret_access_key": SECRET}


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "dbsnooze.key"
    secret_box(Settings(secret_key_file=key))
    key.chmod(0o644)
    with pytest.raises(SecretKeyError, match="chmod 600"):
        secret_box(Settings(secret_key_file=key))


def test_a_passphrase_key_works_and_a_wrong_key_says_so() -> None:
    sealed = secret_box(Settings(secret_key="correct horse battery staple")).seal({"k": "v"})
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        secret_box(Settings(secret_key="another passphrase")).open(sealed)


def test_fernet_key_is_used_as_given() -> None:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key()
    sealed = SecretBox(key).seal({"k": "v"})
    assert secret_box(Settings(secret_key=key.decode())).open(sealed) == {"k": "v"}


def test_mask_keeps_only_the_ends() -> None:
    assert mask("AKIAIOSFODNN7EXAMPLE") == "AKIA…MPLE"
    assert "secret" not in mask("secret")


def test_log_lines_are_redacted() -> None:
    text = f"key AKIAIOSFODNN7EXAMPLE secret {SECRET} header Bearer abc.def"
    cleaned = redact(text)
    assert "AKIAIOSFODNN7EXAMPLE" not in cleaned
    assert SECRET not in cleaned
    assert "abc.def" not in cleaned
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "boom %s", (SECRET,), None)
    record.detail = {"secret": SECRET}
    line = JsonFormatter().format(record)
    assert SECRET not in line
    assert json.loads(line)["level"] == "info"
