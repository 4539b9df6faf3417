"""Three replicas on one PostgreSQL, a simulated week: exactly one digest per person and local
workday that had something due, none on other days, none twice, none missed.

1,000 people over eight time zones (a half-hour one, a quarter-hour one, both sides of UTC) and
four workday patterns (Mon-Fri, Sun-Thu, Mon-Thu, Tue-Sat); every tenth person has nothing due.
Three OS processes (this module run as `python -m tests.test_fault_replicas`) each run the real
`run_sweep` at every simulated tick, in lockstep: the test writes the tick's instant to each
process's stdin and waits for all three to answer before the next one, so the three sweeps of
a tick race on the same claims.

Which ticks: not every 30 minutes of the week (336 ticks x 3 processes is too slow for two
cores), only the ones that matter: for every zone and local date of the week, 08:00 local (the
digest hour: every UTC instant where someone's local time crosses 08:00) and 08:30 (the retry
of a failed first attempt, and the catch-up of anyone the 08:00 tick left). 112 instants. Each
of them is also, for the other zones, a moment before 08:00 or after 12:00 or on a day off, so
"nothing may go out now" is checked at every tick too. The cost is the ~4,300 digests claimed
three ways, not the ticks: ~60 s on two busy cores.

Faults: the messenger refuses the first attempt for about one person-day in twelve (a
retryable DeliveryError); the 08:30 tick must deliver those once. Each process appends every
successful send, with the person and the local date, to a file of its own, so a digest sent by
two processes shows up as two lines in two files.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from bot.clock import FixedClock
from bot.config import CoreConfig
from bot.digest import run_sweep
from bot.domain import Platform
from bot.messages import Message
from bot.ports import Address, DeliveryError
from store.db import create_engine, upgrade
from store.models import DigestRow, PersonRow
from store.repositories import SqlStore
from tests.conftest import PG_SKIP, PG_URL

pytestmark = pytest.mark.fault

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 1000
REPLICAS = 3
FIRST_DAY = date(2026, 11, 23)  # a Monday
DAYS = 7
ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Australia/Adelaide",  # +10:30 in November (daylight saving)
    "Pacific/Auckland",  # +13:00, where Monday starts first
)
WORKDAYS = ((0, 1, 2, 3, 4), (6, 0, 1, 2, 3), (0, 1, 2, 3), (1, 2, 3, 4, 5))
ADDED = datetime(2026, 8, 1, tzinfo=UTC)  # clients added long before: overdue all week


def user(i: int) -> str:
    return f"u{i:04d}"


def zone_of(i: int) -> str:
    return ZONES[i % len(ZONES)]


def workdays_of(i: int) -> tuple[int, ...]:
    return WORKDAYS[(i // len(ZONES)) % len(WORKDAYS)]


def has_due(i: int) -> bool:
    return i % 10 != 9


def first_attempt_fails(who: str, day: date) -> bool:
    return zlib.crc32(f"{who}/{day}".encode()) % 12 == 0


def local_dates() -> list[date]:
    return [FIRST_DAY + timedelta(days=d) for d in range(DAYS)]


def ticks() -> list[datetime]:
    """08:00 and 08:30 local, for every zone and local date of the week, in UTC."""
    instants = set()
    for tz in ZONES:
        for day in local_dates():
            for hh, mm in ((8, 0), (8, 30)):
                local = datetime.combine(day, dtime(hh, mm), ZoneInfo(tz))
                instants.add(local.astimezone(UTC))
    return sorted(instants)


def expected(instants: list[datetime]) -> set[tuple[str, date]]:
    """(person, local date) for every workday of a person with something due whose digest
    window (08:00 to 12:00 local) holds at least one tick. Every local date of the week is in
    by construction; a tick of an eastern zone can also open a western zone's window on the day
    before the week (a Sun-Thu person in Los Angeles gets Sunday the 22nd), and that counts."""
    config = CoreConfig()
    want = set()
    for i in range(PEOPLE):
        if not has_due(i):
            continue
        tz = ZoneInfo(zone_of(i))
        for at in instants:
            local = at.astimezone(tz)
            in_window = config.digest_hour <= local.hour < config.digest_catch_up_until_hour
            if in_window and local.weekday() in workdays_of(i):
                want.add((user(i), local.date()))
    return want


# --- the replica process -------------------------------------------------------------------------


class RecordingFileMessenger:
    """Appends `user local-date worker` for each successful send; refuses some first attempts."""

    def __init__(self, out: IO[str], worker: str, clock: FixedClock) -> None:
        self.out = out
        self.worker = worker
        self.clock = clock
        self.marks = Path(out.name).parent

    def first_try_anywhere(self, who: str, day: date) -> bool:
        """True once per (person, date) across all processes: O_EXCL creates the mark once."""
        try:
            os.close(os.open(self.marks / f"refused-{who}-{day}", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return False
        return True

    async def send(self, address: Address, message: Message) -> None:
        who = str(address["user"])
        day = self.clock.now().astimezone(ZoneInfo(str(address["tz"]))).date()
        if first_attempt_fails(who, day) and self.first_try_anywhere(who, day):
            raise DeliveryError("simulated outage")
        self.out.write(f"{who} {day.isoformat()} {self.worker}\n")
        self.out.flush()


async def replica(url: str, out_path: str) -> None:
    """Sweep at each instant read from stdin; answer each with one line on stdout."""
    me = f"replica-{os.getpid()}"
    clock = FixedClock(datetime(2000, 1, 1, tzinfo=UTC))
    engine = create_engine(url)
    try:
        store = SqlStore(engine, clock)
        with open(out_path, "a", encoding="utf-8") as out:  # noqa: ASYNC230 (own process)
            messenger = RecordingFileMessenger(out, me, clock)
            for line in sys.stdin:
                clock.set(datetime.fromisoformat(line.strip()))
                began = time.perf_counter()
                report = await run_sweep(
                    store, {Platform.CONSOLE: messenger}, clock, CoreConfig(), me
                )
                seconds = time.perf_counter() - began
                print(f"{len(report.sent)} {len(report.retrying)} {seconds:.3f}", flush=True)
    finally:
        await engine.dispose()


# --- the test ------------------------------------------------------------------------------------


@pytest.fixture
async def fault_url() -> AsyncIterator[str]:
    """A PostgreSQL database of its own (TEST_DATABASE_URL's name + `_fault`), migrated, seeded."""
    if not PG_URL:
        pytest.skip(PG_SKIP)
    base = make_url(PG_URL)
    name = f"{base.database}_fault"
    admin = create_engine(base.set(database="postgres").render_as_string(hide_password=False))
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await upgrade(engine)
        clock = FixedClock(ADDED)
        store = SqlStore(engine, clock)
        ws = await store.workspace(Platform.CONSOLE, "week", "Week firm")
        async with store.unit(ws.id) as uow:
            for i in range(PEOPLE):
                p = await uow.people.ensure(
                    user(i),
                    f"Person {i}",
                    tz=zone_of(i),
                    address={"user": user(i), "tz": zone_of(i)},
                )
                await uow.people.update(p.id, workdays=workdays_of(i))
                if has_due(i):
                    await uow.clients.add(f"Client {i}", owner_id=p.id)
            await uow.commit()
    finally:
        await engine.dispose()
    yield url


def start_replica(url: str, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.test_fault_replicas", url, str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )


@pytest.mark.postgres
async def test_three_replicas_a_week_one_digest_per_person_and_workday(
    fault_url: str, tmp_path: Path
) -> None:
    outs = [tmp_path / f"sent-{n}.txt" for n in range(REPLICAS)]
    procs = [start_replica(fault_url, out) for out in outs]
    instants = ticks()
    began = time.monotonic()
    retried = 0
    sweep_seconds = 0.0
    try:
        for at in instants:
            for p in procs:
                assert p.stdin is not None
                p.stdin.write(at.isoformat() + "\n")
            for p in procs:
                assert p.stdout is not None
                answer = p.stdout.readline()  # blocks until that replica's sweep is done
                assert answer, f"a replica died at {at}"
                retried += int(answer.split()[1])
                sweep_seconds += float(answer.split()[2])
    finally:
        for p in procs:
            if p.stdin is not None:
                p.stdin.close()
        codes = [p.wait(timeout=30) for p in procs]
    elapsed = time.monotonic() - began
    assert codes == [0] * REPLICAS

    sends = Counter()
    by_replica = Counter()
    for out in outs:
        for line in out.read_text().splitlines():
            who, day, worker = line.split()
            sends[(who, date.fromisoformat(day))] += 1
            by_replica[worker] += 1
    want = expected(instants)
    twice = {k: n for k, n in sends.items() if n > 1}
    missed = want - set(sends)
    extra = set(sends) - want
    assert not twice, f"{len(twice)} digests sent more than once, e.g. {sorted(twice)[:3]}"
    assert not missed, f"{len(missed)} digests missed, e.g. {sorted(missed)[:3]}"
    assert not extra, f"{len(extra)} digests on a day off or with nothing due: {sorted(extra)[:3]}"
    assert len(by_replica) == REPLICAS  # all three did some of the work

    engine = create_engine(fault_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(PersonRow.platform_user_id, DigestRow.local_date, DigestRow.status).join(
                        PersonRow, PersonRow.id == DigestRow.person_id
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    claims = Counter((who, day) for who, day, _ in rows)
    sent_rows = {(who, day) for who, day, status in rows if status == "sent"}
    statuses = Counter(status for _, _, status in rows)
    assert max(claims.values()) == 1  # the unique claim: one row per person and local date
    assert sent_rows == want
    assert statuses["sent"] == len(want)
    # Anything else is a person with nothing due, claimed and closed as empty.
    assert set(statuses) <= {"sent", "empty"}, statuses
    refused = sum(1 for who, day in want if first_attempt_fails(who, day))
    assert refused > 0 and retried == refused  # the faults happened and were retried
    print(
        f"\n{len(instants)} ticks x {REPLICAS} replicas, {len(want)} digests "
        f"({dict(by_replica)}), {retried} retries, {elapsed:.1f} s ({sweep_seconds:.1f} s in sweeps)"
    )


async def test_concurrent_delivery_in_two_sweeps_sends_each_once(
    db_url: str, store: SqlStore, clock: FixedClock
) -> None:
    """run_sweep(concurrency=8), twice at once on one database, with a slow messenger that
    fails now and then: everyone once, and the failures are put back for a retry."""
    from tests.nudge_fixtures import RecordingMessenger, add_client, add_person, workspace

    monday = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    ws = await workspace(store)
    names = [f"c{i:02d}" for i in range(40)]
    for name in names:
        person = await add_person(store, ws, name)
        await add_client(store, clock, ws, f"Client of {name}", person, added=ADDED)

    class Slow(RecordingMessenger):
        async def send(self, address: Address, message: Message) -> None:
            await asyncio.sleep(0.01)
            await super().send(address, message)

    a = Slow(fail_with=[DeliveryError("busy"), DeliveryError("busy")])
    b = Slow()
    other_engine = create_engine(db_url)
    try:
        other = SqlStore(other_engine, clock)
        at = FixedClock(monday)
        first, second = await asyncio.gather(
            run_sweep(store, {Platform.CONSOLE: a}, at, CoreConfig(), "a", concurrency=8),
            run_sweep(other, {Platform.CONSOLE: b}, at, CoreConfig(), "b", concurrency=8),
        )
        later = FixedClock(monday + timedelta(minutes=30))
        third = await run_sweep(
            other, {Platform.CONSOLE: b}, later, CoreConfig(), "b", concurrency=8
        )
    finally:
        await other_engine.dispose()
    assert len(first.retrying) == 2 and not second.retrying and len(third.sent) == 2
    everyone = a.recipients() + b.recipients()
    assert sorted(everyone) == names


if __name__ == "__main__":
    asyncio.run(replica(sys.argv[1], sys.argv[2]))
