"""Staff login: bcrypt passwords, a limit on failed logins and session tokens that expire.

One staff account comes from the settings (``staff_username`` and ``staff_password_hash``,
a bcrypt hash made with ``ivb hash-password``). Tokens live in this process only: a
restart logs everybody out, which is what we want for a small staff page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import bcrypt

from assistant.settings import Settings

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


@dataclass
class _Session:
    username: str
    expires_at: float


class StaffAuth:
    """Checks staff logins, limits failed attempts and hands out expiring session tokens.

    Args:
        settings: staff_username, staff_password_hash, session_ttl_s, login_max_failures
            and login_window_s.
        clock: monotonic seconds; tests pass a fake clock.
    """

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.username = settings.staff_username or ""
        secret = settings.staff_password_hash
        self.password_hash = secret.get_secret_value() if secret is not None else ""
        self.ttl_s = settings.session_ttl_s
        self.max_failures = settings.login_max_failures
        self.window_s = settings.login_window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._sessions: dict[str, _Session] = {}  # keyed by the sha256 of the token

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
        key = (username.strip().lower(), client or "-")
        now = self._clock()
        with self._lock:
            self._forget_old_failures(now)
            failures = self._failures.get(key)
            if failures is not None and len(failures) >= self.max_failures:
                wait = max(1.0, failures[0] + self.window_s - now)
                return LoginResult(
                    False,
                    message=f"Te veel mislukte pogingen. Probeer het over {_minutes(wait)} "
                    "opnieuw.",
                    retry_after_s=wait,
                )
        # bcrypt is slow on purpose: check outside the lock. Always check a hash.
        name_ok = hmac.compare_digest(username.strip().encode(), self.username.encode())
        password_ok = verify_password(password, self.password_hash if name_ok else _dummy_hash())
        with self._lock:
            if name_ok and password_ok:
                self._failures.pop(key, None)
                token = secrets.token_urlsafe(32)
                self._sessions[_digest(token)] = _Session(self.username, now + self.ttl_s)
                return LoginResult(True, token=token, message="Ingelogd.")
            self._failures.setdefault(key, deque()).append(now)
        return LoginResult(False, message="Onjuiste gebruikersnaam of wachtwoord.")

    def validate(self, token: str | None) -> str | None:
        """The username of a live session token, or None (unknown, expired or empty).

        Args:
            token: the token ``login`` returned.
        """
        if not token or not isinstance(token, str):
            return None
        now = self._clock()
        with self._lock:
            key = _digest(token)
            session = self._sessions.get(key)
            if session is None:
                return None
            if session.expires_at <= now:
                del self._sessions[key]
                return None
            return session.username

    def logout(self, token: str | None) -> None:
        """End a session (unknown tokens are ignored).

        Args:
            token: the token ``login`` returned.
        """
        if token:
            with self._lock:
                self._sessions.pop(_digest(token), None)

    def _forget_old_failures(self, now: float) -> None:
        for key in list(self._failures):
            failures = self._failures[key]
            while failures and failures[0] <= now - self.window_s:
                failures.popleft()
            if not failures:
                del self._failures[key]
        for key in [k for k, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[key]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return "1 minuut" if minutes == 1 else f"{minutes} minuten"
