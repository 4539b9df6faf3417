"""Read-only queries for the firm dashboard, bound to one workspace.

Each method opens its own short read session; nothing here writes. Touch rows are read as bare
facts (client, person, day): the note column is never selected.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.capture_ports import SOURCE_PREFIX
from bot.domain import Client, Person
from bot.ports import TouchFact
from store.mappers import to_client, to_person
from store.models import ClientRow, HandoffRow, PersonRow, RepairRow, TouchRow

OPEN_REPAIR = ("active", "paused")


class SqlReports:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], workspace_id: int) -> None:
        self._sessions = sessions
        self.workspace_id = workspace_id

    async def people(self) -> list[Person]:
        async with self._sessions() as s:
            rows = await s.scalars(
                select(PersonRow)
                .where(PersonRow.workspace_id == self.workspace_id)
                .order_by(PersonRow.id)
            )
            return [to_person(r) for r in rows]

    async def clients(self) -> list[Client]:
        async with self._sessions() as s:
            rows = await s.scalars(
                select(ClientRow)
                .where(ClientRow.workspace_id == self.workspace_id)
                .order_by(ClientRow.name_key)
            )
            return [to_client(r) for r in rows]

    async def touch_facts(self, since: date) -> list[TouchFact]:
        async with self._sessions() as s:
            rows = await s.execute(
                select(
                    TouchRow.client_id,
                    TouchRow.person_id,
                    TouchRow.occurred_on,
                    TouchRow.source_id.like(f"{SOURCE_PREFIX}%"),
                )
                .where(TouchRow.workspace_id == self.workspace_id, TouchRow.occurred_on >= since)
                .order_by(TouchRow.occurred_on, TouchRow.id)
            )
            return [TouchFact(c, p, d, bool(captured)) for c, p, d, captured in rows]

    async def last_touch_before(self, day: date) -> dict[int, date]:
        async with self._sessions() as s:
            rows = await s.execute(
                select(TouchRow.client_id, func.max(TouchRow.occurred_on))
                .where(TouchRow.workspace_id == self.workspace_id, TouchRow.occurred_on < day)
                .group_by(TouchRow.client_id)
            )
            return {client_id: last for client_id, last in rows if last is not None}

    async def open_repairs(self) -> list[int]:
        async with self._sessions() as s:
            rows = await s.scalars(
                select(RepairRow.client_id).where(
                    RepairRow.workspace_id == self.workspace_id,
                    RepairRow.status.in_(OPEN_REPAIR),
                )
            )
            return list(rows)

    async def open_handoffs(self) -> list[int]:
        async with self._sessions() as s:
            rows = await s.scalars(
                select(HandoffRow.client_id).where(
                    HandoffRow.workspace_id == self.workspace_id, HandoffRow.done_at.is_(None)
                )
            )
            return list(rows)
