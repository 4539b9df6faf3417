"""The scheduler start hook: it ticks on the running loop, and only one process per SQLite file
runs it."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from app.bootstrap import Services, bootstrap
from app.settings import Settings
from bot.clock import FixedClock
from bot.domain import Platform
from bot.messages import Message
from bot.ports import Address
from scheduler import start_scheduler
from scheduler.lock import acquire, lock_path
from tests.nudge_fixtures import RecordingMessenger, add_client, add_person, workspace

MON_0830 = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


async def _pat_with_a_client_due(tmp_path: Path) -> Services:
    """A firm on a SQLite file where Pat's client Acme is due a touch on Monday at 08:30."""
    clock = FixedClock(MON_0830)
    services = await bootstrap(
        Settings(database_url=f"sqlite:///{tmp_path / 'tb.db'}"), clock=clock
    )
    ws = await workspace(services.store)
    pat = await add_person(services.store, ws, "pat")
    await add_client(services.store, clock, ws, "Acme", pat, added=MON_0830 - timedelta(days=90))
    return services


async def test_first_tick_runs_at_start_and_sends(tmp_path: Path) -> None:
    services = await _pat_with_a_client_due(tmp_path)
    try:
        delivered = asyncio.Event()

        class Signalling(RecordingMessenger):
            async def send(self, address: Address, message: Message) -> None:
                await super().send(address, message)
                delivered.set()

        messenger = Signalling()
        services.add_messenger(Platform.CONSOLE, messenger)
        stop = await start_scheduler(web.Application(), services)
        assert stop is not None
        await asyncio.wait_for(delivered.wait(), timeout=30)  # the first tick runs at start
        await stop()
        assert messenger.recipients() == ["pat"]
    finally:
        await services.close()


async def test_stopping_lets_a_digest_in_flight_finish_first(tmp_path: Path) -> None:
    """A shutdown in the middle of a morning digest waits for it (up to a grace period), so it
    is sent and recorded once, and nothing still uses the database when it is closed."""
    services = await _pat_with_a_client_due(tmp_path)
    try:
        sending, release = asyncio.Event(), asyncio.Event()

        class Slow(RecordingMessenger):
            async def send(self, address: Address, message: Message) -> None:
                sending.set()
                await release.wait()
                await super().send(address, message)

        messenger = Slow()
        services.add_messenger(Platform.CONSOLE, messenger)
        stop = await start_scheduler(web.Application(), services)
        assert stop is not None
        await asyncio.wait_for(sending.wait(), timeout=30)
        stopping = asyncio.ensure_future(stop())
        await asyncio.sleep(0.2)
        assert not stopping.done()  # the digest being sent is waited for
        release.set()
        await asyncio.wait_for(stopping, timeout=15)
        assert messenger.recipients() == ["pat"]
    finally:
        await services.close()


async def test_second_process_on_one_sqlite_file_serves_without_scheduler(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "tb.db"
    settings = Settings(database_url=f"sqlite:///{db}")
    services = await bootstrap(settings, clock=FixedClock(MON_0830))
    held = acquire(db.resolve())  # another process would hold it; a second open file is the same
    try:
        assert held.held
        with caplog.at_level(logging.WARNING):
            stop = await start_scheduler(web.Application(), services)
        assert stop is None
        assert "WITHOUT the scheduler" in caplog.text and "PostgreSQL" in caplog.text
    finally:
        held.release()
        await services.close()
    # Once the holder is gone, the lock is free again.
    again = acquire(db.resolve())
    assert again.held and lock_path(db.resolve()).exists()
    again.release()
