"""One digest a workday at 08:00 local time, through the weeks clocks change.

The sweep runs every ten minutes of simulated time over a week around each transition, with a
FixedClock; every UTC offset involved is a whole or half hour, so a ten-minute grid hits 08:00
local exactly. Lord Howe Island moves its clocks by thirty minutes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FixedClock
from bot.config import CoreConfig
from bot.digest import run_sweep
from bot.domain import Platform
from store.db import create_engine, upgrade
from store.repositories import SqlStore
from tests.nudge_fixtures import RecordingMessenger, add_client, add_person, workspace

TRANSITIONS = [
    ("America/New_York", date(2026, 3, 8)),  # 02:00 -> 03:00
    ("America/New_York", date(2026, 11, 1)),  # 02:00 -> 01:00
    ("Europe/Berlin", date(2026, 3, 29)),
    ("Europe/Berlin", date(2026, 10, 25)),
    ("Australia/Lord_Howe", date(2026, 4, 5)),  # 02:00 -> 01:30
    ("Australia/Lord_Howe", date(2026, 10, 4)),  # 02:00 -> 02:30
    ("Asia/Kolkata", date(2026, 3, 29)),  # no DST: the control
]


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'dst.db'}")
    await upgrade(engine)
    yield engine
    await engine.dispose()


def _offsets_differ(tz: ZoneInfo, sunday: date) -> bool:
    before = datetime.combine(sunday - timedelta(days=1), time(12), tz).utcoffset()
    after = datetime.combine(sunday + timedelta(days=1), time(12), tz).utcoffset()
    return before != after


@pytest.mark.parametrize(("tz_name", "sunday"), TRANSITIONS, ids=lambda v: str(v))
async def test_one_digest_each_workday_at_eight_local(
    sqlite_engine: AsyncEngine, tz_name: str, sunday: date
) -> None:
    tz = ZoneInfo(tz_name)
    assert _offsets_differ(tz, sunday) == (tz_name != "Asia/Kolkata")
    start_day = sunday - timedelta(days=4)  # the Wednesday before
    end_day = sunday + timedelta(days=4)  # the Thursday after
    clock = FixedClock(datetime.combine(start_day, time(0), tz))
    store = SqlStore(sqlite_engine, clock)
    ws = await workspace(store)
    person = await add_person(store, ws, "pat", tz=tz_name)
    await add_client(store, clock, ws, "Acme", person, added=clock.now() - timedelta(days=365))

    messenger = RecordingMessenger()
    sent_at: list[datetime] = []
    end = datetime.combine(end_day + timedelta(days=1), time(0), tz).astimezone(UTC)
    config = CoreConfig()
    while clock.now() < end:
        before = len(messenger.sent)
        await run_sweep(store, {Platform.CONSOLE: messenger}, clock, config, "dst")
        if len(messenger.sent) > before:
            sent_at.append(clock.now().astimezone(tz))
        clock.advance(timedelta(minutes=10))

    days = [start_day + timedelta(days=i) for i in range((end_day - start_day).days + 1)]
    workdays = [d for d in days if d.weekday() < 5]
    assert [t.date() for t in sent_at] == workdays  # one a workday, none at the weekend
    assert all(t.time() == time(8, 0) for t in sent_at), sent_at


@pytest.mark.parametrize("tz_name", ["Australia/Lord_Howe", "America/New_York"])
async def test_catch_up_after_downtime_across_the_change(
    sqlite_engine: AsyncEngine, tz_name: str
) -> None:
    """Down from 07:00 until 11:30 local on the Monday after the change: the digest still goes."""
    tz = ZoneInfo(tz_name)
    monday = date(2026, 10, 5) if tz_name == "Australia/Lord_Howe" else date(2026, 11, 2)
    clock = FixedClock(datetime.combine(monday, time(11, 30), tz))
    store = SqlStore(sqlite_engine, clock)
    ws = await workspace(store)
    person = await add_person(store, ws, "pat", tz=tz_name)
    await add_client(store, clock, ws, "Acme", person, added=clock.now() - timedelta(days=365))
    messenger = RecordingMessenger()
    await run_sweep(store, {Platform.CONSOLE: messenger}, clock, CoreConfig(), "late")
    assert messenger.recipients() == ["pat"]
    clock.set(datetime.combine(monday, time(12, 0), tz))
    await run_sweep(store, {Platform.CONSOLE: messenger}, clock, CoreConfig(), "late")
    assert messenger.recipients() == ["pat"]
