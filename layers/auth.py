"""Editor passwords: PBKDF2-SHA256 hashes kept in ``secrets.toml``, never the passwords."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

ITERATIONS = 200_000


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``pbkdf2_sha256$<iterations>$<salt>$<hash>`` for ``secrets.toml``."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, ITERATIONS)
    return "$".join(
        [
            "pbkdf2_sha256",
            str(ITERATIONS),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of a password against a stored hash (False on any malformation)."""
    try:
        algo, iterations, salt, digest = stored.split("$")
        if algo != "pbkdf2_sha256":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac(
            "sha256", password.encode("utf-8"), base64.b64decode(salt), int(iterations)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected, actual)


MIN_PASSWORD = 12
MAX_NAME = 64
# verified when the name is unknown, so that known and unknown names cost the same time
_DUMMY_HASH = hash_password("atlas-pma-dummy-password", salt=b"atlas-pma-dummy!")


def password_problem(password: str) -> str | None:
    """Why a new editor password is refused (French), or None when it is acceptable."""
    if len(password) < MIN_PASSWORD:
        return f"mot de passe trop court : {MIN_PASSWORD} caractères au moins."
    if len(set(password)) < 5:
        return "mot de passe trop répétitif : variez les caractères."
    return None


def secrets_line(user: str, hashed: str) -> str:
    """The ``secrets.toml`` line for an editor: the name quoted when TOML needs it.

    Raises ``ValueError`` (French) for a name TOML or the login form cannot carry.
    """
    if not user or len(user) > MAX_NAME or any(ord(c) < 32 or ord(c) == 127 for c in user):
        raise ValueError(f"identifiant invalide : 1 à {MAX_NAME} caractères imprimables.")
    if user != user.strip():
        raise ValueError("identifiant invalide : pas d'espace au début ni à la fin.")
    bare = all(c.isascii() and (c.isalnum() or c in "_-") for c in user)
    key = user if bare else json.dumps(user, ensure_ascii=True)
    return f"{key} = {json.dumps(hashed)}"


def editor_accounts(section: object) -> tuple[dict[str, str], str | None]:
    """The ``[editeurs]`` section as {name: hash}, and a French problem if it is malformed.

    A wrong type (``editeurs = "alice"``) or an entry that is not a PBKDF2 hash disables
    that part of the configuration instead of breaking the page.
    """
    if section is None:
        return {}, None
    if not isinstance(section, Mapping):
        return {}, "la section [editeurs] de secrets.toml est mal formée (table attendue)."
    accounts, bad = {}, []
    for name, value in section.items():
        if isinstance(value, str) and value.startswith("pbkdf2_sha256$"):
            accounts[str(name)] = value
        else:
            bad.append(str(name))
    problem = (
        f"entrée(s) ignorée(s) dans [editeurs] (empreinte attendue) : {', '.join(bad)}"
        if bad
        else None
    )
    return accounts, problem


def allowed_oidc_editor(identity: str | None, allowed: object) -> bool:
    """Whether an OIDC account (e-mail) is in the editors' allow-list (case-insensitive)."""
    if not identity or not isinstance(allowed, list | tuple):
        return False
    return identity.strip().lower() in {str(a).strip().lower() for a in allowed}


@dataclass
class LoginGuard:
    """Counts failed logins per name and per client; locks after ``max_failures``.

    One guard per server process (shared by every session), so opening a new tab does not
    reset the count. A locked name or client is refused, even with the right password,
    until ``lockout_s`` has passed since the last failure.
    """

    max_failures: int = 5
    lockout_s: float = 900.0
    _failures: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _locked(self, key: str, now: float) -> bool:
        count, last = self._failures.get(key, (0, 0.0))
        if count >= self.max_failures and now - last < self.lockout_s:
            return True
        if now - last >= self.lockout_s:
            self._failures.pop(key, None)
        return False

    def attempt(
        self,
        accounts: Mapping[str, str],
        name: str,
        password: str,
        client: str = "",
        now: float | None = None,
    ) -> tuple[bool, str | None]:
        """Check a login; returns (accepted, French message when refused).

        The attempt is counted as a failure *before* the password is checked (and forgiven
        when it was right): 16 simultaneous wrong tries for one name get at most
        ``max_failures`` password checks, not as many as slip in while a check runs.
        """
        now = time.monotonic() if now is None else now
        keys = [f"nom:{name.strip().lower()}"] + ([f"client:{client}"] if client else [])
        with self._lock:
            if any(self._locked(k, now) for k in keys):
                return False, self.locked_message()
            for key in keys:
                count, _ = self._failures.get(key, (0, 0.0))
                self._failures[key] = (count + 1, now)
        stored = accounts.get(name)
        ok = verify_password(password, stored if stored is not None else _DUMMY_HASH)
        ok = ok and stored is not None
        if ok:
            with self._lock:
                for key in keys:
                    self._failures.pop(key, None)
        return (True, None) if ok else (False, "Identifiant ou mot de passe incorrect.")

    def locked_message(self) -> str:
        """What a locked-out editor reads: for how long, and what to do."""
        minutes = round(self.lockout_s / 60)
        return (
            f"Trop d'essais infructueux : cet identifiant est bloqué {minutes} minutes pour "
            "tout le monde (y compris avec le bon mot de passe). Réessayez dans "
            f"{minutes} minutes, ou demandez à l'administrateur de redémarrer l'application "
            "pour le débloquer tout de suite."
        )

    def rule(self) -> str:
        """The lockout rule, shown beside the login form."""
        return (
            f"Après {self.max_failures} mots de passe faux, l'identifiant est bloqué "
            f"{round(self.lockout_s / 60)} minutes pour tout le monde."
        )
