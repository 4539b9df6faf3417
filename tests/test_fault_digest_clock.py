"""Digests exactly once however wrong a process's clock is, and through a Slack outage.

Leases are judged by the database's clock; a sweep plans (who is due, today's date, when to
retry) with its own. Every test here sends through the real Slack SDK to the fake Slack Web API
(tests/fakes/slack_api.py) and counts the DMs the fake actually accepted.

- Five sweeps at once against a Slack that takes 2 s per message: three replicas with the right
  time, one whose clock runs 6 minutes ahead, and one planning with a time given earlier this
  morning (what `touchbase digest --now` does). On both engines, in one process; on PostgreSQL
  also as separate OS processes with the real `touchbase digest --now` beside them.
- Slack answering 503 from 08:00 for 19 minutes, a scheduler ticking every minute: every digest
  goes out once, before noon; none is marked failed.
- Slack down all morning: the digests stay pending, then are given up at the catch-up hour, with
  the reason logged; "failed" stays for permanent refusals.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.messenger import SlackMessenger
from bot.clock import FixedClock
from bot.config import CoreConfig
from bot.digest import LEASE, run_sweep
from bot.domain import Platform
from store.db import create_engine, database_now, upgrade
from store.models import DigestRow
from store.repositories import SqlStore
from tests.conftest import PG_SKIP, PG_URL
from tests.fakes.slack_api import FakeSlackApi
from tests.nudge_fixtures import RecordingMessenger, add_client, age_claims

pytestmark = pytest.mark.fault

ROOT = Path(__file__).resolve().parent.parent
TEAM = "T0FAKE"
TOKEN = "xoxb-test-token"
MON_0830 = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
MON_0800 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
AHEAD = timedelta(minutes=6)
EARLIER = timedelta(minutes=25)  # `touchbase digest --now 08:05` while it is 08:30


async def seed(store: SqlStore, clock: FixedClock, people: int) -> list[str]:
    """`people` Slack people in UTC, each with one overdue client; `clock` is the store's."""
    ws = await store.workspace(Platform.SLACK, TEAM, "Fake Workspace")
    users = [f"U{i:04d}" for i in range(people)]
    for user in users:
        async with store.unit(ws.id) as uow:
            p = await uow.people.ensure(
                user, f"Person {user}", tz="UTC", address={"channel": user, "team": TEAM}
            )
            await uow.commit()
        await add_client(
            store,
            clock,
            ws.id,
            f"Client of {user}",
            p,
            added=MON_0800 - timedelta(90),
        )
    return users


def delivered(fake: FakeSlackApi) -> Counter[str]:
    """DMs the fake accepted, per recipient."""
    return Counter(
        str(c.params["channel"])
        for c in fake.calls("chat.postMessage")
        if c.status == 200 and c.response.get("ok")
    )


def messenger_for(fake: FakeSlackApi) -> SlackMessenger:
    client = AsyncWebClient(token=TOKEN, base_url=fake.base_url)

    async def client_for(_team: str | None) -> AsyncWebClient:
        return client

    return SlackMessenger(client_for)


async def statuses(store: SqlStore) -> Counter[str]:
    async with store.sessions() as s:
        return Counter(await s.scalars(select(DigestRow.status)))


@pytest.fixture
async def slow_slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi(team_id=TEAM) as fake:
        fake.post_delay = 2.0
        yield fake


async def test_skewed_and_frozen_clocks_beside_replicas_send_each_digest_once(
    db_url: str, engine: AsyncEngine, slow_slack: FakeSlackApi
) -> None:
    """Before leases were judged by the database's clock, the replica 6 minutes ahead took over
        every claim still sending, and so did everyone with the `--now` run's claims. (`engine` empties
    the database first: the digests counted are this test's alone.)"""
    engines = [create_engine(db_url) for _ in range(5)]
    try:
        clocks = [FixedClock(MON_0830) for _ in range(3)]
        clocks += [FixedClock(MON_0830 + AHEAD), FixedClock(MON_0830 - EARLIER)]
        stores = [SqlStore(e, c) for e, c in zip(engines, clocks, strict=True)]
        await upgrade(engines[0])
        users = await seed(stores[0], clocks[0], 12)
        sweeps = [
            run_sweep(
                s,
                {Platform.SLACK: messenger_for(slow_slack)},
                c,
                CoreConfig(),
                f"replica-{i}",
                concurrency=2,
            )
            for i, (s, c) in enumerate(zip(stores, clocks, strict=True))
        ]
        reports = await asyncio.gather(*sweeps)
        assert sum(len(r.sent) for r in reports) == len(users), reports
        assert delivered(slow_slack) == Counter(dict.fromkeys(users, 1))
        assert await statuses(stores[0]) == Counter({"sent": len(users)})
        # Run again, each with its own clock: nothing more goes out.
        again = await asyncio.gather(
            *(
                run_sweep(s, {Platform.SLACK: messenger_for(slow_slack)}, c, CoreConfig(), "x")
                for s, c in zip(stores, clocks, strict=True)
            )
        )
        assert all(not r.sent for r in again)
        assert delivered(slow_slack) == Counter(dict.fromkeys(users, 1))
    finally:
        for e in engines:
            await e.dispose()


async def tick_through_the_morning(
    store: SqlStore, fake: FakeSlackApi, outage_until: datetime | None
) -> list[datetime]:
    """The scheduler's minute tick from 08:00 to 12:00, Slack down (503) until `outage_until`.
    Returns the instants at which DMs were accepted."""
    clock = FixedClock(MON_0800)
    messenger = messenger_for(fake)
    accepted: list[datetime] = []
    while clock.now() < MON_0800.replace(hour=12):
        down = outage_until is None or clock.now() < outage_until
        fake.down = 503 if down else None
        before = sum(delivered(fake).values())
        await run_sweep(store, {Platform.SLACK: messenger}, clock, CoreConfig(), "scheduler")
        accepted += [clock.now()] * (sum(delivered(fake).values()) - before)
        clock.advance(timedelta(minutes=1))
    fake.down = None
    return accepted


async def test_a_19_minute_slack_outage_from_0800_still_delivers_every_digest_once(
    store: SqlStore, clock: FixedClock
) -> None:
    async with FakeSlackApi(team_id=TEAM) as fake:
        users = await seed(store, clock, 10)
        accepted = await tick_through_the_morning(
            fake=fake, store=store, outage_until=MON_0800 + timedelta(minutes=19)
        )
        assert delivered(fake) == Counter(dict.fromkeys(users, 1))
        assert len(accepted) == len(users)
        assert max(accepted) < MON_0800.replace(hour=12)
        assert min(accepted) >= MON_0800 + timedelta(minutes=19)
        refused = [c for c in fake.calls("chat.postMessage") if c.status == 503]
        assert refused  # the outage was real: every digest was tried during it
        assert await statuses(store) == Counter({"sent": len(users)})


async def test_slack_down_all_morning_gives_up_at_the_catch_up_hour_with_a_reason(
    store: SqlStore, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeSlackApi(team_id=TEAM) as fake:
        users = await seed(store, clock, 3)
        with caplog.at_level(logging.WARNING, logger="bot.digest"):
            await tick_through_the_morning(store, fake, outage_until=None)
        assert not delivered(fake)
        assert await statuses(store) == Counter({"expired": len(users)})  # not "failed"
        reasons = [r.getMessage() for r in caplog.records if "gave up on a digest" in r.msg]
        assert len(reasons) == len(users)
        assert all("service_unavailable" in r for r in reasons)
        # Pending until then: tried again and again through the morning, not five times.
        tries = Counter(str(c.params["channel"]) for c in fake.calls("chat.postMessage"))
        assert min(tries.values()) > 5


# --- separate OS processes, and the real `touchbase digest --now`, on PostgreSQL ------------------


@pytest.fixture
async def mp_url() -> AsyncIterator[str]:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    url = make_url(PG_URL)
    name = f"{url.database}_clock"
    admin = create_engine(url.set(database="postgres").render_as_string(hide_password=False))
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    yield url.set(database=name).render_as_string(hide_password=False)


@pytest.mark.postgres
async def test_three_processes_and_digest_now_with_a_slow_slack_send_each_once(
    mp_url: str, slow_slack: FakeSlackApi
) -> None:
    engine = create_engine(mp_url)
    try:
        await upgrade(engine)
        clock = FixedClock(MON_0830)
        store = SqlStore(engine, clock)
        users = await seed(store, clock, 24)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        replica = [sys.executable, "-m", "tests.slack_digest_worker", mp_url]
        procs = [
            await asyncio.create_subprocess_exec(
                *replica, MON_0830.isoformat(), slow_slack.base_url, cwd=ROOT, env=env
            )
            for _ in range(2)
        ]
        procs.append(  # the replica whose clock runs 6 minutes ahead
            await asyncio.create_subprocess_exec(
                *replica,
                MON_0830.isoformat(),
                slow_slack.base_url,
                str(AHEAD.total_seconds()),
                cwd=ROOT,
                env=env,
            )
        )
        cli = {
            **env,
            "DATABASE_URL": mp_url,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": "test-signing-secret",
            "SLACK_API_URL": slow_slack.base_url,
            "TOUCHBASE_SCHEDULER": "false",
            "MICROSOFT_APP_ID": "",
        }
        procs.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "app.cli",
                "digest",
                "--now",
                (MON_0830 - EARLIER).isoformat(),
                cwd=ROOT,
                env=cli,
                stdout=asyncio.subprocess.PIPE,
            )
        )
        codes = [await asyncio.wait_for(p.wait(), 120) for p in procs]
        assert codes == [0, 0, 0, 0]
        assert delivered(slow_slack) == Counter(dict.fromkeys(users, 1))
        assert await statuses(store) == Counter({"sent": len(users)})
    finally:
        await engine.dispose()


async def test_the_claim_owner_heartbeats_so_a_long_send_is_not_taken_over(
    db_url: str, store: SqlStore, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mid-send the claim is aged past its lease; the owner's heartbeat renews it by the
    database's clock, and a rival sweep then finds nothing to take over."""
    monkeypatch.setattr("bot.digest.HEARTBEAT", timedelta(seconds=0.05))
    [user] = await seed(store, clock, 1)
    rival_engine = create_engine(db_url)
    rival_sent: list[int] = []

    class SlowMessenger:
        def __init__(self) -> None:
            self.sent: list[str] = []

        async def send(self, address: dict[str, object], message: object) -> None:
            await age_claims(store, LEASE + timedelta(seconds=1))  # stale, were nobody beating
            await heartbeat_renewed(store)
            rival = SqlStore(rival_engine, FixedClock(MON_0800 + timedelta(hours=1)))
            report = await run_sweep(
                rival, {Platform.SLACK: RecordingMessenger()}, rival.clock, CoreConfig(), "rival"
            )
            rival_sent.extend(report.sent)
            self.sent.append(str(address["channel"]))

    try:
        owner = SlowMessenger()
        report = await run_sweep(
            store, {Platform.SLACK: owner}, FixedClock(MON_0830), CoreConfig(), "owner"
        )
    finally:
        await rival_engine.dispose()
    assert report.sent and owner.sent == [user]
    assert rival_sent == []
    assert await statuses(store) == Counter({"sent": 1})


async def heartbeat_renewed(store: SqlStore) -> None:
    """Until the claim's heartbeat is fresh again (the owner's beat is every 50 ms)."""
    for _ in range(200):
        async with store.sessions() as s:
            row = (await s.execute(select(DigestRow))).scalar_one()
            fresh = await database_now(s) - row.heartbeat_at < LEASE
        if row.heartbeat_at is not None and fresh:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the claim's owner never heartbeat")
