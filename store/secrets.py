"""Secrets kept in the database (Slack OAuth bot tokens, people's secret calendar addresses)
are encrypted with Fernet.

The keys come from TOUCHBASE_SECRET_KEYS: one or more Fernet keys, comma-separated. The first
encrypts; every one of them decrypts (cryptography's MultiFernet), so a key is rotated by
putting a new key first and keeping the old ones after it: each stored token is re-encrypted
with the new key the next time it is read, and the old key can go once every workspace has
been used (or after `touchbase db rotate-keys`). A calendar address works the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

# bolt's installation fields that hold a credential
SECRET_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
PREFIX = "fernet:"


class SecretKeyError(ValueError):
    """The configured keys are missing or not Fernet keys; the message says what to do."""


class TokenCipher:
    def __init__(self, keys: Iterable[str]) -> None:
        given = [k.strip() for k in keys if k.strip()]
        if not given:
            raise SecretKeyError(
                "Slack installs need TOUCHBASE_SECRET_KEYS, the key their tokens are encrypted "
                "with in the database. Make one with `touchbase db new-key` and set it on every "
                "server."
            )
        try:
            fernets = [Fernet(k.encode()) for k in given]
        except ValueError:
            raise SecretKeyError(
                "TOUCHBASE_SECRET_KEYS must be Fernet keys (32 url-safe base64 bytes each, "
                "comma-separated): make one with `touchbase db new-key`."
            ) from None
        self._primary = fernets[0]
        self._all = MultiFernet(fernets)

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()

    def seal_value(self, value: str) -> str:
        """One secret, encrypted with the first key and marked as such."""
        return PREFIX + self._all.encrypt(value.encode()).decode()

    def open_value(self, value: str, what: str = "A stored Slack token") -> tuple[str, bool]:
        """One secret readable, and whether it should be stored again: kept in plain text from
        before encryption (returned as it is), or encrypted under an old key."""
        if not value.startswith(PREFIX):
            return value, True
        token = value.removeprefix(PREFIX).encode()
        try:
            return self._primary.decrypt(token).decode(), False
        except InvalidToken:
            pass
        try:
            return self._all.decrypt(token).decode(), True
        except InvalidToken:
            raise SecretKeyError(
                f"{what} cannot be decrypted with TOUCHBASE_SECRET_KEYS: the key it was "
                "encrypted with is missing. Add it back (after the new one)."
            ) from None

    def seal(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The installation with every credential encrypted (with the first key)."""
        out = dict(data)
        for name in SECRET_FIELDS:
            value = out.get(name)
            if isinstance(value, str) and value and not value.startswith(PREFIX):
                out[name] = self.seal_value(value)
        return out

    def open(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """The installation with its credentials readable, and whether it should be stored
        again (a credential in plain text from before encryption, or under an old key)."""
        out = dict(data)
        stale = False
        for name in SECRET_FIELDS:
            value = out.get(name)
            if not isinstance(value, str) or not value:
                continue
            out[name], again = self.open_value(value)
            stale = stale or again
        return out, stale
