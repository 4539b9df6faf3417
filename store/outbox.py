"""The SQL behind the durable outbox (see bot/outbox.py). Claims are conditional UPDATEs judged
by the database's clock: whatever number of drainers run, each message is claimed by one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain import Platform
from bot.outbox_ports import OutboxItem
from store.db import database_now
from store.models import OutboxRow, PersonRow, WorkspaceRow


class SqlOutbox:
    """The outbox within one unit of work (one workspace, one transaction)."""

    def __init__(self, session: AsyncSession, workspace_id: int) -> None:
        self.s = session
        self.ws = workspace_id

    async def add(
        self,
        address: dict[str, Any] | None,
        message: dict[str, Any],
        *,
        person_id: int | None = None,
        kind: str = "notice",
    ) -> int:
        now = await database_now(self.s)
        row = OutboxRow(
            workspace_id=self.ws,
            person_id=person_id,
            kind=kind,
            address=address,
            message=message,
            status="pending" if address else "waiting",
            attempts=0,
            available_at=now,
            created_at=now,
        )
        self.s.add(row)
        await self.s.flush()
        return row.id

    async def holds(self, kind: str) -> bool:
        found = await self.s.scalar(
            select(OutboxRow.id)
            .where(OutboxRow.workspace_id == self.ws, OutboxRow.kind == kind)
            .limit(1)
        )
        return found is not None


class SqlOutboxQueue:
    """The drainer's side, across workspaces."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def claim(
        self, worker: str, lease: timedelta, *, ids: Sequence[int] | None = None, limit: int = 100
    ) -> list[OutboxItem]:
        async with self.sessions() as s, s.begin():
            now = await database_now(s)
            due = or_(
                and_(OutboxRow.status.in_(("pending", "retry")), OutboxRow.available_at <= now),
                and_(OutboxRow.status == "sending", OutboxRow.claimed_at < now - lease),
                OutboxRow.status == "waiting",
            )
            ready = (
                select(OutboxRow.id)
                .where(due, OutboxRow.status != "waiting")
                .order_by(OutboxRow.id)
                .limit(limit)
            )
            # Waiting for a person not seen until now: ready once they have an address.
            waiting = (
                select(OutboxRow.id, PersonRow.address)
                .join(PersonRow, PersonRow.id == OutboxRow.person_id)
                .where(OutboxRow.status == "waiting", PersonRow.address.is_not(None))
                .order_by(OutboxRow.id)
                .limit(limit)
            )
            if ids is not None:
                if not ids:
                    return []
                ready = ready.where(OutboxRow.id.in_(list(ids)))
                waiting = waiting.where(OutboxRow.id.in_(list(ids)))
            candidates = list(await s.scalars(ready))
            # A JSON null reads as None too: only a real address makes it ready.
            candidates += [i for i, address in await s.execute(waiting) if address]
            if not candidates:
                return []
            # Claimed one by one with the same condition: a row another drainer took meanwhile
            # is simply not returned.
            claimed = await s.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(candidates), due)
                .values(status="sending", claimed_by=worker, claimed_at=now)
                .returning(OutboxRow.id)
            )
            taken = [r[0] for r in claimed]
            if not taken:
                return []
            rows = await s.execute(
                select(
                    OutboxRow.id,
                    OutboxRow.workspace_id,
                    WorkspaceRow.platform,
                    OutboxRow.address,
                    PersonRow.address,
                    OutboxRow.message,
                    OutboxRow.attempts,
                )
                .join(WorkspaceRow, WorkspaceRow.id == OutboxRow.workspace_id)
                .outerjoin(PersonRow, PersonRow.id == OutboxRow.person_id)
                .where(OutboxRow.id.in_(taken))
                .order_by(OutboxRow.id)
            )
            return [
                OutboxItem(
                    id=i,
                    workspace_id=ws,
                    platform=Platform(platform),
                    address=dict(address or person_address or {}),
                    message=dict(message),
                    attempts=attempts,
                )
                for i, ws, platform, address, person_address, message, attempts in rows
            ]

    async def finish(
        self,
        item_id: int,
        worker: str,
        status: str,
        *,
        detail: str = "",
        retry_in: timedelta | None = None,
    ) -> bool:
        async with self.sessions() as s, s.begin():
            now = await database_now(s)
            values: dict[str, Any] = {
                "status": status,
                "detail": detail[:300],
                "attempts": OutboxRow.attempts + 1,
            }
            if status == "sent":
                values["sent_at"] = now
            if status == "retry":
                values["available_at"] = now + (retry_in or timedelta(0))
            done = await s.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id == item_id,
                    OutboxRow.claimed_by == worker,
                    OutboxRow.status == "sending",
                )
                .values(**values)
                .returning(OutboxRow.id)
            )
            return done.first() is not None

    async def pending_count(self) -> int:
        async with self.sessions() as s:
            count = await s.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.status.in_(("pending", "retry", "sending")))
            )
            return int(count or 0)
