"""Login sessions of the web UI: a random id in the cookie, the facts on the server.

The cookie never holds the API token. Each session carries its own CSRF token, which the pages
send back in a header with every change; sessions expire and signing out revokes one.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from dbsnooze.clock import Clock

MAX_SESSIONS = 10_000  # logins beyond this push out the oldest, so memory stays bounded


@dataclass(frozen=True)
class LoginSession:
    id: str
    csrf: str
    expires_at: datetime


class SessionStore:
    """In memory: a restart signs everyone out, which is the safe direction."""

    def __init__(self, ttl: timedelta, clock: Clock, limit: int = MAX_SESSIONS) -> None:
        self._ttl, self._clock, self._limit = ttl, clock, limit
        self._sessions: dict[str, LoginSession] = {}
        self._lock = threading.Lock()

    def open(self) -> LoginSession:
        session = LoginSession(
            id=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            expires_at=self._clock() + self._ttl,
        )
        with self._lock:
            self._prune()
            self._sessions[session.id] = session
        return session

    def find(self, session_id: str) -> LoginSession | None:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and session.expires_at <= self._clock():
                del self._sessions[session_id]
                return None
            return session

    def revoke(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def _prune(self) -> None:
        now = self._clock()
        for expired in [k for k, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[expired]
        while len(self._sessions) >= self._limit:  # dicts keep insertion order: oldest first
            del self._sessions[next(iter(self._sessions))]
