"""A digest writes only the items it shows, and counts the rest; the due list is the whole
contact rule, computed in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bot.clock import FixedClock
from bot.config import CoreConfig
from bot.digest import build_digests, compose_digest, run_sweep
from bot.domain import Platform
from bot.nudges import Nudge, Overdue, RegularitySource, agenda, collect_nudges, rank
from bot.rules import next_due
from bot.sources import nudge_sources
from store.models import ClientRow, SegmentRow
from store.repositories import SqlStore
from tests.nudge_fixtures import RecordingMessenger, add_client, add_person, add_touch, workspace

MON = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
TODAY = MON.date()


@dataclass(frozen=True)
class Counted:
    """An item that records when its nudge is written."""

    key: str
    urgency: float
    title: str
    written: list[str]
    person_id: int = 1
    kind: str = "overdue"
    client_id: int | None = None

    def nudge(self) -> Nudge:
        self.written.append(self.key)
        return Nudge(self.key, self.person_id, self.kind, self.urgency, self.title)


def test_agenda_writes_only_what_can_be_shown_in_rank_order() -> None:
    written: list[str] = []
    # Urgencies 1.0 to 4.0, seven items tied at 2.0 around the tenth place (ties by title).
    urgencies = [4.0, 3.5, 3.0, 3.0, 2.5] + [2.0] * 7 + [1.5, 1.0, 1.0] + [1.0] * 10
    items = [
        Counted(f"k{i}", u, f"Client {chr(ord('Z') - i)}", written) for i, u in enumerate(urgencies)
    ]
    items.append(Counted("k0", 0.5, "a less urgent duplicate of k0", written))
    got = agenda(items, limit=10)
    everything = rank(n.nudge() for n in items if n.title != "a less urgent duplicate of k0")
    assert [n.key for n in got.shown] == [n.key for n in everything[:10]]
    assert got.total == len(urgencies)
    assert {n.key for n in got.items()} == {f"k{i}" for i in range(len(urgencies))}
    written.clear()
    agenda(items, limit=10)
    # The five above 2.0 and the seven tied at it: nothing less urgent is written.
    assert sorted(written) == sorted(f"k{i}" for i in range(12))
    assert agenda(items, limit=None).total == len(urgencies)


async def test_digest_shows_ten_writes_ten_and_counts_the_rest(
    store: SqlStore, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = await workspace(store)
    alice = await add_person(store, ws, "alice")
    added = MON - timedelta(days=200)
    for i in range(13):  # 13 overdue, each later than the one before
        client = await add_client(store, clock, ws, f"Client {i:02d}", alice, added=added)
        await add_touch(store, ws, client, alice, TODAY - timedelta(days=31 + 3 * i))
    waiting = await add_client(store, clock, ws, "Waiting Co", alice, added=added)
    await add_touch(store, ws, waiting, alice, TODAY - timedelta(days=6), awaiting=True)
    clock.set(MON)
    config = CoreConfig()
    async with store.unit(ws) as uow:
        every = (await collect_nudges(uow, [alice.id], MON, config, nudge_sources()))[alice.id]
    expected = compose_digest(every, TODAY, max_items=10)

    calls: list[int] = []
    write = Overdue.nudge

    def counting(self: Overdue) -> Nudge:
        calls.append(self.client_id)
        return write(self)

    monkeypatch.setattr(Overdue, "nudge", counting)
    built = await build_digests(store, ws, [alice], MON, config)
    message = built[alice.id]
    assert message is not None and expected is not None
    assert message.text == (
        "Good morning: 13 clients due for contact and 1 message still waiting for a reply."
    )
    items = [s for s in message.sections if s.actions]
    assert len(items) == 10
    assert "And 4 more." in message.sections[-1].text
    assert message == expected  # the same digest as writing every item
    assert "Client 12: 37 days overdue" in [s.text for s in items]
    # The follow-up and the nine most overdue are shown; the four least are counted only.
    assert len(calls) == 9
    assert not {s.text for s in items} & {
        f"Client 0{i}: {1 + 3 * i} days overdue" for i in range(4)
    }

    sent = RecordingMessenger()
    await run_sweep(store, {Platform.CONSOLE: sent}, FixedClock(MON), config, "t")
    assert [m for _, m in sent.sent] == [expected]


async def test_due_list_is_the_contact_rule(store: SqlStore, clock: FixedClock) -> None:
    ws = await workspace(store)
    alice = await add_person(store, ws, "alice")
    bob = await add_person(store, ws, "bob")
    async with store.sessions() as s, s.begin():
        s.add(SegmentRow(workspace_id=ws, name="key", cadence_days=14))
    long_ago = MON - timedelta(days=100)
    recent = MON - timedelta(days=5)
    clients: dict[str, int] = {}
    since: dict[int, date] = {}

    async def client(name: str, owner: Any = alice, *, added: datetime, **row: Any) -> int:
        clients[name] = await add_client(store, clock, ws, name, owner, added=added, **row)
        since[clients[name]] = added.date()
        return clients[name]

    # Never touched: first contact spread over the cadence from the day it was added.
    for i in range(6):
        await client(f"New {i}", added=recent - timedelta(days=i * 7), cadence=10)
    await client("Never, long ago", added=long_ago)
    # A touch from before the client was added: stale, so it does not make it overdue at once.
    old = await client("Old touch", added=recent)
    await add_touch(store, ws, old, alice, TODAY - timedelta(days=60))
    fresh = await client("Touch within cadence before added", added=recent)
    await add_touch(store, ws, fresh, alice, TODAY - timedelta(days=28))
    plain = await client("Plain", bob, added=long_ago)
    await add_touch(store, ws, plain, bob, TODAY - timedelta(days=31))
    seg = await client("Segment", added=long_ago, segment="key")
    await add_touch(store, ws, seg, alice, TODAY - timedelta(days=15))
    daily = await client("Daily", added=long_ago, cadence=1)
    await add_touch(store, ws, daily, alice, TODAY - timedelta(days=1))
    imported = await client("Imported later than touch", added=long_ago)
    await add_touch(store, ws, imported, alice, TODAY - timedelta(days=80))
    gone = await client("Archived", added=long_ago)
    asleep = await client("Inactive", added=long_ago)
    await client("Unowned", None, added=long_ago)
    async with store.sessions() as s, s.begin():
        await s.execute(
            update(ClientRow)
            .where(ClientRow.id == imported)
            .values(last_contact_on=TODAY - timedelta(days=10))
        )
        await s.execute(update(ClientRow).where(ClientRow.id == gone).values(status="archived"))
        await s.execute(update(ClientRow).where(ClientRow.id == asleep).values(status="inactive"))

    last = {
        old: TODAY - timedelta(days=60),
        fresh: TODAY - timedelta(days=28),
        plain: TODAY - timedelta(days=31),
        seg: TODAY - timedelta(days=15),
        daily: TODAY - timedelta(days=1),
        imported: TODAY - timedelta(days=10),
    }
    cadence = {seg: 14, daily: 1} | {clients[f"New {i}"]: 10 for i in range(6)}
    async with store.unit(ws) as uow:
        for offset in range(-3, 40, 2):
            day = TODAY + timedelta(days=offset)
            rows = await uow.nudges.due_clients(None, day, 30)
            got = {r.client_id: r.due_on for r in rows}
            want = {}
            for name, cid in clients.items():
                if name in ("Archived", "Inactive", "Unowned"):
                    continue
                due = next_due(last.get(cid), cadence.get(cid, 30), since[cid], cid)
                if due <= day:
                    want[cid] = due
            assert got == want, day
        # The owners are filtered in the database, however many are asked about.
        many = [bob.id, *range(10**6, 10**6 + 3000)]
        later = TODAY + timedelta(days=60)
        assert {r.client_id for r in await uow.nudges.due_clients(many, later, 30)} == {plain}


async def test_people_a_day_apart_each_get_their_own_day(
    store: SqlStore, clock: FixedClock
) -> None:
    """At 20:00 UTC it is already Tuesday in Auckland: a client that falls due on Tuesday is
    due for its owner there, not yet for one in London."""
    ws = await workspace(store)
    london = await add_person(store, ws, "london", tz="Europe/London")
    auckland = await add_person(store, ws, "auckland", tz="Pacific/Auckland")
    added = MON - timedelta(days=100)
    at = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    for owner in (london, auckland):
        cid = await add_client(store, clock, ws, f"Due Tuesday {owner.id}", owner, added=added)
        await add_touch(store, ws, cid, owner, TODAY + timedelta(days=1) - timedelta(days=30))
    async with store.unit(ws) as uow:
        items = await RegularitySource().nudges(uow, None, at, CoreConfig())
    assert [(i.person_id, i.nudge().title) for i in items] == [
        (auckland.id, f"Due Tuesday {auckland.id}: due today")
    ]
