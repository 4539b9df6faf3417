"""A database that stalls: every Slack command is still answered within Slack's 3 seconds, and
the outcome follows through response_url once the database is back. Nothing is lost.

SQLite: another connection holds the write lock (BEGIN IMMEDIATE). PostgreSQL: another
connection holds `LOCK TABLE touch IN ACCESS EXCLUSIVE MODE`. The stall (TOUCHBASE_STALL_SECONDS,
default 3.5) is longer than the adapter's 2.5 s ack budget, so the "Saving…" path is taken.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text

from store.db import create_engine, sqlite_path
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    Harness,
    slack_fake_fixture,
    slack_fixture,
)

pytestmark = pytest.mark.fault

STALL = float(os.environ.get("TOUCHBASE_STALL_SECONDS", "3.5"))
COMMANDS = 6


@asynccontextmanager
async def stalled(db_url: str) -> AsyncIterator[None]:
    """The database busy with someone else's write for as long as the block lasts."""
    path = sqlite_path(db_url)
    if path is not None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("COMMIT")
            other.close()
        return
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            transaction = await conn.begin()
            await conn.execute(text("LOCK TABLE touch IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                await transaction.commit()
    finally:
        await engine.dispose()


async def test_commands_are_answered_in_time_while_the_database_stalls(
    slack: Harness, db_url: str
) -> None:
    await slack.command("add Acme", command="/client")

    async def one(i: int) -> tuple[float, dict[str, object]]:
        started = time.monotonic()
        status, body = await slack.command(f"Acme call with Dana stall {i}", response_id=f"s{i}")
        assert status == 200
        return time.monotonic() - started, body

    async with stalled(db_url):
        answers = await asyncio.gather(*(one(i) for i in range(COMMANDS)))
        await asyncio.sleep(max(0.0, STALL - max(t for t, _ in answers)))
    await slack.settle()

    slowest = max(t for t, _ in answers)
    assert slowest < 3.0, [round(t, 2) for t, _ in answers]
    saving = [
        i for i, (_, body) in enumerate(answers) if str(body.get("text", "")).startswith("Saving")
    ]
    assert saving, "the stall was longer than the ack budget: 'Saving…' was expected"
    posted = {c.path.rsplit("/", 1)[-1]: c for c in slack.fake.calls("response_url")}
    for i in saving:
        assert "Logged call with Dana at Acme" in str(posted[f"s{i}"].params.get("text")), posted
    notes = sorted(t.note for t in await slack.touches())
    assert notes == sorted(f"call with Dana stall {i}" for i in range(COMMANDS))
