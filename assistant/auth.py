"""Staff login: bcrypt passwords, a limit on failed logins and session tokens that expire.

One staff account comes from the settings (``staff_username`` and ``staff_password_hash``,
a bcrypt hash made with ``ivb hash-password``). Sessions and failed logins are kept by a
:class:`LoginState`: in this process by default (a restart logs everybody out, which is
what we want for a small staff page), in PostgreSQL when ``IVB_DATABASE_URL`` is set, so
a login on one replica is valid on all and the limit on failures counts across them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import bcrypt

from assistant.settings import Settings
from assistant.store.postgres import PostgresDatabase, database_url, shared_database

# bcrypt only looks at the first 72 bytes; longer passwords are refused rather than cut.
MAX_PASSWORD_BYTES = 72


def hash_password(password: str) -> str:
    """A bcrypt hash of a password, for ``IVB_STAFF_PASSWORD_HASH``.

    Args:
        password: the password; at most 72 bytes in UTF-8.
    """
    raw = password.encode("utf-8")
    if not raw:
        raise ValueError("Het wachtwoord is leeg.")
    if len(raw) > MAX_PASSWORD_BYTES:
        raise ValueError(f"Het wachtwoord is langer dan {MAX_PASSWORD_BYTES} bytes.")
    return bcrypt.hashpw(raw, bcrypt.gensalt()).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    """Whether a password matches a bcrypt hash; False for a malformed hash.

    Args:
        password: the password as typed.
        password_hash: a bcrypt hash (``$2b$...``).
    """
    raw = password.encode("utf-8")
    if not raw or len(raw) > MAX_PASSWORD_BYTES:
        return False
    try:
        return bcrypt.checkpw(raw, password_hash.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A valid hash of a random password: checked when the username is wrong, so that a
    wrong username costs as much time as a wrong password and reveals nothing."""
    return bcrypt.hashpw(secrets.token_bytes(16).hex().encode(), bcrypt.gensalt()).decode()


@dataclass
class LoginResult:
    """The outcome of one login attempt."""

    ok: bool
    token: str | None = None
    message: str = ""
    retry_after_s: float = 0.0


class LoginState(Protocol):
    """Where staff sessions and failed logins are kept. Times are the auth's clock
    (seconds); a session is keyed by the sha256 of its token, never the token itself."""

    def failures(self, key: str) -> list[float]:
        """The times of this key's remembered failed logins, oldest first."""
        ...

    def add_failure(self, key: str, at: float) -> None: ...

    def clear_failures(self, key: str) -> None: ...

    def add_session(self, digest: str, username: str, expires_at: float) -> None: ...

    def session(self, digest: str, now: float) -> str | None:
        """The username of a live session; an expired one is deleted (None)."""
        ...

    def drop_session(self, digest: str) -> None: ...

    def forget(self, now: float, window_s: float) -> None:
        """Delete failures older than the window and expired sessions."""
        ...


@dataclass
class _Session:
    username: str
    expires_at: float


class MemoryLoginState:
    """Sessions and failures in this process (implements :class:`LoginState`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}
        self._sessions: dict[str, _Session] = {}

    def failures(self, key: str) -> list[float]:
        with self._lock:
            return list(self._failures.get(key, ()))

    def add_failure(self, key: str, at: float) -> None:
        with self._lock:
            self._failures.setdefault(key, deque()).append(at)

    def clear_failures(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def add_session(self, digest: str, username: str, expires_at: float) -> None:
        with self._lock:
            self._sessions[digest] = _Session(username, expires_at)

    def session(self, digest: str, now: float) -> str | None:
        with self._lock:
            session = self._sessions.get(digest)
            if session is None:
                return None
            if session.expires_at <= now:
                del self._sessions[digest]
                return None
            return session.username

    def drop_session(self, digest: str) -> None:
        with self._lock:
            self._sessions.pop(digest, None)

    def forget(self, now: float, window_s: float) -> None:
        with self._lock:
            for key in list(self._failures):
                failures = self._failures[key]
                while failures and failures[0] <= now - window_s:
                    failures.popleft()
                if not failures:
                    del self._failures[key]
            for key in [k for k, s in self._sessions.items() if s.expires_at <= now]:
                del self._sessions[key]


_LOGIN_SCHEMA = """
CREATE TABLE IF NOT EXISTS staff_sessions (
    digest TEXT PRIMARY KEY, username TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (key TEXT NOT NULL, at DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures(key, at)
"""


class PostgresLoginState:
    """Sessions and failures in PostgreSQL, shared by every replica (implements
    :class:`LoginState`); times are wall-clock seconds, the same on every host."""

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db
        db.ensure_schema(_LOGIN_SCHEMA)

    def _run(self, sql: str, params: tuple = ()) -> list[tuple]:
        cur = self.db.connection().execute(sql, params)
        return cur.fetchall() if cur.description else []

    def failures(self, key: str) -> list[float]:
        rows = self._run("SELECT at FROM login_failures WHERE key=%s ORDER BY at", (key,))
        return [at for (at,) in rows]

    def add_failure(self, key: str, at: float) -> None:
        self._run("INSERT INTO login_failures (key, at) VALUES (%s, %s)", (key, at))

    def clear_failures(self, key: str) -> None:
        self._run("DELETE FROM login_failures WHERE key=%s", (key,))

    def add_session(self, digest: str, username: str, expires_at: float) -> None:
        self._run(
            "INSERT INTO staff_sessions VALUES (%s, %s, %s) ON CONFLICT (digest) "
            "DO UPDATE SET username = excluded.username, expires_at = excluded.expires_at",
            (digest, username, expires_at),
        )

    def session(self, digest: str, now: float) -> str | None:
        self._run("DELETE FROM staff_sessions WHERE digest=%s AND expires_at <= %s", (digest, now))
        rows = self._run("SELECT username FROM staff_sessions WHERE digest=%s", (digest,))
        return rows[0][0] if rows else None

    def drop_session(self, digest: str) -> None:
        self._run("DELETE FROM staff_sessions WHERE digest=%s", (digest,))

    def forget(self, now: float, window_s: float) -> None:
        self._run("DELETE FROM login_failures WHERE at <= %s", (now - window_s,))
        self._run("DELETE FROM staff_sessions WHERE expires_at <= %s", (now,))


def login_state(settings: Settings) -> LoginState:
    """PostgreSQL's when ``settings.database_url`` is set, else a new in-process one."""
    url = database_url(settings)
    return PostgresLoginState(shared_database(url)) if url else MemoryLoginState()


class StaffAuth:
    """Checks staff logins, limits failed attempts and hands out expiring session tokens.

    Args:
        settings: staff_username, staff_password_hash, session_ttl_s, login_max_failures,
            login_window_s and database_url.
        clock: seconds; tests pass a fake clock. Default: monotonic in this process,
            wall-clock time when the state is shared through PostgreSQL.
        state: where sessions and failures are kept (default: ``login_state(settings)``).
    """

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], float] | None = None,
        state: LoginState | None = None,
    ) -> None:
        self.username = settings.staff_username or ""
        secret = settings.staff_password_hash
        self.password_hash = secret.get_secret_value() if secret is not None else ""
        self.ttl_s = settings.session_ttl_s
        self.max_failures = settings.login_max_failures
        self.window_s = settings.login_window_s
        self.state = state or login_state(settings)
        shared = isinstance(self.state, PostgresLoginState)
        self._clock = clock or (time.time if shared else time.monotonic)

    @property
    def enabled(self) -> bool:
        """Whether staff credentials are configured at all."""
        return bool(self.username and self.password_hash)

    def login(self, username: str, password: str, client: str | None) -> LoginResult:
        """Check a username and password; too many failures lock this username+client out.

        Args:
            username: as typed.
            password: as typed.
            client: the client's address (only used as part of the rate-limit key).
        """
        if not self.enabled:
            return LoginResult(False, message="Beheer staat uit: er zijn geen inloggegevens.")
        key = json.dumps([username.strip().lower(), client or "-"])
        now = self._clock()
        self.state.forget(now, self.window_s)
        failures = self.state.failures(key)
        if len(failures) >= self.max_failures:
            wait = max(1.0, failures[0] + self.window_s - now)
            return LoginResult(
                False,
                message=f"Te veel mislukte pogingen. Probeer het over {_minutes(wait)} opnieuw.",
                retry_after_s=wait,
            )
        # bcrypt is slow on purpose. Always check a hash.
        name_ok = hmac.compare_digest(username.strip().encode(), self.username.encode())
        password_ok = verify_password(password, self.password_hash if name_ok else _dummy_hash())
        if name_ok and password_ok:
            self.state.clear_failures(key)
            token = secrets.token_urlsafe(32)
            self.state.add_session(_digest(token), self.username, now + self.ttl_s)
            return LoginResult(True, token=token, message="Ingelogd.")
        self.state.add_failure(key, now)
        return LoginResult(False, message="Onjuiste gebruikersnaam of wachtwoord.")

    def validate(self, token: str | None) -> str | None:
        """The username of a live session token, or None (unknown, expired or empty).

        Args:
            token: the token ``login`` returned.
        """
        if not token or not isinstance(token, str):
            return None
        return self.state.session(_digest(token), self._clock())

    def logout(self, token: str | None) -> None:
        """End a session (unknown tokens are ignored).

        Args:
            token: the token ``login`` returned.
        """
        if token:
            self.state.drop_session(_digest(token))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return "1 minuut" if minutes == 1 else f"{minutes} minuten"
