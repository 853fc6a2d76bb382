"""Throwaway service-account keys in the JSON shape Google issues them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

KEY_BITS = 2048


@dataclass(frozen=True, slots=True)
class ServiceAccountKey:
    """A key file's content (`info`, secret) and the public half the fake verifies with."""

    email: str
    key_id: str
    public_key: RSAPublicKey = field(repr=False)
    info: dict[str, Any] = field(repr=False)


def new_key(email: str, project: str, token_uri: str) -> ServiceAccountKey:
    """A fresh RSA key for `email`, its JSON key file pointing at `token_uri`."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key_id = secrets.token_hex(20)
    info = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": key_id,
        "private_key": pem,
        "client_email": email,
        "client_id": str(secrets.randbelow(10**20)),
        "token_uri": token_uri,
    }
    return ServiceAccountKey(email, key_id, private.public_key(), info)
