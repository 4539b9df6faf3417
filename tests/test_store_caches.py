"""The per-workspace caches (client matching index, people) stay right across replicas: a
change made through another process's engine is seen by the next request, on both engines."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Integer,
    String,
    Table,
    Text,
    event,
    select,
    text,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import update as sa_update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Touchbase
from bot.clock import FixedClock
from bot.commands import default_registry
from bot.config import CoreConfig
from bot.domain import ClientStatus, Platform, Role
from bot.inbound import CommandIn, Identity
from store.db import create_engine, downgrade, upgrade
from store.mappers import to_client, to_person
from store.models import (
    CACHED_COLUMNS,
    VERSIONED,
    Base,
    ClientRow,
    PersonRow,
    UTCDateTime,
    WorkspaceRow,
)
from store.repositories import _CLIENT_LIST, SqlStore

from .conftest import T0, Chat


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


# --- the version triggers: which updates bump ---------------------------------------------------


class _Spy:
    """A row that notes which of its attributes are read."""

    def __init__(self, row: object) -> None:
        self._row = row
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> object:
        self.read.add(name)
        return getattr(self._row, name)


def _columns_read(mapper: Callable[[Any], object], row: object) -> set[str]:
    spy = _Spy(row)
    mapper(spy)
    attrs = {a.key: a.columns[0].name for a in sa_inspect(type(row)).column_attrs}
    assert spy.read <= set(attrs), spy.read - set(attrs)  # only columns, nothing loaded lazily
    return {attrs[key] for key in spy.read}


def test_the_triggers_watch_exactly_the_columns_the_caches_read() -> None:
    person = PersonRow(
        id=1,
        workspace_id=1,
        platform_user_id="U1",
        display_name="Ada",
        role="staff",
        tz="UTC",
        tz_chosen=False,
        workdays="0,1,2,3,4",
        interests=[],
        practice_areas=[],
        created_at=T0,
    )
    client = ClientRow(
        id=1,
        workspace_id=1,
        name="Acme",
        name_key="acme",
        aliases=[],
        status="active",
        created_at=T0,
    )
    # The cached client list is kept in its query's order: that column is read too.
    ordered_by = {c.name for c in _CLIENT_LIST._order_by_clauses}
    assert ordered_by == {"name_key"}
    assert set(CACHED_COLUMNS["person"]) == _columns_read(to_person, person)
    assert set(CACHED_COLUMNS["client"]) == _columns_read(to_client, client) | ordered_by
    for table, _version in VERSIONED:
        assert set(CACHED_COLUMNS[table]) <= set(Base.metadata.tables[table].c.keys())


async def _versions(engine: AsyncEngine, *workspaces: int) -> dict[int, tuple[int, int]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(WorkspaceRow.id, WorkspaceRow.clients_version, WorkspaceRow.people_version)
        )
        got = {ws: (cv, pv) for ws, cv, pv in rows}
    return {ws: got[ws] for ws in workspaces}


def _another(column: Column[Any], old: Any, refs: dict[str, int]) -> Any:
    """A value unlike `old` for `column`: another row for a key, else by type."""
    if column.name in refs:
        return refs[column.name]
    kind = column.type
    if isinstance(kind, Boolean):
        return not old
    if isinstance(kind, Integer):
        return (old or 0) + 1000
    if isinstance(kind, JSON):
        return ["changed"] if old != ["changed"] else ["again"]
    if isinstance(kind, Date):
        return date(2031, 1, 2)
    if isinstance(kind, UTCDateTime):
        return datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert isinstance(kind, String | Text), (column.name, kind)
    return f"{old or ''}~"


@pytest.mark.parametrize("table", ["client", "person"])
async def test_an_update_bumps_only_when_a_cached_column_changes(
    table: str, store: SqlStore, engine: AsyncEngine
) -> None:
    home = await store.workspace(Platform.CONSOLE, "home")
    away = await store.workspace(Platform.CONSOLE, "away")
    async with store.unit(home.id) as uow:
        ada = await uow.people.ensure("U1", "Ada")
        bob = await uow.people.ensure("U2", "Bob")
        acme = await uow.clients.add("Acme", aliases=["ACME Inc"], owner_id=ada.id)
        await uow.commit()
    rows: Table = Base.metadata.tables[table]
    row_id = acme.id if table == "client" else bob.id
    slot = 0 if table == "client" else 1
    refs = {"workspace_id": away.id, "owner_id": bob.id}

    async def update(values: dict[str, Any]) -> tuple[int, int]:
        before = await _versions(engine, home.id, away.id)
        async with engine.begin() as conn:
            await conn.execute(sa_update(rows).where(rows.c.id == row_id).values(values))
        after = await _versions(engine, home.id, away.id)
        return (
            after[home.id][slot] - before[home.id][slot],
            after[away.id][slot] - before[away.id][slot],
        )

    async def current() -> Any:
        async with engine.connect() as conn:
            return (await conn.execute(select(rows).where(rows.c.id == row_id))).one()

    cached = [c for c in rows.c if c.name in CACHED_COLUMNS[table]]
    others = [c for c in rows.c if c.name not in CACHED_COLUMNS[table]]
    if table == "person":  # a client's every column is cached
        assert {"seniority", "created_at"} <= {c.name for c in others}
    # Writing what the row already holds, in every column at once: nothing changed.
    assert await update({c.name: c for c in rows.c if not c.primary_key}) == (0, 0)
    for column in others:
        old = getattr(await current(), column.name)
        assert await update({column.name: _another(column, old, refs)}) == (0, 0), column.name
    for column in cached:
        old = getattr(await current(), column.name)
        new = _another(column, old, refs)
        moved = column.name == "workspace_id"  # both firms' caches hold it (or held it)
        assert await update({column.name: new}) == (1, int(moved)), column.name
        if column.primary_key:
            row_id = new
        if moved:
            assert await update({column.name: home.id}) == (1, 1)
    # One changed column among many written unchanged: one bump.
    label = "name" if table == "client" else "display_name"
    values: dict[str, Any] = {c.name: c for c in rows.c if not c.primary_key}
    values[label] = "Renamed"
    assert await update(values) == (1, 0)


async def test_inserts_and_deletes_still_bump(store: SqlStore, engine: AsyncEngine) -> None:
    ws = await store.workspace(Platform.CONSOLE, "local")
    start = (await _versions(engine, ws.id))[ws.id]
    async with store.unit(ws.id) as uow:
        ada = await uow.people.ensure("U1", "Ada")
        await uow.clients.add("Acme")
        await uow.commit()
    assert (await _versions(engine, ws.id))[ws.id] == (start[0] + 1, start[1] + 1)
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM client"))
        await conn.execute(text("DELETE FROM person WHERE id = :id"), {"id": ada.id})
    assert (await _versions(engine, ws.id))[ws.id] == (start[0] + 2, start[1] + 2)


async def test_setting_ones_seniority_leaves_the_people_cache_warm(
    chat: Chat, store: SqlStore, engine: AsyncEngine
) -> None:
    await chat.say("/client add Acme")
    await chat.say("/touch Acme lunch with Dana")
    ws = await store.workspace(Platform.CONSOLE, "local")
    before = (await _versions(engine, ws.id))[ws.id]
    assert "Saved your seniority: partner" in await chat.say("/touchbase me seniority partner")
    assert (await _versions(engine, ws.id))[ws.id] == before
    async with store.unit(ws.id) as uow:
        matched = await uow.matching.seniorities()
    assert list(matched.values()) == ["partner"]
    await chat.say("/touchbase tz Europe/Paris")  # a column the cached person holds
    assert (await _versions(engine, ws.id))[ws.id] == (before[0], before[1] + 1)


# Two writers of different rows of one firm, at once: an update a cache does not care about must
# not wait for the other writer's transaction (0008's triggers bumped on every update, so the
# second writer queued on the workspace row until the first committed).
_UNRELATED = {
    "person": "UPDATE person SET seniority = :v WHERE id = :id",
    "client": "UPDATE client SET segment = segment, status = status WHERE id = :id",
}


async def _two_writers(engine: AsyncEngine, table: str, first_id: int, second_id: int) -> None:
    statement = text(_UNRELATED[table])
    async with engine.connect() as first, engine.connect() as second, first.begin():
        await first.execute(statement, {"id": first_id, "v": "partner"})
        async with second.begin():
            await second.execute(text("SET LOCAL lock_timeout = '500ms'"))
            await second.execute(statement, {"id": second_id, "v": "counsel"})


async def _two_of_a_firm(store: SqlStore, table: str) -> tuple[int, int, int]:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        if table == "person":
            ids = [(await uow.people.ensure(u, u)).id for u in ("U1", "U2")]
        else:
            ids = [(await uow.clients.add(n)).id for n in ("Acme", "Globex")]
        await uow.commit()
    return ws.id, ids[0], ids[1]


@pytest.mark.parametrize("table", ["person", "client"])
async def test_writers_of_unrelated_columns_do_not_queue_on_the_workspace_row(
    table: str, db_url: str, store: SqlStore, engine: AsyncEngine
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time anyway")
    ws, first_id, second_id = await _two_of_a_firm(store, table)
    before = await _versions(engine, ws)
    await _two_writers(engine, table, first_id, second_id)  # no lock timeout
    assert await _versions(engine, ws) == before


@pytest.mark.parametrize("table", ["person", "client"])
async def test_with_0008s_triggers_the_second_writer_waits(
    table: str, db_url: str, store: SqlStore, engine: AsyncEngine
) -> None:
    """The test above can fail: with the triggers as 0008 made them (0012 downgraded), the
    second writer times out on the workspace row's lock."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time anyway")
    ws, first_id, second_id = await _two_of_a_firm(store, table)
    await downgrade(engine, "0010_sessions")
    try:
        with pytest.raises(DBAPIError, match="lock timeout"):
            await _two_writers(engine, table, first_id, second_id)
    finally:
        await upgrade(engine)
    before = await _versions(engine, ws)
    await _two_writers(engine, table, first_id, second_id)
    assert await _versions(engine, ws) == before


async def test_downgrading_0012_brings_back_bumps_on_any_update(
    store: SqlStore, engine: AsyncEngine
) -> None:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        ada = await uow.people.ensure("U1", "Ada")
        await uow.commit()
    statement = text(_UNRELATED["person"])

    async def bumps(value: str) -> int:
        before = (await _versions(engine, ws.id))[ws.id][1]
        async with engine.begin() as conn:
            await conn.execute(statement, {"id": ada.id, "v": value})
        return (await _versions(engine, ws.id))[ws.id][1] - before

    assert await bumps("partner") == 0
    await downgrade(engine, "0010_sessions")
    try:
        assert await bumps("counsel") == 1
    finally:
        await upgrade(engine)
    assert await bumps("associate") == 0
