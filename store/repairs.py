"""The repair repository: one workspace's repairs, as plain `Repair` objects.

At most one open (active or paused) repair per client is enforced by the partial unique index
on the table; `add` turns that conflict into `RepairAlreadyOpen`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.repair import ice_from, settle
from bot.repair_ports import (
    OPEN,
    Repair,
    RepairAlreadyOpen,
    RepairSummary,
    Status,
    Step,
)
from store.models import RepairRow, TouchRow

_OPEN = [s.value for s in OPEN]


def to_repair(row: RepairRow) -> Repair:
    return Repair(
        id=row.id,
        client_id=row.client_id,
        owner_id=row.owner_id,
        started_by_id=row.started_by_id,
        reason=row.reason,
        step=Step(row.step),
        status=Status(row.status),
        started_at=row.started_at,
        updated_at=row.updated_at,
        task=row.task,
        task_due_on=row.task_due_on,
        breathing_days=row.breathing_days,
        breathing_until=row.breathing_until,
        checklist=dict(row.checklist or {}),
        forward_until=row.forward_until,
        cancel_reason=row.cancel_reason,
    )


def _fields(r: Repair) -> dict[str, Any]:
    return {
        "owner_id": r.owner_id,
        "reason": r.reason,
        "step": r.step.value,
        "status": r.status.value,
        "task": r.task,
        "task_due_on": r.task_due_on,
        "breathing_days": r.breathing_days,
        "breathing_until": r.breathing_until,
        "checklist": dict(r.checklist),
        "forward_until": r.forward_until,
        "cancel_reason": r.cancel_reason,
        "started_at": r.started_at,
    }


class SqlRepairs:
    def __init__(self, session: AsyncSession, workspace_id: int, clock: Clock) -> None:
        self.s = session
        self.ws = workspace_id
        self.clock = clock

    async def _row(self, repair_id: int) -> RepairRow | None:
        return await self.s.scalar(
            select(RepairRow).where(RepairRow.workspace_id == self.ws, RepairRow.id == repair_id)
        )

    async def get(self, repair_id: int) -> Repair | None:
        row = await self._row(repair_id)
        return to_repair(row) if row else None

    async def open_for(self, client_id: int) -> Repair | None:
        row = await self.s.scalar(
            select(RepairRow).where(
                RepairRow.workspace_id == self.ws,
                RepairRow.client_id == client_id,
                RepairRow.status.in_(_OPEN),
            )
        )
        return to_repair(row) if row else None

    async def latest_for(self, client_id: int) -> Repair | None:
        row = await self.s.scalar(
            select(RepairRow)
            .where(RepairRow.workspace_id == self.ws, RepairRow.client_id == client_id)
            .order_by(RepairRow.started_at.desc(), RepairRow.id.desc())
            .limit(1)
        )
        return to_repair(row) if row else None

    async def open_list(self) -> list[Repair]:
        rows = await self.s.scalars(
            select(RepairRow)
            .where(RepairRow.workspace_id == self.ws, RepairRow.status.in_(_OPEN))
            .order_by(RepairRow.started_at, RepairRow.id)
        )
        return [to_repair(r) for r in rows]

    async def add(self, repair: Repair) -> Repair:
        row = RepairRow(
            workspace_id=self.ws,
            client_id=repair.client_id,
            started_by_id=repair.started_by_id,
            updated_at=self.clock.now(),
            **_fields(repair),
        )
        try:
            async with self.s.begin_nested():
                self.s.add(row)
                await self.s.flush()
        except IntegrityError as exc:
            raise RepairAlreadyOpen(
                f"client {repair.client_id} already has an open repair"
            ) from exc
        return to_repair(row)

    async def save(self, repair: Repair) -> Repair:
        row = await self._row(repair.id)
        if row is None:
            raise LookupError(f"no repair {repair.id} in this workspace")
        for key, value in _fields(repair).items():
            setattr(row, key, value)
        row.updated_at = self.clock.now()
        await self.s.flush()
        return to_repair(row)

    async def first_touch_by(
        self, client_id: int, person_id: int, on_or_after: date
    ) -> date | None:
        found = await self.s.scalar(
            select(func.min(TouchRow.occurred_on)).where(
                TouchRow.workspace_id == self.ws,
                TouchRow.client_id == client_id,
                TouchRow.person_id == person_id,
                TouchRow.occurred_on >= on_or_after,
            )
        )
        if found is None or isinstance(found, date):
            return found
        return date.fromisoformat(str(found)[:10])

    async def open_repairs(self, today: date | None = None) -> list[RepairSummary]:
        out: list[RepairSummary] = []
        for r in await self.open_list():
            if today is not None:
                r = settle(r, today)
                began = ice_from(r)
                if r.step is Step.ICE and r.owner_id is not None and began is not None:
                    first = await self.first_touch_by(r.client_id, r.owner_id, began)
                    r = settle(r, today, first)
                if not r.is_open:
                    continue
            out.append(
                RepairSummary(
                    repair_id=r.id,
                    client_id=r.client_id,
                    owner_id=r.owner_id,
                    step=r.step,
                    status=r.status,
                    since=r.started_at.date(),
                )
            )
        return out
