"""The durable outbox: messages for someone else are written with the change that caused them and
sent by a drainer, each once, with retries; a crash between the commit and the send delays them,
never loses them. On both engines."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Touchbase
from bot.clock import FixedClock
from bot.commands import default_registry
from bot.config import CoreConfig
from bot.domain import Platform
from bot.messages import Action, Field, Message, Section, Style, Tone
from bot.outbox import message_from_json, message_to_json
from bot.ports import DeliveryError
from store.db import create_engine
from store.models import OutboxRow
from store.repositories import SqlStore
from tests.conftest import Chat
from tests.nudge_fixtures import RecordingMessenger


def core(store: SqlStore, clock: FixedClock, messenger: RecordingMessenger) -> Touchbase:
    return Touchbase(store, clock, CoreConfig(), default_registry(), {Platform.CONSOLE: messenger})


async def firm(app: Touchbase) -> dict[str, Chat]:
    people = {name: Chat(app, name) for name in ("bob", "jane")}
    for person in people.values():
        await person.say("/clients")
    await people["bob"].say("/client add Acme Corp")
    return people


async def rows(store: SqlStore) -> list[OutboxRow]:
    async with store.sessions() as s:
        return list(await s.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def to(messenger: RecordingMessenger) -> Counter[str]:
    return Counter(str(a.get("user")) for a, _ in messenger.sent)


def test_a_message_survives_its_json_round_trip() -> None:
    m = Message(
        text="Acme is yours <3",
        title="Handoff",
        sections=(
            Section(
                text="Notes",
                fields=(Field("Owner", "jane"),),
                actions=(Action("client_open", "Open", "7", Style.PRIMARY),),
                heading="Acme",
                context="small print",
            ),
        ),
        actions=(Action("nudge_snooze", "Snooze", "k"),),
        tone=Tone.WARNING,
        private=False,
    )
    assert message_from_json(message_to_json(m)) == m


async def test_a_crash_between_commit_and_send_delays_the_dm_and_never_loses_it(
    store: SqlStore, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = RecordingMessenger()
    doomed = core(store, clock, dead)
    people = await firm(doomed)

    async def dies(ids: list[int] | None = None) -> None:  # the process ends right after commit
        raise asyncio.CancelledError

    monkeypatch.setattr(doomed, "drain", dies)
    with pytest.raises(asyncio.CancelledError):
        await people["bob"].say("/owner Acme @jane")
    assert dead.sent == []
    # Committed with the handoff: a DM for each owner.
    assert [r.status for r in await rows(store)] == ["pending", "pending"]

    # The next process's drainer (the scheduler) sends them, once.
    messenger = RecordingMessenger()
    later = core(store, clock, messenger)
    report = await later.drain()
    assert report is not None and len(report.sent) == 2
    assert to(messenger) == Counter({"jane": 1, "bob": 1})
    assert all("Acme Corp" in m.text for _, m in messenger.sent)
    again = await later.drain()
    assert again is not None and again.sent == []
    assert [r.status for r in await rows(store)] == ["sent", "sent"]


async def test_a_refused_send_is_retried_then_sent_once(store: SqlStore, clock: FixedClock) -> None:
    messenger = RecordingMessenger(fail_with=[DeliveryError("service_unavailable")])
    app = core(store, clock, messenger)
    people = await firm(app)
    out = await people["bob"].say("/owner Acme @jane")
    assert "jane" in out
    first, second = await rows(store)
    assert (first.status, first.attempts) == ("retry", 1)  # its send right after commit failed
    assert second.status == "sent"
    assert (await app.drain()).sent == []  # type: ignore[union-attr]  # not due yet
    async with store.sessions() as s, s.begin():  # the database's clock reaches the retry
        row = await s.get_one(OutboxRow, first.id)
        row.available_at = row.available_at.replace(year=2000)
    report = await app.drain()
    assert report is not None and report.sent == [first.id]
    assert to(messenger) == Counter({"jane": 1, "bob": 1})
    assert (await app.drain()).sent == []  # type: ignore[union-attr]


async def test_a_permanent_refusal_is_not_retried(store: SqlStore, clock: FixedClock) -> None:
    messenger = RecordingMessenger(fail_with=[DeliveryError("user_not_found", permanent=True)])
    app = core(store, clock, messenger)
    people = await firm(app)
    await people["bob"].say("/owner Acme @jane")
    first, _ = await rows(store)
    assert (first.status, first.detail) == ("failed", "user_not_found")
    await app.drain()
    assert to(messenger) == Counter({"bob": 1})  # the other DM went; the refused one never


async def test_two_drainers_at_once_send_each_message_once(
    db_url: str, store: SqlStore, clock: FixedClock
) -> None:
    quiet = core(store, clock, RecordingMessenger())
    people = await firm(quiet)
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        for i in range(30):
            await uow.outbox.add({"user": f"u{i}"}, message_to_json(Message(text=f"n{i}")))
        await uow.commit()
    assert people
    other_engine = create_engine(db_url)
    try:
        a, b = RecordingMessenger(), RecordingMessenger()
        first = core(store, clock, a)
        second = core(SqlStore(other_engine, clock), clock, b)
        await asyncio.gather(first.drain(), second.drain(), first.drain(), second.drain())
    finally:
        await other_engine.dispose()
    both = to(a) + to(b)
    assert both == Counter({f"u{i}": 1 for i in range(30)})


async def test_a_handoff_dm_to_someone_not_yet_seen_waits_until_they_are(
    store: SqlStore, clock: FixedClock
) -> None:
    messenger = RecordingMessenger()
    app = core(store, clock, messenger)
    people = await firm(app)
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:  # an owner imported from a spreadsheet: no address
        await uow.people.ensure("kim", "kim")
        await uow.commit()
    await people["bob"].say("/owner Acme @kim")
    assert to(messenger)["kim"] == 0
    waiting = [r for r in await rows(store) if r.status == "waiting"]
    assert len(waiting) == 1
    await app.drain()
    assert to(messenger)["kim"] == 0  # still nowhere to send it

    await Chat(app, "kim").say("/clients")  # kim uses Touchbase for the first time
    await app.drain()
    assert to(messenger)["kim"] == 1
    sent: dict[str, Any] = messenger.sent[-1][0]
    assert sent["user"] == "kim"
    assert "Acme Corp" in messenger.sent[-1][1].text
    await app.drain()
    assert to(messenger)["kim"] == 1
