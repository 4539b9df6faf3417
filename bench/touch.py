"""In-process /touch: CPU per command at firms of 10, 1,000 and 10,000 clients.

    python -m bench.touch --engine sqlite
    python -m bench.touch --engine postgres --url postgresql://postgres@127.0.0.1/tb_touch_bench
    python -m bench.touch --engine sqlite --sizes 10,1000 --touches 300

For each size it seeds one workspace with that many clients (real names of several words, a
few aliases each), then sends `/touch <client> …` through `Touchbase.command` as one person, the
way every platform adapter does, and reports the process CPU time per command (median of three
rounds, after a warm-up) and the statements per touch. The goal: CPU at 10,000 clients at most
1.5x the CPU at 10. It drops and recreates every table in the database it is given. The last
line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, text

from bench.common import machine
from bench.sweep import bulk, reset
from bot.app import Touchbase
from bot.clock import FixedClock
from bot.commands import default_registry
from bot.config import CoreConfig
from bot.domain import Platform
from bot.inbound import CommandIn, Identity
from store.db import create_engine
from store.models import ClientRow, PersonRow, WorkspaceRow
from store.repositories import SqlStore

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday afternoon
WORDS = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Massive",
    "Dynamic",
    "Pied",
    "Piper",
    "Blue",
    "Ridge",
    "Saint",
    "Marys",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Litware",
    "Tailspin",
    "Wingtip",
    "Adatum",
    "Proseware",
    "Lucerne",
    "Margie",
    "Coho",
    "Alpine",
    "Fourth",
    "Coffee",
    "Humongous",
]
SUFFIXES = ("Holdings", "Partners", "Group", "Capital", "Labs", "Industries", "LLP", "Inc.")
PHRASES = (
    "lunch with the CFO",
    "call with Dana yesterday, no reply yet",
    "emailed the GC about renewal",
    "coffee w/ general counsel last Tuesday",
    "left voicemail for the managing partner 2 days ago",
)


def client_names(n: int) -> list[str]:
    rng = random.Random(n)
    names: set[str] = set()
    while len(names) < n:
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIXES)} {len(names)}"
        names.add(name)
    return sorted(names)


async def seed(engine_url: str, clients: int) -> list[str]:
    engine = create_engine(engine_url)
    await reset(engine)
    created = NOW - timedelta(days=400)
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
                "id": 1,
                "workspace_id": 1,
                "platform_user_id": "bench-user",
                "display_name": "Bench User",
                "role": "senior",
                "tz": "UTC",
                "workdays": "0,1,2,3,4",
                "interests": [],
                "practice_areas": [],
                "address": {"user": "bench-user"},
                "created_at": created,
            }
        ],
    )
    names = client_names(clients)
    await bulk(
        engine,
        ClientRow.__table__,
        [
            {
                "id": i + 1,
                "workspace_id": 1,
                "name": name,
                "name_key": name.casefold(),
                "aliases": [f"{name.split()[0]}{i}"],
                "owner_id": 1,
                "status": "active",
                "created_at": created,
            }
            for i, name in enumerate(names)
        ],
    )
    await engine.dispose()
    return names


async def measure(engine_url: str, names: list[str], touches: int) -> dict[str, float]:
    engine = create_engine(engine_url)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    clock = FixedClock(NOW)
    store = SqlStore(engine, clock)
    rounds = store.batcher.engines()  # the shared rounds' engines, where they have their own
    for counted in {engine, rounds.reads, rounds.writes}:
        event.listen(counted.sync_engine, "before_cursor_execute", count)
    app = Touchbase(store, clock, CoreConfig(), default_registry())
    who = Identity(Platform.CONSOLE, "bench", "bench-user", "Bench User", tz="UTC")
    rng = random.Random(1)
    serial = 0

    async def one() -> None:
        nonlocal serial
        serial += 1
        name = rng.choice(names)
        await app.command(
            who,
            CommandIn("touch", f'"{name}" {rng.choice(PHRASES)}', source_id=f"bench-{serial}"),
        )

    for _ in range(30):  # warm-up: caches, compiled statements, connections
        await one()
    rounds: list[float] = []
    statements = 0
    for _ in range(3):
        cpu = time.process_time()
        for _ in range(touches):
            await one()
        rounds.append((time.process_time() - cpu) / touches * 1000)
    per_touch_statements = statements / (3 * touches)
    async with engine.connect() as conn:
        stored = await conn.scalar(text("SELECT count(*) FROM touch"))
    await engine.dispose()
    return {
        "cpu_ms": round(statistics.median(rounds), 3),
        "statements": round(per_touch_statements, 2),
        "stored": float(stored or 0),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--touches", type=int, default=300, help="commands per round")
    args = parser.parse_args()
    if args.url:
        url = args.url
    elif args.engine == "sqlite":
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'touch-bench.db'}"
    else:
        url = "postgresql://postgres@127.0.0.1/tb_touch_bench"
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {machine()}")
    figures: dict[int, dict[str, float]] = {}
    for size in sizes:
        names = await seed(url, size)
        figures[size] = await measure(url, names, args.touches)
        print(
            f"{size:>6} clients: {figures[size]['cpu_ms']:.2f} ms CPU per /touch, "
            f"{figures[size]['statements']:.1f} statements"
        )
    smallest, largest = min(sizes), max(sizes)
    ratio = figures[largest]["cpu_ms"] / figures[smallest]["cpu_ms"]
    print(f"ratio {largest} / {smallest} clients: {ratio:.2f}x (goal <= 1.5x)")
    result = {
        "bench": "touch",
        "engine": args.engine,
        "touches": args.touches,
        **{f"cpu_ms_{size}": figures[size]["cpu_ms"] for size in sizes},
        "statements_per_touch": figures[largest]["statements"],
        "ratio": round(ratio, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
