"""Group commit: what the requests in flight ask of the database, in shared round trips.

Under load, most requests are a `/touch`: a version check (are this process's caches still
current?), then one insert. Run one request at a time, each pays its own round trips, its own
transaction and its own commit (a WAL flush on PostgreSQL); on SQLite, whose one connection is
shared, each also holds that connection across every event-loop turn its statements wait for.
Here one task takes everything waiting at that moment and runs it together, on one connection,
in one transaction: every waiting version check in one statement, every waiting touch in one
INSERT, then one commit. Each request gets its own answer back only after that commit, so a
touch is durable before anyone is told it was logged; durability is what it was, at a fraction
of the commits.

A touch is stored here only when nothing else of its unit of work has to be in the same
transaction: the unit has written nothing before it, and its client has no repair or handoff
open (the features that write after a touch). The INSERT checks the second itself, in the
same statement; a touch it leaves out (open work, a source id already stored, anything that
fails) comes back as None, and the unit of work stores it the ordinary way, in its own
transaction. Nothing is ever half done: the batch's one transaction commits or rolls back.

The task runs only while there is work: the first request to find it idle starts it, and it
ends when nothing is waiting.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, exists, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.repair_ports import OPEN
from store.db import RoundEngines, round_engines
from store.models import HandoffRow, RepairRow, TouchRow

log = logging.getLogger(__name__)

# The columns a touch is inserted with (the rest take their defaults).
TOUCH_COLUMNS = (
    "workspace_id",
    "client_id",
    "person_id",
    "kind",
    "contact",
    "contact_key",
    "note",
    "occurred_on",
    "awaiting_reply",
    "source_id",
    "matter_id",
    "estimate_on",
    "created_at",
)
MAX_TOUCHES = 64  # a larger backlog is split over several rounds

# The version check, the most frequent statement of all, goes straight to the driver: one
# thread hand-off on aiosqlite (SQLAlchemy's cursor takes four) and one round trip on asyncpg.
# Its columns are plain integers and text, so nothing is lost by skipping the ORM's types.
_VERSIONS_PG = (
    "SELECT id, clients_version, people_version, name, channel FROM workspace "
    "WHERE id = ANY($1::integer[])"
)
_VERSIONS_SQLITE = (
    "SELECT id, clients_version, people_version, name, channel FROM workspace "
    "WHERE id IN (SELECT value FROM json_each(?))"
)


async def _read_versions(conn: AsyncConnection, ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """(id, clients_version, people_version, name, channel) of each workspace that exists."""
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    if conn.dialect.name == "postgresql":
        rows: Any = await driver.fetch(_VERSIONS_PG, list(ids))
    else:
        rows = await driver.execute_fetchall(_VERSIONS_SQLITE, (json.dumps(list(ids)),))
    return [
        (int(r[0]), int(r[1]), int(r[2]), r[3], json.loads(r[4]) if isinstance(r[4], str) else r[4])
        for r in rows
    ]


_INSERTS: dict[tuple[str, int], Any] = {}


def _touch_insert(dialect: str, n: int) -> Any:
    """INSERT INTO touch ... SELECT the n given rows WHERE the client has no open repair or
    handoff, ON CONFLICT (workspace_id, source_id) DO NOTHING RETURNING the stored rows. Built
    once per dialect and size, with bound parameters."""
    stmt = _INSERTS.get((dialect, n))
    if stmt is not None:
        return stmt
    from sqlalchemy.dialects import postgresql, sqlite

    table = cast(Table, TouchRow.__table__)
    # The given rows as a CTE of SELECTs of bound parameters (UNION ALL): unlike a VALUES
    # list, that statement is cached once compiled.
    given = union_all(
        *(
            select(*(bindparam(f"{c}_{i}", type_=table.c[c].type).label(c) for c in TOUCH_COLUMNS))
            for i in range(n)
        )
    ).cte("given")
    open_repair = exists().where(
        RepairRow.workspace_id == given.c.workspace_id,
        RepairRow.client_id == given.c.client_id,
        # OR of equalities, not IN: an IN list is an "expanding" parameter, and SQLAlchemy
        # would render the whole statement again on every execution to expand it.
        or_(*(RepairRow.status == status.value for status in OPEN)),
    )
    open_handoff = exists().where(
        HandoffRow.workspace_id == given.c.workspace_id,
        HandoffRow.client_id == given.c.client_id,
        HandoffRow.done_at.is_(None),
    )
    rows = select(*(given.c[c] for c in TOUCH_COLUMNS)).where(~open_repair, ~open_handoff)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(table)
        .from_select(list(TOUCH_COLUMNS), rows)
        .on_conflict_do_nothing(index_elements=["workspace_id", "source_id"])
        .returning(*table.c)
    )
    _INSERTS[(dialect, n)] = stmt
    return stmt


class Batcher:
    """One per store. `versions` and `add_touch` wait for the next round and return its
    answer; None means "not here: do it the ordinary way".

    Two lanes: the version checks (reads, one statement a round) and the touches (one INSERT
    and a commit a round), each on the engines `round_engines` makes for them. On PostgreSQL a
    few write rounds may be in flight at once, each on its own connection, so a slow commit
    does not hold up the requests arriving behind it; on SQLite, which has one writer, one at
    a time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._engines: RoundEngines | None = None  # made on the first round
        self._reads: dict[int, list[asyncio.Future[tuple[Any, ...] | None]]] = {}
        self._touches: list[tuple[Mapping[str, Any], asyncio.Future[Row[Any] | None]]] = []
        self._reader: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._in_flight = 1 if engine.dialect.name == "sqlite" else 4
        self._semaphore: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._rounds: set[asyncio.Task[None]] = set()
        # What the rounds did, for the benchmarks and tests: rounds, requests they answered,
        # touches they stored.
        self.rounds = 0
        self.served = 0
        self.stored = 0

    async def versions(self, workspace_id: int) -> tuple[Any, ...] | None:
        """(id, clients_version, people_version, name, channel) of the workspace; None if it
        could not be read here or does not exist."""
        future: asyncio.Future[tuple[Any, ...] | None] = asyncio.get_running_loop().create_future()
        self._reads.setdefault(workspace_id, []).append(future)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read_lane())
        return await future

    async def add_touch(self, params: Mapping[str, Any]) -> Row[Any] | None:
        """The stored touch's row, committed; None if it was left for the caller."""
        future: asyncio.Future[Row[Any] | None] = asyncio.get_running_loop().create_future()
        self._touches.append((params, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_lane())
        return await future

    async def _read_lane(self) -> None:
        while self._reads:
            await asyncio.sleep(0)  # whoever is about to ask joins this round
            reads, self._reads = self._reads, {}
            self._count(sum(len(w) for w in reads.values()))
            found: dict[int, tuple[Any, ...]] = {}
            try:
                async with self.engines().reads.connect() as conn:
                    try:
                        rows = await _read_versions(conn, list(reads))
                    except Exception:
                        # Read past SQLAlchemy, so it cannot tell a lost connection: it is
                        # not put back for the next round.
                        await conn.invalidate()
                        raise
                    for row in rows:
                        found[row[0]] = row
            except Exception:
                # Every request reads them itself, and meets the error there.
                log.warning("a shared version check failed", exc_info=True)
            for ws, waiting in reads.items():
                for future in waiting:
                    if not future.done():
                        future.set_result(found.get(ws))

    async def _write_lane(self) -> None:
        # Ends as soon as nothing waits to be sent (the rounds in flight finish on their own),
        # so a touch arriving later always finds the lane gone and starts a new one.
        slots = self._slots()
        while self._touches:
            await asyncio.sleep(0)
            await slots.acquire()  # touches arriving meanwhile join the next round
            touches, self._touches = self._touches[:MAX_TOUCHES], self._touches[MAX_TOUCHES:]
            if not touches:
                slots.release()
                continue
            self._count(len(touches))
            task = asyncio.get_running_loop().create_task(self._write_round(touches))
            self._rounds.add(task)
            task.add_done_callback(self._rounds.discard)
            task.add_done_callback(lambda _done: slots.release())

    def engines(self) -> RoundEngines:
        if self._engines is None:
            self._engines = round_engines(self.engine)
        return self._engines

    def _slots(self) -> asyncio.Semaphore:
        """At most `_in_flight` write rounds at once (per event loop)."""
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._semaphore[0] is not loop:
            self._semaphore = (loop, asyncio.Semaphore(self._in_flight))
        return self._semaphore[1]

    async def _write_round(
        self, touches: list[tuple[Mapping[str, Any], asyncio.Future[Row[Any] | None]]]
    ) -> None:
        stored: dict[tuple[int, str], Row[Any]] = {}
        try:
            async with self.engines().writes.connect() as conn:
                for row in await _insert(conn, [params for params, _ in touches]):
                    stored[(row.workspace_id, row.source_id)] = row
                await conn.commit()
            self.stored += len(stored)
        except Exception:
            # Nothing of the round was committed: every touch is stored the ordinary way,
            # and meets the error there.
            log.warning("a shared commit failed; its touches go one by one", exc_info=True)
            stored = {}
        for params, future in touches:
            if not future.done():
                key = (params["workspace_id"], params["source_id"])
                future.set_result(stored.pop(key, None))  # a repeat in the round: None

    def _count(self, requests: int) -> None:
        self.rounds += 1
        self.served += requests


async def _insert(conn: AsyncConnection, touches: Sequence[Mapping[str, Any]]) -> list[Row[Any]]:
    # Rounds come in a few sizes (1, 2, 4, ... MAX_TOUCHES), so only a few statements are ever
    # compiled and prepared; the last touch fills the gap, and ON CONFLICT drops its copies.
    size = 1 << (len(touches) - 1).bit_length()
    params = {
        f"{c}_{i}": touches[min(i, len(touches) - 1)][c] for i in range(size) for c in TOUCH_COLUMNS
    }
    return list(await conn.execute(_touch_insert(conn.dialect.name, size), params))
