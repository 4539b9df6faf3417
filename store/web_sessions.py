"""Web sign-in kept in the database: sessions that signing out revokes, and failed sign-ins per
account with a lock that doubles each time (both engines, so every replica agrees)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from store.models import WebLoginRow, WebSessionRow
from store.repositories import SqlStore


class SqlWebSessions:
    """The web adapter's session store (``adapters.web.auth.SessionStore``) on our database."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def now(self) -> datetime:
        return self._store.clock.now()

    async def start(self, token_hash: str, account: str, lasts: timedelta) -> None:
        now = self.now()
        async with self._store.sessions() as s:
            s.add(
                WebSessionRow(
                    token_hash=token_hash, account=account, created_at=now, expires_at=now + lasts
                )
            )
            # Expired sessions are of no use to anyone: tidy them as new ones start.
            await s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))
            await s.commit()

    async def active(self, token_hash: str) -> bool:
        async with self._store.sessions() as s:
            row = await s.get(WebSessionRow, token_hash)
            return row is not None and row.revoked_at is None and row.expires_at > self.now()

    async def revoke(self, token_hash: str) -> None:
        async with self._store.sessions() as s:
            await s.execute(
                update(WebSessionRow)
                .where(WebSessionRow.token_hash == token_hash, WebSessionRow.revoked_at.is_(None))
                .values(revoked_at=self.now())
            )
            await s.commit()

    async def locked_until(self, account: str) -> datetime | None:
        async with self._store.sessions() as s:
            row = await s.get(WebLoginRow, account)
            if row is None or row.locked_until is None or row.locked_until <= self.now():
                return None
            return row.locked_until

    async def failed(
        self, account: str, *, free: int, first_lock: timedelta, longest: timedelta
    ) -> int:
        """Count a failed sign-in; past ``free`` failures the account is locked, for
        ``first_lock`` and twice as long at each further failure, up to ``longest``. Returns
        the failures so far."""
        now = self.now()
        for _attempt in range(3):
            async with self._store.sessions() as s:
                row = await s.get(WebLoginRow, account, with_for_update=True)
                if row is None:
                    row = WebLoginRow(account=account, failures=0)
                    s.add(row)
                row.failures = (row.failures or 0) + 1
                row.last_failed_at = now
                if row.failures >= free:
                    lock = first_lock * (2 ** min(row.failures - free, 16))
                    row.locked_until = now + min(lock, longest)
                failures = row.failures
                try:
                    await s.commit()
                    return failures
                except IntegrityError:  # two first failures at once: count again
                    await s.rollback()
        return free

    async def succeeded(self, account: str) -> None:
        async with self._store.sessions() as s:
            await s.execute(delete(WebLoginRow).where(WebLoginRow.account == account))
            await s.commit()
