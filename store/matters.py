"""The matter and matching repositories of one unit of work: every query filters on its workspace."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select

from bot.domain import Contact, TouchKind
from bot.matter_ports import Matter, StatusUpdate, TouchLine
from store.mappers import ScopedRepo, to_contact
from store.models import RESTING, ClientRow, ContactRow, MatterRow, PersonRow, TouchRow


def to_matter(row: MatterRow) -> Matter:
    return Matter(
        id=row.id,
        client_id=row.client_id,
        lead_id=row.lead_id,
        title=row.title,
        opened_at=row.opened_at,
        expected_on=row.expected_on,
        rhythm_days=row.rhythm_days,
        closed_at=row.closed_at,
    )


class SqlMatters(ScopedRepo):
    async def add(
        self,
        client_id: int,
        title: str,
        *,
        lead_id: int | None,
        expected_on: date | None = None,
        rhythm_days: int | None = None,
    ) -> Matter:
        owned = await self.s.scalar(
            select(ClientRow.id).where(ClientRow.workspace_id == self.ws, ClientRow.id == client_id)
        )
        if owned is None:
            raise LookupError(f"no client {client_id} in this workspace")
        row = MatterRow(
            workspace_id=self.ws,
            client_id=client_id,
            lead_id=lead_id,
            title=title,
            expected_on=expected_on,
            rhythm_days=rhythm_days,
            opened_at=self.clock.now(),
        )
        self.s.add(row)
        await self.s.flush()
        return to_matter(row)

    async def _row(self, matter_id: int) -> MatterRow | None:
        return await self.s.scalar(
            select(MatterRow).where(MatterRow.workspace_id == self.ws, MatterRow.id == matter_id)
        )

    async def get(self, matter_id: int) -> Matter | None:
        row = await self._row(matter_id)
        return to_matter(row) if row else None

    async def list(
        self,
        *,
        client_ids: Sequence[int] | None = None,
        lead_ids: Sequence[int] | None = None,
        open_only: bool = True,
    ) -> builtins.list[Matter]:
        query = select(MatterRow).where(MatterRow.workspace_id == self.ws)
        if client_ids is not None:
            query = query.where(MatterRow.client_id.in_(list(client_ids)))
        if lead_ids is not None:
            query = query.where(MatterRow.lead_id.in_(list(lead_ids)))
        if open_only:
            query = query.where(MatterRow.closed_at.is_(None))
        rows = await self.s.scalars(query.order_by(MatterRow.opened_at, MatterRow.id))
        return [to_matter(r) for r in rows]

    async def close(self, matter_id: int, at: datetime) -> Matter | None:
        row = await self._row(matter_id)
        if row is None:
            return None
        if row.closed_at is None:
            row.closed_at = at
            await self.s.flush()
        return to_matter(row)

    async def status_updates(self, client_ids: Sequence[int]) -> builtins.list[StatusUpdate]:
        if not client_ids:
            return []
        rows = await self.s.execute(
            select(
                TouchRow.id,
                TouchRow.client_id,
                TouchRow.person_id,
                TouchRow.occurred_on,
                TouchRow.matter_id,
                TouchRow.estimate_on,
                TouchRow.created_at,
            )
            .where(
                TouchRow.workspace_id == self.ws,
                TouchRow.client_id.in_(list(client_ids)),
                TouchRow.kind == TouchKind.STATUS_UPDATE.value,
            )
            .order_by(TouchRow.occurred_on, TouchRow.id)
        )
        return [
            StatusUpdate(
                touch_id=r[0],
                client_id=r[1],
                person_id=r[2],
                occurred_on=r[3],
                matter_id=r[4],
                estimate_on=r[5],
                created_at=r[6],
            )
            for r in rows
        ]


class SqlMatching(ScopedRepo):
    async def seniorities(self) -> dict[int, str]:
        rows = await self.s.execute(
            select(PersonRow.id, PersonRow.seniority).where(
                PersonRow.workspace_id == self.ws, PersonRow.seniority.is_not(None)
            )
        )
        return {pid: value for pid, value in rows if value}

    async def contacts(self, client_ids: Sequence[int] | None = None) -> builtins.list[Contact]:
        query = select(ContactRow).where(ContactRow.workspace_id == self.ws)
        if client_ids is not None:
            query = query.where(ContactRow.client_id.in_(list(client_ids)))
        rows = await self.s.scalars(query.order_by(ContactRow.client_id, ContactRow.id))
        return [to_contact(r) for r in rows]

    async def _contact_row(self, contact_id: int) -> ContactRow | None:
        return await self.s.scalar(
            select(ContactRow).where(
                ContactRow.workspace_id == self.ws, ContactRow.id == contact_id
            )
        )

    async def contact(self, contact_id: int) -> Contact | None:
        row = await self._contact_row(contact_id)
        return to_contact(row) if row else None

    async def set_holder(self, contact_id: int, holder_id: int | None) -> Contact | None:
        row = await self._contact_row(contact_id)
        if row is None:
            return None
        if holder_id is not None:
            same_firm = await self.s.scalar(
                select(PersonRow.id).where(
                    PersonRow.workspace_id == self.ws, PersonRow.id == holder_id
                )
            )
            if same_firm is None:
                raise LookupError(f"no person {holder_id} in this workspace")
        row.holder_id = holder_id
        await self.s.flush()
        return to_contact(row)

    async def relationship_counts(self) -> dict[int, int]:
        owned = await self.s.execute(
            select(ClientRow.owner_id, func.count())
            .where(
                ClientRow.workspace_id == self.ws,
                ClientRow.owner_id.is_not(None),
                ClientRow.status.not_in(RESTING),
            )
            .group_by(ClientRow.owner_id)
        )
        counts: dict[int, int] = {}
        for owner, n in owned:
            if owner is not None:
                counts[owner] = counts.get(owner, 0) + int(n)
        held = await self.s.execute(
            select(ContactRow.holder_id, func.count())
            .where(ContactRow.workspace_id == self.ws, ContactRow.holder_id.is_not(None))
            .group_by(ContactRow.holder_id)
        )
        for holder, n in held:
            if holder is not None:
                counts[holder] = counts.get(holder, 0) + int(n)
        return counts

    async def touch_lines(
        self, since: date, client_ids: Sequence[int] | None = None
    ) -> builtins.list[TouchLine]:
        query = select(
            TouchRow.client_id, TouchRow.person_id, TouchRow.occurred_on, TouchRow.contact
        ).where(TouchRow.workspace_id == self.ws, TouchRow.occurred_on >= since)
        if client_ids is not None:
            query = query.where(TouchRow.client_id.in_(list(client_ids)))
        rows = await self.s.execute(query.order_by(TouchRow.occurred_on, TouchRow.id))
        return [TouchLine(r[0], r[1], r[2], r[3]) for r in rows]
