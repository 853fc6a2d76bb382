"""Errors that carry a stable code and a message safe to show a user (never a secret)."""

from __future__ import annotations


class DbsnoozeError(Exception):
    status = 400

    def __init__(self, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


class NotFound(DbsnoozeError):
    status = 404


class Conflict(DbsnoozeError):
    status = 409


class Unprocessable(DbsnoozeError):
    status = 422


class Unavailable(DbsnoozeError):
    status = 503
