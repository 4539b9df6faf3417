"""Several schedulers on one database, and sweeps killed midway: every due person still gets
exactly one digest. In-process (two engines, asyncio.gather) on both engines; in separate OS
processes on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FixedClock
from bot.config import CoreConfig
from bot.digest import LEASE, run_sweep
from bot.domain import Platform
from store.db import create_engine, upgrade
from store.repositories import SqlStore
from tests.conftest import PG_SKIP, PG_URL
from tests.nudge_fixtures import (
    RecordingMessenger,
    add_client,
    add_person,
    age_claims,
    workspace,
)

MON = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
PEOPLE = 30
ROOT = Path(__file__).resolve().parent.parent


async def seed(store: SqlStore, clock: FixedClock, people: int = PEOPLE) -> list[str]:
    ws = await workspace(store)
    names = [f"p{i:02d}" for i in range(people)]
    for name in names:
        person = await add_person(store, ws, name)
        await add_client(store, clock, ws, f"Client of {name}", person, added=MON - timedelta(90))
    return names


async def test_two_schedulers_at_once_send_each_digest_once(
    db_url: str, store: SqlStore, clock: FixedClock
) -> None:
    names = await seed(store, clock)
    other_engine = create_engine(db_url)
    try:
        other = SqlStore(other_engine, clock)
        a, b = RecordingMessenger(), RecordingMessenger()
        at = FixedClock(MON)
        await asyncio.gather(
            run_sweep(store, {Platform.CONSOLE: a}, at, CoreConfig(), "replica-a"),
            run_sweep(other, {Platform.CONSOLE: b}, at, CoreConfig(), "replica-b"),
        )
    finally:
        await other_engine.dispose()
    both = a.recipients() + b.recipients()
    assert sorted(both) == names  # each once, and nobody twice
    assert Counter(both).most_common(1)[0][1] == 1


@pytest.mark.parametrize("stop", [asyncio.CancelledError(), SystemExit(1)], ids=["cancel", "exit"])
async def test_sweep_killed_midway_then_run_again(
    store: SqlStore, clock: FixedClock, stop: BaseException
) -> None:
    names = await seed(store, clock)
    first = RecordingMessenger(stop_after=5, stop=stop)
    with pytest.raises(type(stop)):
        await run_sweep(store, {Platform.CONSOLE: first}, FixedClock(MON), CoreConfig(), "dies")
    assert len(first.sent) == 5
    second = RecordingMessenger()
    # A minute later: the rest go out; the one claimed by the dead sweep is still leased.
    await run_sweep(
        store,
        {Platform.CONSOLE: second},
        FixedClock(MON + timedelta(minutes=1)),
        CoreConfig(),
        "next",
    )
    assert len(second.sent) == PEOPLE - 6
    # A sweep whose own clock says the lease is over does not take the claim: the database's
    # clock has not moved on.
    await run_sweep(
        store,
        {Platform.CONSOLE: second},
        FixedClock(MON + timedelta(minutes=6)),
        CoreConfig(),
        "next",
    )
    assert len(second.sent) == PEOPLE - 6
    # Once the database's clock is past the lease, the abandoned claim is taken over.
    await age_claims(store, LEASE + timedelta(seconds=1))
    await run_sweep(
        store,
        {Platform.CONSOLE: second},
        FixedClock(MON + timedelta(minutes=6)),
        CoreConfig(),
        "next",
    )
    everyone = first.recipients() + second.recipients()
    assert sorted(everyone) == names


# --- separate OS processes, on PostgreSQL ---------------------------------------------------------


@pytest.fixture
async def mp_url() -> AsyncIterator[str]:
    """A PostgreSQL database of its own for the multi-process tests (tb_nudges_mp)."""
    if not PG_URL:
        pytest.skip(PG_SKIP)
    url = make_url(PG_URL)
    name = f"{url.database}_mp"
    admin = create_engine(url.set(database="postgres").render_as_string(hide_password=False))
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    yield url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
async def mp_store(mp_url: str) -> AsyncIterator[tuple[SqlStore, FixedClock]]:
    engine: AsyncEngine = create_engine(mp_url)
    await upgrade(engine)
    clock = FixedClock(MON)
    yield SqlStore(engine, clock), clock
    await engine.dispose()


def worker(
    url: str, now: datetime, out: Path, hang_after: int | None = None
) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "tests.digest_worker", url, now.isoformat(), str(out)]
    if hang_after is not None:
        args.append(str(hang_after))
    return subprocess.Popen(args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def wait_for_file(path: Path, seconds: float) -> bool:
    """Another process signals through the file system; there is nothing else to wait on."""
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return path.exists()


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


@pytest.mark.postgres
async def test_three_processes_send_each_digest_once(
    mp_url: str, mp_store: tuple[SqlStore, FixedClock], tmp_path: Path
) -> None:
    names = await seed(*mp_store, people=60)
    out = tmp_path / "sent.txt"
    procs = [worker(mp_url, MON, out) for _ in range(3)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    assert sorted(lines(out)) == names


@pytest.mark.postgres
async def test_process_killed_mid_sweep_then_another_finishes(
    mp_url: str, mp_store: tuple[SqlStore, FixedClock], tmp_path: Path
) -> None:
    names = await seed(*mp_store)
    out = tmp_path / "sent.txt"
    doomed = worker(mp_url, MON, out, hang_after=7)
    assert wait_for_file(Path(f"{out}.hanging"), 60)
    assert len(lines(out)) == 7
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    # Straight after: everyone but the one held by the dead process.
    assert worker(mp_url, MON + timedelta(minutes=1), out).wait(timeout=60) == 0
    assert len(lines(out)) == PEOPLE - 1
    # After the lease (by the database's clock), that one too, and still nobody twice.
    await age_claims(mp_store[0], LEASE + timedelta(seconds=1))
    assert worker(mp_url, MON + timedelta(minutes=6), out).wait(timeout=60) == 0
    assert sorted(lines(out)) == names


def test_lock_refused_to_a_second_process(tmp_path: Path) -> None:
    from scheduler.lock import acquire

    db = tmp_path / "tb.db"
    held = acquire(db)
    try:
        code = (
            "import sys; from pathlib import Path; from scheduler.lock import acquire; "
            f"sys.exit(0 if not acquire(Path({str(db)!r})).held else 1)"
        )
        assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0
    finally:
        held.release()
