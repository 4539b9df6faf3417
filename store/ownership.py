"""The SQL behind ownership: handoffs, client-care check-ins, profiles, figures, channel posts.

Bound to one workspace like every repository in a unit of work: each query filters on it.
Channel-post claims are rows unique per (workspace, key), inserted with ON CONFLICT DO NOTHING,
so however many processes try, one of them posts the weekly summary.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain import Contact
from bot.ownership_ports import ActivityFacts, CareCheckin, CareDue, Handoff
from store.db import database_now, insert_for
from store.mappers import as_date, merge_last_contact, to_contact
from store.models import (
    CareCheckinRow,
    ClientRow,
    ContactRow,
    HandoffRow,
    PostRow,
    RepairRow,
    SegmentRow,
    TouchRow,
    WorkspaceRow,
)

_OPEN_REPAIR = ("active", "paused")


def _to_handoff(row: HandoffRow, touched_on: date | None = None) -> Handoff:
    checklist = row.checklist or {}
    steps = checklist.get("steps") or {}
    return Handoff(
        id=row.id,
        client_id=row.client_id,
        from_person_id=row.from_person_id,
        to_person_id=row.to_person_id,
        started_at=row.started_at,
        steps_done=tuple(steps) if isinstance(steps, dict) else (),
        done_at=row.done_at,
        ended=checklist.get("ended"),
        new_owner_touched_on=touched_on,
    )


def _to_checkin(row: CareCheckinRow) -> CareCheckin:
    return CareCheckin(
        id=row.id,
        client_id=row.client_id,
        person_id=row.person_id,
        label=row.label,
        due_on=row.due_on,
        done_at=row.done_at,
    )


class SqlOwnership:
    def __init__(self, session: AsyncSession, workspace_id: int, clock: Clock) -> None:
        self.s = session
        self.ws = workspace_id
        self.clock = clock

    # --- the relationships channel ---------------------------------------------------------------

    async def set_channel(self, address: dict[str, Any] | None) -> None:
        await self.s.execute(
            update(WorkspaceRow).where(WorkspaceRow.id == self.ws).values(channel=address)
        )

    async def channel(self) -> dict[str, Any] | None:
        channel: dict[str, Any] | None = await self.s.scalar(
            select(WorkspaceRow.channel).where(WorkspaceRow.id == self.ws)
        )
        return channel

    # --- handoffs --------------------------------------------------------------------------------

    async def _handoff_row(self, handoff_id: int) -> HandoffRow | None:
        return await self.s.scalar(
            select(HandoffRow).where(
                HandoffRow.workspace_id == self.ws, HandoffRow.id == handoff_id
            )
        )

    async def _touched_on(self, rows: Sequence[HandoffRow]) -> dict[int, date]:
        """Each handoff's first touch by its new owner with the client: logged after the
        handoff started (a call earlier that day, before the client was handed on, is not the
        new owner being in touch as its owner) and not dated before the day it started."""
        out: dict[int, date] = {}
        wanted = [r for r in rows if r.to_person_id is not None]
        if not wanted:
            return out
        found = await self.s.execute(
            select(
                TouchRow.client_id, TouchRow.person_id, TouchRow.occurred_on, TouchRow.created_at
            ).where(
                TouchRow.workspace_id == self.ws,
                or_(
                    *(
                        and_(
                            TouchRow.client_id == r.client_id,
                            TouchRow.person_id == r.to_person_id,
                            TouchRow.occurred_on >= r.started_at.astimezone(UTC).date(),
                        )
                        for r in wanted
                    )
                ),
            )
        )
        touches: dict[tuple[int, int], list[tuple[date, datetime]]] = defaultdict(list)
        for client_id, person_id, occurred, created in found:
            day = as_date(occurred)
            if day is not None and created is not None:
                touches[(client_id, person_id)].append((day, created))
        for r in wanted:
            assert r.to_person_id is not None
            started = r.started_at.astimezone(UTC)
            after = [
                day
                for day, created in touches.get((r.client_id, r.to_person_id), ())
                if created > started and day >= started.date()
            ]
            if after:
                out[r.id] = min(after)
        return out

    async def start_handoff(
        self, client_id: int, from_id: int | None, to_id: int | None
    ) -> Handoff:
        now = self.clock.now()
        for old in await self.s.scalars(
            select(HandoffRow).where(
                HandoffRow.workspace_id == self.ws,
                HandoffRow.client_id == client_id,
                HandoffRow.done_at.is_(None),
            )
        ):
            old.done_at = now
            old.checklist = {**(old.checklist or {}), "ended": "superseded"}
        row = HandoffRow(
            workspace_id=self.ws,
            client_id=client_id,
            from_person_id=from_id,
            to_person_id=to_id,
            checklist={"steps": {}},
            started_at=now,
        )
        self.s.add(row)
        await self.s.flush()
        return _to_handoff(row)

    async def handoff(self, handoff_id: int) -> Handoff | None:
        row = await self._handoff_row(handoff_id)
        if row is None:
            return None
        return _to_handoff(row, (await self._touched_on([row])).get(row.id))

    async def open_handoffs(self, client_ids: Sequence[int] | None = None) -> list[Handoff]:
        query = select(HandoffRow).where(
            HandoffRow.workspace_id == self.ws, HandoffRow.done_at.is_(None)
        )
        if client_ids is not None:
            query = query.where(HandoffRow.client_id.in_(list(client_ids)))
        rows = list(await self.s.scalars(query.order_by(HandoffRow.id)))
        touched = await self._touched_on(rows)
        return [_to_handoff(r, touched.get(r.id)) for r in rows]

    async def mark_handoff_step(self, handoff_id: int, step: str, by_id: int) -> Handoff | None:
        row = await self._handoff_row(handoff_id)
        if row is None:
            return None
        checklist = dict(row.checklist or {})
        steps = dict(checklist.get("steps") or {})
        if step not in steps:
            steps[step] = {"by": by_id, "at": self.clock.now().isoformat()}
        checklist["steps"] = steps
        row.checklist = checklist  # a new dict, so the JSON column is marked changed
        await self.s.flush()
        return _to_handoff(row, (await self._touched_on([row])).get(row.id))

    async def close_handoff(self, handoff_id: int, ended: str) -> None:
        row = await self._handoff_row(handoff_id)
        if row is None or row.done_at is not None:
            return
        row.done_at = self.clock.now()
        row.checklist = {**(row.checklist or {}), "ended": ended}
        await self.s.flush()

    # --- client care -----------------------------------------------------------------------------

    async def add_checkins(
        self, client_id: int, person_id: int | None, plan: Sequence[tuple[str, date]]
    ) -> list[CareCheckin]:
        rows = [
            CareCheckinRow(
                workspace_id=self.ws,
                client_id=client_id,
                person_id=person_id,
                label=label,
                due_on=due_on,
            )
            for label, due_on in plan
        ]
        self.s.add_all(rows)
        await self.s.flush()
        return [_to_checkin(r) for r in rows]

    async def open_checkins(self, client_id: int) -> list[CareCheckin]:
        rows = await self.s.scalars(
            select(CareCheckinRow)
            .where(
                CareCheckinRow.workspace_id == self.ws,
                CareCheckinRow.client_id == client_id,
                CareCheckinRow.done_at.is_(None),
            )
            .order_by(CareCheckinRow.due_on, CareCheckinRow.id)
        )
        return [_to_checkin(r) for r in rows]

    async def due_checkins(self, by: date) -> list[CareDue]:
        first_touch = (
            select(func.min(TouchRow.occurred_on))
            .where(
                TouchRow.workspace_id == self.ws,
                TouchRow.client_id == CareCheckinRow.client_id,
                TouchRow.occurred_on >= CareCheckinRow.due_on,
            )
            .correlate(CareCheckinRow)
            .scalar_subquery()
        )
        rows = await self.s.execute(
            select(CareCheckinRow, ClientRow.name, ClientRow.owner_id, first_touch)
            .join(ClientRow, ClientRow.id == CareCheckinRow.client_id)
            .where(
                CareCheckinRow.workspace_id == self.ws,
                CareCheckinRow.done_at.is_(None),
                CareCheckinRow.due_on <= by,
            )
            .order_by(CareCheckinRow.due_on, CareCheckinRow.id)
        )
        return [
            CareDue(
                checkin=_to_checkin(row),
                client_name=name,
                owner_id=owner_id if owner_id is not None else row.person_id,
                touched_on=as_date(touched),
            )
            for row, name, owner_id, touched in rows
        ]

    async def checkin(self, checkin_id: int) -> CareCheckin | None:
        row = await self.s.scalar(
            select(CareCheckinRow).where(
                CareCheckinRow.workspace_id == self.ws, CareCheckinRow.id == checkin_id
            )
        )
        return _to_checkin(row) if row else None

    async def finish_checkin(self, checkin_id: int) -> CareCheckin | None:
        row = await self.s.scalar(
            select(CareCheckinRow).where(
                CareCheckinRow.workspace_id == self.ws, CareCheckinRow.id == checkin_id
            )
        )
        if row is None:
            return None
        if row.done_at is None:
            row.done_at = self.clock.now()
            await self.s.flush()
        return _to_checkin(row)

    # --- profile ---------------------------------------------------------------------------------

    async def segments(self) -> dict[str, int | None]:
        rows = await self.s.execute(
            select(SegmentRow.name, SegmentRow.cadence_days)
            .where(SegmentRow.workspace_id == self.ws)
            .order_by(SegmentRow.name)
        )
        return {name: cadence for name, cadence in rows}

    async def ensure_segment(self, name: str) -> str:
        name = " ".join(name.split())
        for existing in await self.segments():
            if existing.casefold() == name.casefold():
                return existing
        self.s.add(SegmentRow(workspace_id=self.ws, name=name))
        await self.s.flush()
        return name

    async def add_key_person(
        self,
        client_id: int,
        name: str,
        *,
        title: str | None = None,
        influence: str | None = None,
        notes: str | None = None,
    ) -> Contact:
        row = ContactRow(
            workspace_id=self.ws,
            client_id=client_id,
            name=name,
            title=title,
            influence=influence,
            notes=notes,
            created_at=self.clock.now(),
        )
        self.s.add(row)
        await self.s.flush()
        return to_contact(row)

    async def update_key_person(self, contact_id: int, **changes: Any) -> Contact | None:
        row = await self.s.scalar(
            select(ContactRow).where(
                ContactRow.workspace_id == self.ws, ContactRow.id == contact_id
            )
        )
        if row is None:
            return None
        for key, value in changes.items():
            if key not in ("name", "title", "influence", "notes"):
                raise ValueError(f'a key person has no field "{key}"')
            setattr(row, key, value)
        await self.s.flush()
        return to_contact(row)

    async def remove_key_person(self, contact_id: int) -> bool:
        result = await self.s.execute(
            delete(ContactRow).where(
                ContactRow.workspace_id == self.ws, ContactRow.id == contact_id
            )
        )
        return bool(getattr(result, "rowcount", 0))

    # --- figures ---------------------------------------------------------------------------------

    async def open_repairs(self) -> set[int]:
        rows = await self.s.scalars(
            select(RepairRow.client_id).where(
                RepairRow.workspace_id == self.ws, RepairRow.status.in_(_OPEN_REPAIR)
            )
        )
        return set(rows)

    async def activity(self, since: date) -> ActivityFacts:
        last = await self.s.execute(
            select(TouchRow.client_id, func.max(TouchRow.occurred_on))
            .where(TouchRow.workspace_id == self.ws)
            .group_by(TouchRow.client_id)
        )
        pairs = await self.s.execute(
            select(TouchRow.client_id, TouchRow.person_id)
            .where(TouchRow.workspace_id == self.ws, TouchRow.occurred_on >= since)
            .distinct()
        )
        touchers: dict[int, set[int]] = defaultdict(set)
        for client_id, person_id in pairs:
            touchers[client_id].add(person_id)
        known = await self.s.execute(
            select(ClientRow.id, ClientRow.last_contact_on).where(
                ClientRow.workspace_id == self.ws, ClientRow.last_contact_on.is_not(None)
            )
        )
        return ActivityFacts(
            last_touch_on=merge_last_contact(
                {c: d for c, v in last if (d := as_date(v)) is not None}, known
            ),
            touchers={c: frozenset(p) for c, p in touchers.items()},
        )

    # --- once-only channel posts -----------------------------------------------------------------

    async def claim_post(self, key: str, now: datetime, lease: timedelta) -> bool:
        # The lease is judged by the database's clock, never a process's own: `now` is unused.
        now = await database_now(self.s)
        insert = insert_for(self.s)
        new_id = await self.s.scalar(
            insert(PostRow)
            .values(workspace_id=self.ws, key=key, claimed_at=now, status="claimed")
            .on_conflict_do_nothing(index_elements=["workspace_id", "key"])
            .returning(PostRow.id)
        )
        if new_id is not None:
            return True
        again = await self.s.execute(
            update(PostRow)
            .where(
                PostRow.workspace_id == self.ws,
                PostRow.key == key,
                or_(
                    PostRow.status == "retry",
                    and_(PostRow.status == "claimed", PostRow.claimed_at < now - lease),
                ),
            )
            .values(claimed_at=now, status="claimed")
            .returning(PostRow.id)
        )
        return again.first() is not None

    async def finish_post(self, key: str, status: str) -> None:
        await self.s.execute(
            update(PostRow)
            .where(PostRow.workspace_id == self.ws, PostRow.key == key)
            .values(status=status)
        )
