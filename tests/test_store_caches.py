"""The per-workspace caches (client matching index, people) stay right across replicas: a
change made through another process's engine is seen by the next request, on both engines."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Touchbase
from bot.clock import FixedClock
from bot.commands import default_registry
from bot.config import CoreConfig
from bot.domain import ClientStatus, Platform, Role
from bot.inbound import CommandIn, Identity
from store.db import create_engine
from store.repositories import SqlStore

from .conftest import Chat


@pytest.fixture
async def other(db_url: str, engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[Chat]:
    """A second replica: its own engine, store and app on the same database."""
    second = create_engine(db_url)
    store = SqlStore(second, clock)
    app = Touchbase(store, clock, CoreConfig(), default_registry(), {})
    yield Chat(app)
    await second.dispose()


async def _names(store: SqlStore) -> dict[str, ClientStatus]:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        return {c.name: c.status for c in await uow.clients.list()}


async def test_a_client_added_elsewhere_is_matched_on_the_next_touch(
    chat: Chat, other: Chat
) -> None:
    await chat.say("/client add Acme Corp")
    assert "Logged lunch with Dana at Acme Corp" in await chat.say("/touch Acme lunch with Dana")
    assert "Globex" in await chat.say("/touch Globex call with Hank")  # unknown: offered to add
    await other.say("/client add Globex")
    out = await chat.say("/touch Globex call with Hank")
    assert "Logged call with Hank at Globex" in out


async def test_a_rename_elsewhere_is_seen_on_the_next_touch(chat: Chat, other: Chat) -> None:
    await chat.say("/client add Initech")
    await chat.say("/touch Initech coffee with Bill")  # the index is now cached
    out = await other.say("/client Initech rename Initrode Systems")
    assert 'Renamed "Initech" to "Initrode Systems"' in out
    out = await chat.say("/touch Initrode coffee with Bill")
    assert "Logged coffee with Bill at Initrode Systems" in out


async def test_archive_and_merge_elsewhere_are_seen(
    chat: Chat, other: Chat, store: SqlStore
) -> None:
    await chat.say("/client add Acme Corp")
    await chat.say("/client add Acme Crop")
    await chat.say("/client add Stark")
    await chat.say("/touch Stark emailed Pepper")
    assert await _names(store) == dict.fromkeys(
        ["Acme Corp", "Acme Crop", "Stark"], ClientStatus.ACTIVE
    )
    assert "Archived Stark" in await other.say("/client Stark archive")
    assert (await _names(store))["Stark"] is ClientStatus.ARCHIVED
    await other.say("/client Acme Crop merge into Acme Corp")
    assert "Merged Acme Crop into Acme Corp" in await other.say("1")
    assert set(await _names(store)) == {"Acme Corp", "Stark"}
    # The merged-away client is gone for this replica too: its old name is now an alias.
    out = await chat.say("/touch Acme Crop lunch with Sam")
    assert "Logged lunch with Sam at Acme Corp" in out


async def test_a_change_made_outside_the_app_bumps_the_version(
    chat: Chat, store: SqlStore, db_url: str
) -> None:
    await chat.say("/client add Hooli")
    await chat.say("/touch Hooli call with Gavin")
    script = create_engine(db_url)  # a script or a console on another machine, plain SQL
    try:
        async with script.begin() as conn:
            await conn.execute(text("UPDATE client SET aliases = '[\"Nucleus\"]'"))
    finally:
        await script.dispose()
    assert "Logged call with Gavin at Hooli" in await chat.say("/touch Nucleus call with Gavin")


async def test_a_person_changed_elsewhere_is_seen(chat: Chat, other: Chat) -> None:
    await chat.say("/client add Acme")
    await chat.as_user("bob").say("/touch Acme lunch with Dana")  # bob is cached, as staff
    mine, theirs = chat.console.app.store, other.console.app.store
    ws = await mine.workspace(Platform.CONSOLE, "local")
    async with mine.unit(ws.id) as uow:
        bob = await uow.people.ensure("bob", "bob")
    assert bob.role is Role.STAFF
    async with theirs.unit(ws.id) as uow:
        await uow.people.update(bob.id, role=Role.SENIOR)
        await uow.commit()
    async with mine.unit(ws.id) as uow:
        seen = await uow.people.ensure("bob", "bob")
    assert seen.role is Role.SENIOR and seen.id == bob.id


async def test_the_cache_never_answers_for_another_workspace(
    store: SqlStore, clock: FixedClock, outbox: io.StringIO
) -> None:
    app = Touchbase(store, clock, CoreConfig(), default_registry(), {})

    def who(firm: str) -> Identity:
        return Identity(Platform.CONSOLE, firm, "U1", "Ada", tz="UTC")

    async def say(firm: str, line: str, n: int) -> str:
        name, _, rest = line.partition(" ")
        reply = await app.command(who(firm), CommandIn(name, rest, source_id=f"{firm}-{n}"))
        return str(reply)

    await say("firm-a", "client add Acme Corp", 1)
    assert "Acme Corp" in await say("firm-a", "touch Acme lunch with Dana", 2)
    out = await say("firm-b", "touch Acme lunch with Dana", 3)  # same user id, other firm
    assert "Logged" not in out
    a = await store.workspace(Platform.CONSOLE, "firm-a")
    b = await store.workspace(Platform.CONSOLE, "firm-b")
    async with store.unit(b.id) as uow:
        assert await uow.clients.list() == []
        assert await uow.touches.all() == []
        person_b = await uow.people.ensure("U1", "Ada")
    async with store.unit(a.id) as uow:
        person_a = await uow.people.ensure("U1", "Ada")
        assert [c.name for c in await uow.clients.list()] == ["Acme Corp"]
    assert person_a.workspace_id == a.id and person_b.workspace_id == b.id
    assert person_a.id != person_b.id


async def test_an_uncommitted_client_never_reaches_the_cache(store: SqlStore) -> None:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        await uow.clients.add("Acme")
        await uow.commit()
    async with store.unit(ws.id) as uow:
        assert [c.name for c in await uow.clients.list()] == ["Acme"]  # cached now
        await uow.clients.add("Ghost")
        assert {c.name for c in await uow.clients.list()} == {"Acme", "Ghost"}  # its own write
        # no commit: rolled back
    async with store.unit(ws.id) as uow:
        assert [c.name for c in await uow.clients.list()] == ["Acme"]
        await uow.clients.add("Globex")
        await uow.commit()
    async with store.unit(ws.id) as uow:
        assert [c.name for c in await uow.clients.list()] == ["Acme", "Globex"]


async def test_a_warm_touch_is_two_statements_and_features_still_see_open_work(
    chat: Chat, engine: AsyncEngine
) -> None:
    """The version check, and the insert, which also answers the repair and handoff features;
    with a repair open, its follow-up still shows under the confirmation."""
    await chat.say("/client add Acme Corp")
    await chat.say("/touch Acme lunch with Dana")
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        out = await chat.say("/touch Acme call with Dana")
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert "Logged call with Dana at Acme Corp" in out
    assert len(seen) <= 2, seen
    out = await chat.say("/touch Acme angry call, they are unhappy with the fees")
    assert "Start a repair" in out  # trouble in the note: the repair feature still offers


async def test_a_workspace_changed_elsewhere_is_seen_by_the_next_lookup(
    store: SqlStore, other: Chat
) -> None:
    mine = await store.workspace(Platform.CONSOLE, "local", "Local")
    theirs = other.console.app.store
    changed = await theirs.update_workspace(mine.id, channel={"channel": "C0RELATIONS"})
    assert changed.channel == {"channel": "C0RELATIONS"}
    # Within the cache's lifetime, and no request yet: this replica still has the old answer.
    assert (await store.workspace(Platform.CONSOLE, "local")).channel is None
    async with store.unit(mine.id) as uow:
        await uow.clients.list()  # any request: its version check reads the row
    again = await store.workspace(Platform.CONSOLE, "local")
    assert again.channel == {"channel": "C0RELATIONS"} and again.id == mine.id
