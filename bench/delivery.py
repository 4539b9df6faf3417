"""Delivery: N morning digests through the real path against Slack-like limits.

    python -m bench.delivery                                # 300 people, SQLite, concurrency 1 and 16
    python -m bench.delivery --people 1000 --engine postgres  # TOUCHBASE_BENCH_PG_URL

N people in one Slack workspace (addresses {"channel": "U…", "team": "T0BENCH"}), each owning one
overdue client, all due at Monday 08:00 UTC. The digest sweep (`bot.digest.run_sweep`) sends
through `SlackMessenger` and the real slack_sdk `AsyncWebClient` built by `make_client` (its
429 and 5xx retry handlers included) aimed at FakeSlackApi on loopback, which enforces:

* one message a second per channel (each DM is its own channel), burst 1;
* a workspace-wide cap on chat.postMessage, default 10 a second with a burst of 5 (600 a
  minute: Slack documents 1/s per channel plus an unpublished workspace-wide limit of "several
  hundred messages a minute"; 10/s is a realistic, conservative reading of that);
* 10 % of calls (seeded) answered 429 with Retry-After: 1, or 500/502/503, posting nothing.

The sweep runs as the scheduler would, tick after tick, on an injected clock. A digest whose
send failed after the SDK's own retries is put back with a backoff of minutes (`retry_at`); the
bench then moves the clock to the next minute tick at or after the earliest `retry_at` instead
of sleeping, and sweeps again, until no digest is left to retry.

What "elapsed" means: the wall-clock time spent inside the sweeps, i.e. the actual sending,
including the real seconds the SDK sleeps on a Retry-After (the fake's limits run on real time).
The minutes of simulated waiting between ticks are reported apart and are not in "elapsed".
Bound: N / workspace cap, the least time the workspace cap allows. Goal: elapsed <= 1.1x the
bound, nobody lost (no successful chat.postMessage to their DM), nobody twice.
WARNING: on PostgreSQL it drops and recreates the schema of the database it is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from adapters.slack.app import make_client
from adapters.slack.messenger import SlackMessenger
from app.settings import SlackSettings
from bench.common import BOT_TOKEN, TEAM, machine, today
from bot.clock import FixedClock
from bot.config import CoreConfig
from bot.digest import run_sweep
from bot.domain import Platform
from store.db import create_engine, upgrade
from store.models import DeliveryRow, DigestRow
from store.repositories import SqlStore

PG_URL = os.environ.get(
    "TOUCHBASE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1/tb_prove_delivery"
)
START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday, 08:00 in UTC
TICK = timedelta(minutes=1)  # the scheduler's tick
MAX_TICKS = 60  # a bound on the loop; the catch-up window closes at 12:00 anyway


def user_id(i: int) -> str:
    return f"U{i:07d}"


@dataclass
class Outcome:
    ticks: list[tuple[datetime, float, int, int]] = field(
        default_factory=list
    )  # at, s, sent, retry
    simulated_wait: timedelta = timedelta(0)

    @property
    def elapsed(self) -> float:
        return sum(seconds for _, seconds, _, _ in self.ticks)


async def prepare(url: str) -> None:
    """A migrated, empty database: PostgreSQL's is created when missing, its schema dropped."""
    if url.startswith("postgresql"):
        target = make_url(url)
        admin = create_engine(target.set(database="postgres").render_as_string(False))
        try:
            async with admin.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                found = await conn.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
                )
                if not found:
                    await conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        finally:
            await admin.dispose()
    engine = create_engine(url)
    try:
        if engine.dialect.name == "postgresql":
            async with engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(engine)
    finally:
        await engine.dispose()


async def seed(store: SqlStore, clock: FixedClock, people: int) -> None:
    ws = await store.workspace(Platform.SLACK, TEAM, "Bench firm")
    clock.set(START - timedelta(days=90))  # the clients were added long ago: all overdue
    async with store.unit(ws.id) as uow:
        for i in range(people):
            person = await uow.people.ensure(
                user_id(i), f"Person {i}", tz="UTC", address={"channel": user_id(i), "team": TEAM}
            )
            await uow.clients.add(f"Client {i}", owner_id=person.id)
        await uow.commit()
    clock.set(START)


async def next_retry(store: SqlStore) -> datetime | None:
    async with store.sessions() as s:
        at = await s.scalar(select(func.min(DigestRow.retry_at)).where(DigestRow.status == "retry"))
    if at is None:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def drive(
    store: SqlStore, messenger: SlackMessenger, clock: FixedClock, concurrency: int
) -> Outcome:
    """Sweep at START, then at each tick where a retry falls due, until none is left."""
    out = Outcome()
    config = CoreConfig()
    for _ in range(MAX_TICKS):
        began = time.perf_counter()
        report = await run_sweep(
            store, {Platform.SLACK: messenger}, clock, config, "bench", concurrency=concurrency
        )
        seconds = time.perf_counter() - began
        out.ticks.append((clock.now(), seconds, len(report.sent), len(report.retrying)))
        due = await next_retry(store)
        if due is None:
            break
        # The next scheduler tick at or after the earliest retry: simulated, not slept.
        ticks_ahead = max(1, -(-(due - clock.now()) // TICK))
        out.simulated_wait += ticks_ahead * TICK
        clock.advance(ticks_ahead * TICK)
    return out


async def database_counts(store: SqlStore) -> tuple[Counter[str], Counter[str]]:
    async with store.sessions() as s:
        digests = Counter(
            dict(
                (
                    await s.execute(
                        select(DigestRow.status, func.count()).group_by(DigestRow.status)
                    )
                ).all()
            )
        )
        outcomes = Counter(
            dict(
                (
                    await s.execute(
                        select(DeliveryRow.outcome, func.count()).group_by(DeliveryRow.outcome)
                    )
                ).all()
            )
        )
    return digests, outcomes


async def run_once(args: argparse.Namespace, concurrency: int) -> bool:
    """One full delivery on a fresh database and a fresh fake; prints its table; True if no
    digest was lost or duplicated."""
    from tests.fakes.slack_api import FakeSlackApi

    workdir = Path(tempfile.mkdtemp(prefix="tb-delivery-"))
    url = args.url or (
        f"sqlite:///{workdir / 'touchbase.db'}" if args.engine == "sqlite" else PG_URL
    )
    await prepare(url)
    engine = create_engine(url)
    clock = FixedClock(START)
    store = SqlStore(engine, clock)
    try:
        began = time.perf_counter()
        await seed(store, clock, args.people)
        seeded = time.perf_counter() - began
        async with FakeSlackApi(team_id=TEAM) as fake:
            fake.rate_limit(
                per_channel_per_second=1.0,
                burst=1,
                workspace_per_second=args.workspace_rate,
                workspace_burst=args.workspace_burst,
                error_rate=args.error_rate,
                seed=args.seed,
            )
            client = make_client(SlackSettings(api_url=fake.base_url), BOT_TOKEN)

            async def client_for(key: str | None) -> AsyncWebClient | None:
                return client if key == TEAM else None

            messenger = SlackMessenger(client_for)
            outcome = await drive(store, messenger, clock, concurrency)
            calls = fake.calls("chat.postMessage")
            injected = dict(fake.injected)
        digests, deliveries = await database_counts(store)
    finally:
        await engine.dispose()

    ok = Counter(
        str(c.params.get("channel")) for c in calls if c.status == 200 and c.response.get("ok")
    )
    everyone = {user_id(i) for i in range(args.people)}
    lost = sorted(everyone - set(ok))
    duplicated = sorted(ch for ch, n in ok.items() if n > 1)
    limited = sum(1 for c in calls if c.status == 429) - injected.get(429, 0)
    bound = args.people / args.workspace_rate
    ratio = outcome.elapsed / bound

    print(
        f"\n# delivery, {args.engine}, {machine()}, {today()}: {args.people} people, sweep "
        f"concurrency {concurrency}, workspace cap {args.workspace_rate:g}/s (burst "
        f"{args.workspace_burst}), 1/s per channel, {args.error_rate:.0%} injected faults "
        f"(seed {args.seed}); seeding took {seeded:.1f} s"
    )
    print(f"{'tick (simulated clock)':<24} {'wall s':>8} {'sent':>6} {'to retry':>8}")
    for at, seconds, sent, retry in outcome.ticks:
        print(f"{at:%a %H:%M:%S}{'':<12} {seconds:>8.1f} {sent:>6} {retry:>8}")
    print(f"{'figure':<44} {'value':>12}  goal")
    rows = [
        ("elapsed: wall time inside the sweeps", f"{outcome.elapsed:.1f} s", ""),
        ("bound: N / workspace cap", f"{bound:.1f} s", ""),
        ("elapsed / bound", f"{ratio:.2f}x", "<= 1.1x " + ("met" if ratio <= 1.1 else "MISSED")),
        ("simulated waiting between ticks (not slept)", f"{outcome.simulated_wait}", ""),
        ("ticks", f"{len(outcome.ticks)}", ""),
        ("lost (no successful post)", f"{len(lost)}", "0 " + ("met" if not lost else "MISSED")),
        (
            "duplicated (> 1 successful post)",
            f"{len(duplicated)}",
            "0 " + ("met" if not duplicated else "MISSED"),
        ),
        ("chat.postMessage calls", f"{len(calls)}", ""),
        ("  answered 429 by the rate limits", f"{limited}", ""),
        (
            "  injected faults, by status",
            f"{sum(injected.values())}",
            str(dict(sorted(injected.items()))),
        ),
        ("digest rows by status", f"{sum(digests.values())}", str(dict(sorted(digests.items())))),
        (
            "delivery log by outcome",
            f"{sum(deliveries.values())}",
            str(dict(sorted(deliveries.items()))),
        ),
    ]
    for name, value, goal in rows:
        print(f"{name:<44} {value:>12}  {goal}", flush=True)
    RESULTS.append(
        {
            "concurrency": concurrency,
            "ratio": round(ratio, 2),
            "lost": len(lost),
            "duplicated": len(duplicated),
        }
    )
    return not lost and not duplicated


async def main(args: argparse.Namespace) -> int:
    # The messenger logs each refusal at WARNING; the delivery log above counts them instead.
    logging.getLogger("adapters.slack.messenger").setLevel(logging.ERROR)
    results = [await run_once(args, c) for c in args.concurrency]
    best = min(RESULTS, key=lambda r: r["ratio"]) if RESULTS else {}
    print(
        json.dumps(
            {
                "bench": "delivery",
                "engine": args.engine,
                "people": args.people,
                **best,
                "runs": RESULTS,
            }
        )
    )
    return 0 if all(results) else 1


RESULTS: list[dict[str, float | int]] = []  # one per concurrency level, in order


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__.split("\n")[0])
    p.add_argument("--people", type=int, default=300)
    p.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--url", default=None, help="database URL (PostgreSQL: its schema is dropped!)")
    p.add_argument("--workspace-rate", type=float, default=10.0, help="messages a second")
    p.add_argument("--workspace-burst", type=int, default=5)
    p.add_argument("--error-rate", type=float, default=0.10)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[1, 16],
        help="people delivered at once by the sweep (run_sweep(concurrency=...)); one run each",
    )
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
