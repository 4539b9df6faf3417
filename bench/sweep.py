"""Benchmark: the digest sweep's due list against one hand-written SQL query.

    python -m bench.sweep --engine sqlite
    python -m bench.sweep --engine postgres --url postgresql://postgres@127.0.0.1/tb_nudges_bench
    python -m bench.sweep --engine sqlite --people 1000 --clients 10000 --touches 100000  # quick

Seeds one workspace (people in UTC, clients owned round-robin, touches spread over 400 days;
some clients never touched, some with an imported last contact, some archived or inactive),
then at Monday 08:30 UTC times (a) the sweep's own path: who may get a digest now, and their
regularity items ranked, the ones a digest shows written in full, and (b) one SQL query
computing the same (owner, client) due pairs by the product's rule. Prints both, their ratio,
the sweep's peak Python memory (tracemalloc, separate run) and the process's maximum resident
size (seeding included), checks the two lists are equal, and ends with one JSON line.
WARNING: it drops and recreates every table in the database it is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.server import tune_gc
from bot.clock import FixedClock
from bot.config import CoreConfig
from bot.digest import due_candidates
from bot.nudges import Agenda, RegularitySource, collect_agendas
from store.db import create_engine
from store.models import Base, ClientRow, PersonRow, SegmentRow, TouchRow, WorkspaceRow
from store.repositories import SqlStore

NOW = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # a Monday
TODAY = NOW.date()
T = TypeVar("T")

# The product's rule (bot.rules.next_due): a cadence after the latest contact (a touch, or the
# last contact an import brought), unless that falls on or before the day the client was added;
# then, as for a client never touched, its first contact date, spread over the cadence by id.
BASELINE = {
    "postgresql": """
        WITH c AS (
            SELECT c.id, c.owner_id,
                   GREATEST(COALESCE(c.cadence_days, s.cadence_days, :default), 1) AS cadence,
                   GREATEST(t.last, c.last_contact_on) AS last,
                   (c.created_at AT TIME ZONE 'UTC')::date AS since
            FROM client c
            LEFT JOIN (SELECT client_id, max(occurred_on) AS last FROM touch
                       WHERE workspace_id = :ws GROUP BY client_id) t ON t.client_id = c.id
            LEFT JOIN segment s ON s.workspace_id = c.workspace_id AND s.name = c.segment
            WHERE c.workspace_id = :ws AND c.owner_id IS NOT NULL
              AND c.status NOT IN ('inactive', 'archived')
        )
        SELECT owner_id, id FROM c
        WHERE CASE WHEN last + cadence > since THEN last + cadence
                   ELSE since + 1 + id % cadence END <= :today
    """,
    "sqlite": """
        WITH c AS (
            SELECT c.id, c.owner_id,
                   max(COALESCE(c.cadence_days, s.cadence_days, :default), 1) AS cadence,
                   CASE WHEN c.last_contact_on IS NULL OR t.last >= c.last_contact_on
                        THEN t.last ELSE c.last_contact_on END AS last,
                   date(c.created_at) AS since
            FROM client c
            LEFT JOIN (SELECT client_id, max(occurred_on) AS last FROM touch
                       WHERE workspace_id = :ws GROUP BY client_id) t ON t.client_id = c.id
            LEFT JOIN segment s ON s.workspace_id = c.workspace_id AND s.name = c.segment
            WHERE c.workspace_id = :ws AND c.owner_id IS NOT NULL
              AND c.status NOT IN ('inactive', 'archived')
        )
        SELECT owner_id, id FROM c
        WHERE CASE WHEN julianday(last) + cadence > julianday(since)
                   THEN julianday(last) + cadence
                   ELSE julianday(since) + 1 + id % cadence END <= julianday(:today)
    """,
}


async def reset(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)


async def bulk(engine: AsyncEngine, table: Any, rows: list[dict[str, Any]]) -> None:
    """Fast inserts: COPY on PostgreSQL, chunked executemany on SQLite."""
    if not rows:
        return
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            raw = await conn.get_raw_connection()
            columns = list(rows[0])
            records = [
                tuple(json.dumps(v) if isinstance(v, dict | list) else v for v in r.values())
                for r in rows
            ]
            await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                table.name, records=records, columns=columns
            )
        else:
            for i in range(0, len(rows), 50_000):
                await conn.execute(insert(table), rows[i : i + 50_000])


async def seed(engine: AsyncEngine, people: int, clients: int, touches: int) -> int:
    rng = random.Random(7)
    created = NOW - timedelta(days=500)
    await bulk(
        engine,
        WorkspaceRow.__table__,
        [
            {
                "id": 1,
                "platform": "console",
                "external_id": "bench",
                "name": "Bench",
                "active": True,
                "created_at": created,
            }
        ],
    )
    await bulk(
        engine,
        PersonRow.__table__,
        [
            {
                "id": i,
                "workspace_id": 1,
                "platform_user_id": f"u{i}",
                "display_name": f"Person {i}",
                "role": "senior",
                "tz": "UTC",
                "workdays": "0,1,2,3,4",
                "interests": [],
                "practice_areas": [],
                "address": {"user": f"u{i}"},
                "created_at": created,
            }
            for i in range(1, people + 1)
        ],
    )
    await bulk(
        engine,
        SegmentRow.__table__,
        [
            {"id": 1, "workspace_id": 1, "name": "key", "cadence_days": 14},
            {"id": 2, "workspace_id": 1, "name": "dormant", "cadence_days": 90},
        ],
    )
    segments = [None, None, "key", "dormant"]
    await bulk(
        engine,
        ClientRow.__table__,
        [
            {
                "id": i,
                "workspace_id": 1,
                "name": f"Client {i}",
                "name_key": f"client {i}",
                "aliases": [],
                "owner_id": None if i % 50 == 0 else (i % people) + 1,
                "cadence_days": rng.choice([None, None, None, 7, 60]),
                "segment": segments[i % 4],
                "status": "inactive" if i % 97 == 0 else "archived" if i % 89 == 0 else "active",
                "created_at": created + timedelta(days=rng.randrange(480)),
                # Some carry the last contact an import brought.
                "last_contact_on": TODAY - timedelta(days=rng.randrange(400))
                if i % 10 == 3
                else None,
            }
            for i in range(1, clients + 1)
        ],
    )
    # Touches in batches, so seeding never holds a million dicts at once.
    batch = 200_000
    for start in range(0, touches, batch):
        rows = []
        for i in range(start + 1, min(start + batch, touches) + 1):
            client = rng.randrange(1, clients + 1)
            if client % 13 == 0:  # some clients are never touched
                client -= 1
            rows.append(
                {
                    "id": i,
                    "workspace_id": 1,
                    "client_id": client,
                    "person_id": (client % people) + 1,
                    "kind": "call",
                    "note": "",
                    "occurred_on": TODAY - timedelta(days=rng.randrange(400)),
                    "awaiting_reply": False,
                    "created_at": NOW,
                }
            )
        await bulk(engine, TouchRow.__table__, rows)
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            for table in ("person", "client", "touch", "segment", "workspace"):
                await conn.execute(
                    text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
                )
    # The steady state autovacuum keeps a live database in: statistics, and a visibility map
    # so index-only scans need not visit the table.
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(
            text("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE")
        )
    return 1


async def sweep_due(store: SqlStore, config: CoreConfig) -> dict[int, Agenda]:
    """The sweep's path: candidates now, then their regularity items ranked, the ones a digest
    shows written in full (`build_digests` does the same)."""
    candidates = await due_candidates(store, NOW, config)
    ids = [c.person.id for c in candidates]
    zones = {c.person.id: c.person.tz for c in candidates if c.person.tz is not None}
    async with store.unit(1) as uow:
        return await collect_agendas(
            uow,
            ids,
            NOW,
            config,
            [RegularitySource()],
            limit=config.digest_max_items,
            zones=zones,
        )


async def baseline_due(engine: AsyncEngine, config: CoreConfig) -> list[tuple[int, int]]:
    sql = text(BASELINE[engine.dialect.name])
    today: date | str = TODAY if engine.dialect.name == "postgresql" else TODAY.isoformat()
    async with engine.connect() as conn:
        rows = await conn.execute(
            sql, {"ws": 1, "default": config.default_cadence_days, "today": today}
        )
        return [(owner, client) for owner, client in rows]


def swept_pairs(agendas: dict[int, Agenda]) -> set[tuple[int, int]]:
    """Every (owner, client) pair the sweep found due: those shown and those only counted."""
    return {(n.person_id, n.client_id or 0) for a in agendas.values() for n in a.items()}


async def timed(fn: Callable[[], Awaitable[T]], repeat: int) -> tuple[float, T]:
    times = []
    result: T | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


async def main(args: argparse.Namespace) -> int:
    url = args.url or (
        f"sqlite:///{args.sqlite_file}"
        if args.engine == "sqlite"
        else "postgresql://postgres@127.0.0.1/tb_nudges_bench"
    )
    engine = create_engine(url)
    config = CoreConfig()
    try:
        if not args.keep:
            start = time.perf_counter()
            await reset(engine)
            await seed(engine, args.people, args.clients, args.touches)
            print(
                f"seeded {args.people} people, {args.clients} clients, {args.touches} touches "
                f"on {engine.dialect.name} in {time.perf_counter() - start:.1f} s"
            )
        store = SqlStore(engine, FixedClock(NOW))
        await baseline_due(engine, config)  # warm the caches for both
        await sweep_due(store, config)
        # The collector as `touchbase serve` sets it before its scheduler's first sweep.
        tune_gc()
        rss_before = maxrss_mb()
        # Alternate the two, so a busy machine slows both alike.
        sweep_times, sql_times = [], []
        for _ in range(args.repeat):
            t, agendas = await timed(lambda: sweep_due(store, config), 1)
            sweep_times.append(t)
            t, rows = await timed(lambda: baseline_due(engine, config), 1)
            sql_times.append(t)
        rss_after = maxrss_mb()
        t_sweep, t_sql = statistics.median(sweep_times), statistics.median(sql_times)
        tracemalloc.start()
        await sweep_due(store, config)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        await engine.dispose()
    swept, expected = swept_pairs(agendas), set(rows)
    equal = swept == expected and len(rows) == len(expected)
    print(f"due pairs (owner, client): sweep {len(swept)}, query {len(expected)}")
    print(f"sweep due list   {t_sweep * 1000:9.1f} ms  (median of {args.repeat})")
    print(f"one SQL query    {t_sql * 1000:9.1f} ms  (median of {args.repeat})")
    print(f"ratio            {t_sweep / t_sql:9.2f} x   (goal <= 1.5)")
    print(f"sweep peak Python memory {peak / 2**20:7.1f} MB (tracemalloc)")
    print(
        f"process max RSS          {rss_after:7.1f} MB (grew {rss_after - rss_before:.1f} MB "
        "during the timed sweeps; goal <= 300)"
    )
    print(f"lists equal: {equal}")
    result = {
        "bench": "sweep",
        "engine": engine.dialect.name,
        "people": args.people,
        "clients": args.clients,
        "touches": args.touches,
        "ratio": round(t_sweep / t_sql, 2),
        "sweep_ms": round(t_sweep * 1000, 1),
        "query_ms": round(t_sql * 1000, 1),
        "peak_rss_mb": round(rss_after),
        "equal": equal,
    }
    print(json.dumps(result))
    return 0 if equal else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__.split("\n")[0])
    p.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--url", default=None, help="database URL (its tables are dropped!)")
    p.add_argument("--sqlite-file", default="/tmp/touchbase-bench.db")
    p.add_argument("--people", type=int, default=10_000)
    p.add_argument("--clients", type=int, default=100_000)
    p.add_argument("--touches", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--keep", action="store_true", help="reuse the data seeded last time")
    return p.parse_args(argv)


if __name__ == "__main__":
    arguments = parse()
    if arguments.engine == "sqlite" and not arguments.keep and not arguments.url:
        Path(arguments.sqlite_file).unlink(missing_ok=True)
    sys.exit(asyncio.run(main(arguments)))
