"""The archive repository: a workspace's rows as plain records, and their restore."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, select

from bot.archive_ports import REFERENCES, TABLES, Progress, Record
from store.mappers import ScopedRepo
from store.models import (
    AuditRow,
    Base,
    CareCheckinRow,
    ClientEventRow,
    ClientRow,
    ContactRow,
    DigestRow,
    HandoffRow,
    MatterRow,
    OwnerChangeRow,
    PersonRow,
    RepairRow,
    SegmentRow,
    SnoozeRow,
    TouchRow,
)

ROWS: dict[str, type[Base]] = {
    "person": PersonRow,
    "segment": SegmentRow,
    "client": ClientRow,
    "contact": ContactRow,
    "matter": MatterRow,
    "touch": TouchRow,
    "owner_change": OwnerChangeRow,
    "repair": RepairRow,
    "handoff": HandoffRow,
    "client_event": ClientEventRow,
    "care_checkin": CareCheckinRow,
    "digest": DigestRow,
    "snooze": SnoozeRow,
    "audit_event": AuditRow,
}


_BATCH = 1000


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def _columns(model: type[Base]) -> list[str]:
    return [c.key for c in model.__table__.columns if c.key != "workspace_id"]


class SqlArchive(ScopedRepo):
    async def read(self, progress: Progress | None = None) -> dict[str, list[Record]]:
        out: dict[str, list[Record]] = {}
        for done, table in enumerate(TABLES):
            if progress:
                progress(done, len(TABLES))
            model: Any = ROWS[table]
            names = _columns(model)
            rows = await self.s.scalars(
                select(model).where(model.workspace_id == self.ws).order_by(model.id)
            )
            out[table] = [{n: getattr(r, n) for n in names} for r in rows]
        if progress:
            progress(len(TABLES), len(TABLES))
        return out

    async def write(
        self, tables: Mapping[str, Sequence[Record]], progress: Progress | None = None
    ) -> dict[str, dict[int, int]]:
        ids: dict[str, dict[int, int]] = {t: {} for t in TABLES}
        total = sum(len(tables.get(t, ())) for t in TABLES)
        done = 0
        kept_clients: set[int] = set()
        existing_people = {
            r.platform_user_id: r.id
            for r in await self.s.scalars(
                select(PersonRow).where(PersonRow.workspace_id == self.ws)
            )
        }
        existing_segments = {
            r.name: r.id
            for r in await self.s.scalars(
                select(SegmentRow).where(SegmentRow.workspace_id == self.ws)
            )
        }
        existing_clients = {
            r.name_key: r.id
            for r in await self.s.scalars(
                select(ClientRow).where(ClientRow.workspace_id == self.ws)
            )
        }
        for table in TABLES:
            model: Any = ROWS[table]
            names = set(_columns(model)) - {"id"}
            refs = REFERENCES[table]
            # Rows are written a thousand to a statement, their new ids read back in order:
            # references only point to earlier tables.
            waiting: list[tuple[int, Record]] = []
            for record in tables.get(table, ()):
                done += 1
                if progress:
                    progress(done, total)
                old = int(record["id"])
                if table == "person" and record["platform_user_id"] in existing_people:
                    ids[table][old] = existing_people[record["platform_user_id"]]
                    continue
                if table == "segment" and record["name"] in existing_segments:
                    ids[table][old] = existing_segments[record["name"]]
                    continue
                if table == "client":
                    key = name_key(record["name"])
                    if key in existing_clients:
                        ids[table][old] = existing_clients[key]
                        kept_clients.add(old)
                        continue
                if record.get("client_id") in kept_clients:
                    continue
                values = {k: v for k, v in record.items() if k in names}
                for column, target in refs.items():
                    if values.get(column) is not None:
                        values[column] = ids[target].get(int(values[column]))
                if table == "touch" and values.get("matter_id") is None:
                    values["matter_id"] = None
                waiting.append((old, {**values, "workspace_id": self.ws}))
                if len(waiting) >= _BATCH:
                    await self._flush(model, waiting, ids[table])
            await self._flush(model, waiting, ids[table])
        return ids

    async def _flush(
        self, model: Any, waiting: list[tuple[int, Record]], ids: dict[int, int]
    ) -> None:
        if not waiting:
            return
        rows = [values for _, values in waiting]
        new_ids: Sequence[int]
        if self.s.get_bind().dialect.name == "sqlite":
            # SQLite gives RETURNING in order only a row at a time; one writer at a time and
            # ids handed out in order make "the ids after the largest one" the same answer.
            before = await self.s.scalar(select(func.max(model.id))) or 0
            await self.s.execute(insert(model), rows)
            new_ids = list(
                await self.s.scalars(select(model.id).where(model.id > before).order_by(model.id))
            )
        else:
            new_ids = list(
                await self.s.scalars(
                    insert(model).returning(model.id, sort_by_parameter_order=True), rows
                )
            )
        for (old, _), new_id in zip(waiting, new_ids, strict=True):
            ids[old] = new_id
        waiting.clear()
