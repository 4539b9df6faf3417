"""Deliveries already handled, so a platform's retry is processed once (table inbound_event)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from store.models import InboundEventRow
from store.repositories import SqlStore


async def claim(store: SqlStore, platform: str, event_key: str) -> bool:
    """True the first time (platform, event_key) is seen; False for a repeat."""
    async with store.sessions() as s:
        s.add(
            InboundEventRow(platform=platform, event_key=event_key, received_at=store.clock.now())
        )
        try:
            await s.commit()
        except IntegrityError:
            await s.rollback()
            return False
    return True


class SqlDeliveryLog:
    """The core's DeliveryLog port (bot.directory) over the inbound_event table."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def claim(self, platform: str, event_key: str) -> bool:
        return await claim(self._store, platform, event_key)


async def forget_before(store: SqlStore, age: timedelta) -> int:
    """Drop keys older than `age`: platforms stop retrying within hours."""
    async with store.sessions() as s:
        result = await s.execute(
            delete(InboundEventRow).where(InboundEventRow.received_at < store.clock.now() - age)
        )
        await s.commit()
        return int(getattr(result, "rowcount", 0) or 0)
