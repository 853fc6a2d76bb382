"""Cloud secrets encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from dbsnooze.config import Settings


class SecretKeyError(Exception):
    """The encryption key is missing, unreadable or does not open the stored secrets."""


class SecretBox:
    """Seals and opens the secret half of an account's credentials."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, secrets: dict[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()

    def open(self, token: str) -> dict[str, str]:
        try:
            data = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise SecretKeyError(
                "stored credentials cannot be decrypted with the configured secret key"
            ) from exc
        return {str(k): str(v) for k, v in data.items()}


def secret_box(settings: Settings) -> SecretBox:
    """The box for DBSNOOZE_SECRET_KEY, or for a key file created with mode 0600 on first run."""
    if settings.secret_key is not None:
        return SecretBox(_fernet_key(settings.secret_key.get_secret_value()))
    return SecretBox(_key_from_file(settings.secret_key_file))


def _fernet_key(material: str) -> bytes:
    """A Fernet key as given, or one derived from a passphrase of any shape."""
    try:
        if len(base64.urlsafe_b64decode(material.encode())) == 32:
            return material.encode()
    except ValueError:
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest())


def _key_from_file(path: Path) -> bytes:
    if not path.exists():
        _create_key_file(path)
    if path.stat().st_mode & 0o077:
        raise SecretKeyError(f"key file {path} is readable by others; chmod 600 it")
    return _fernet_key(path.read_text().strip())


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(Fernet.generate_key().decode() + "\n")


def mask(value: str, keep: int = 4) -> str:
    """A hint that identifies a secret without revealing it: 'AKIA…WXYZ'."""
    if len(value) <= keep * 2:
        return "…" * 3
    return f"{value[:keep]}…{value[-keep:]}"
