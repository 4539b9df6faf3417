"""Group commit (store/batch.py): the touches of concurrent requests share one INSERT and one
commit, each request is answered only once its touch is committed, and whatever the shared
round cannot take (open work on the client, a repeat, a failure) is stored the ordinary way.
On both engines."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Touchbase
from bot.clock import FixedClock
from bot.domain import NewTouch, Platform, TouchKind
from bot.inbound import CommandIn, Identity
from bot.messages import Message
from store.models import TouchRow
from store.repositories import SqlStore


def _who(user: str, team: str = "T1") -> Identity:
    return Identity(Platform.SLACK, team, user, user.title(), tz="UTC")


async def _touch(app: Touchbase, who: Identity, text: str, source: str) -> str:
    reply = await app.command(who, CommandIn("touch", text, source_id=source))
    assert isinstance(reply, Message)
    return reply.text


async def _count(engine: AsyncEngine, **where: object) -> int:
    query = select(func.count()).select_from(TouchRow)
    for column, value in where.items():
        query = query.where(getattr(TouchRow, column) == value)
    async with engine.connect() as conn:
        return int(await conn.scalar(query) or 0)


async def _clients(app: Touchbase, who: Identity, *names: str) -> None:
    for name in names:
        reply = await app.command(who, CommandIn("client", f"add {name}"))
        assert isinstance(reply, Message) and "Added" in reply.text, reply


async def test_concurrent_touches_share_rounds_and_each_is_stored_once(
    app: Touchbase, store: SqlStore, engine: AsyncEngine
) -> None:
    who = _who("ada")
    await _clients(app, who, "Acme", "Globex")
    await _touch(app, who, "Acme lunch with Dana", "warm")  # the caches are filled
    inserts: list[str] = []

    def seen(_c: object, _cur: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "WITH")):
            inserts.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        replies = await asyncio.gather(
            *(
                _touch(app, who, f"{'Acme' if i % 2 else 'Globex'} call with Dana {i}", f"s{i}")
                for i in range(24)
            )
        )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert all(r.startswith("Logged call with Dana") for r in replies), replies
    assert len(inserts) < 24 / 2, f"{len(inserts)} INSERTs for 24 touches"
    for i in range(24):
        assert await _count(engine, source_id=f"s{i}") == 1
    assert await _count(engine) == 25


async def test_the_answer_comes_after_the_commit(
    app: Touchbase, store: SqlStore, db_url: str
) -> None:
    """What a request is told was logged is in the database, as any other connection sees it."""
    from store.db import create_engine

    who = _who("ada")
    await _clients(app, who, "Acme")
    other = create_engine(db_url)
    try:

        async def touch_and_look(i: int) -> int:
            await _touch(app, who, f"Acme coffee with Bill {i}", f"c{i}")
            return await _count(other, source_id=f"c{i}")

        assert await asyncio.gather(*(touch_and_look(i) for i in range(8))) == [1] * 8
    finally:
        await other.dispose()


async def test_a_repeat_in_the_same_round_gets_the_first_touch(
    app: Touchbase, engine: AsyncEngine
) -> None:
    """A platform's retry arriving while the first is still being stored: one touch, and both
    requests hear about that one."""
    who = _who("ada")
    await _clients(app, who, "Acme")
    await _touch(app, who, "Acme lunch with Dana", "warm")
    replies = await asyncio.gather(
        *(_touch(app, who, "Acme call with Dana", "retry-1") for _ in range(3))
    )
    assert all("Logged call with Dana at Acme" in r for r in replies), replies
    assert await _count(engine, source_id="retry-1") == 1


async def test_workspaces_in_one_round_keep_their_own_touches(
    app: Touchbase, store: SqlStore, engine: AsyncEngine
) -> None:
    a, b = _who("ada", "TA"), _who("bob", "TB")
    await _clients(app, a, "Acme")
    await _clients(app, b, "Acme")
    replies = await asyncio.gather(
        *(_touch(app, a, f"Acme call {i}", f"a{i}") for i in range(6)),
        *(_touch(app, b, f"Acme call {i}", f"b{i}") for i in range(6)),
    )
    assert all("Logged" in r for r in replies)
    ws_a = await store.workspace(Platform.SLACK, "TA")
    ws_b = await store.workspace(Platform.SLACK, "TB")
    assert await _count(engine, workspace_id=ws_a.id) == 6
    assert await _count(engine, workspace_id=ws_b.id) == 6
    async with engine.connect() as conn:
        crossed = await conn.scalar(
            text(
                "SELECT count(*) FROM touch JOIN client ON client.id = touch.client_id "
                "WHERE client.workspace_id != touch.workspace_id"
            )
        )
    assert crossed == 0


async def test_a_client_with_an_open_repair_is_stored_with_its_repair(
    app: Touchbase, engine: AsyncEngine
) -> None:
    """The repair feature writes after the touch: that touch is left out of the shared round
    and stored with the repair's changes, in one transaction, as before."""
    who = _who("ada")
    await _clients(app, who, "Acme", "Globex")
    reply = await app.command(who, CommandIn("repair", "Acme billed twice for one visit"))
    assert isinstance(reply, Message) and "repair" in reply.text.lower(), reply
    batcher = app.store.batcher  # type: ignore[attr-defined]
    before = batcher.stored
    out = await _touch(app, who, "Acme call with Dana, apologised", "r1")
    assert "Logged call with Dana at Acme" in out
    assert await _count(engine, source_id="r1") == 1
    assert batcher.stored == before  # the ordinary way
    out = await _touch(app, who, "Globex call with Hank", "g1")
    assert "Logged call with Hank at Globex" in out
    assert batcher.stored == before + 1  # no open work: the shared round


async def test_a_failing_round_leaves_each_touch_to_its_own_unit_of_work(
    store: SqlStore, engine: AsyncEngine, clock: FixedClock
) -> None:
    """One touch the database refuses (its client does not exist) fails the shared INSERT;
    nothing of that round is committed, the others are stored one by one, and only the
    refused one fails, in its own unit of work."""
    ws = await store.workspace(Platform.SLACK, "T1", "Firm")
    async with store.unit(ws.id) as uow:
        person = await uow.people.ensure("U1", "Ada")
        client = await uow.clients.add("Acme")
        await uow.commit()

    async def add(client_id: int, source: str) -> bool:
        async with store.unit(ws.id) as uow:
            _touch, created = await uow.touches.add(
                NewTouch(
                    client_id=client_id,
                    person_id=person.id,
                    kind=TouchKind.CALL,
                    occurred_on=clock.now().date(),
                    source_id=source,
                )
            )
            await uow.commit()
            return created

    results = await asyncio.gather(
        add(client.id, "ok-1"), add(10**9, "bad"), add(client.id, "ok-2"), return_exceptions=True
    )
    assert results[0] is True and results[2] is True, results
    assert isinstance(results[1], IntegrityError), results
    assert await _count(engine, source_id="ok-1") == 1
    assert await _count(engine, source_id="ok-2") == 1
    assert await _count(engine, source_id="bad") == 0
    assert store.batcher.stored == 0  # the round that held all three committed nothing


async def test_a_touch_arriving_while_a_round_commits_is_not_left_behind(
    store: SqlStore, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The round in flight is held at its INSERT; a touch asked for meanwhile still gets its
    own round once the first is done, with nothing else arriving to wake the lane."""
    import store.batch as batch

    ws = await store.workspace(Platform.SLACK, "T1", "Firm")
    async with store.unit(ws.id) as uow:
        person = await uow.people.ensure("U1", "Ada")
        client = await uow.clients.add("Acme")
        await uow.commit()
    gate = asyncio.Event()
    insert = batch._insert

    async def held(conn: object, touches: object) -> object:
        await gate.wait()
        return await insert(conn, touches)  # type: ignore[arg-type]

    monkeypatch.setattr(batch, "_insert", held)

    async def add(source: str) -> bool:
        async with store.unit(ws.id) as uow:
            new = NewTouch(
                client_id=client.id,
                person_id=person.id,
                kind=TouchKind.CALL,
                occurred_on=clock.now().date(),
                source_id=source,
            )
            _touch, created = await uow.touches.add(new)
            await uow.commit()
            return created

    first = asyncio.create_task(add("first"))
    for _ in range(5):
        await asyncio.sleep(0)  # its round is now waiting at the INSERT
    second = asyncio.create_task(add("second"))
    for _ in range(5):
        await asyncio.sleep(0)
    gate.set()
    assert await asyncio.wait_for(asyncio.gather(first, second), 10) == [True, True]
    assert store.batcher.stored == 2


async def test_a_touch_stored_during_a_merge_moves_with_it(
    store: SqlStore, engine: AsyncEngine, db_url: str, clock: FixedClock
) -> None:
    """A touch committed by another request while a merge is under way is never deleted with
    the merged client: the merge waits for it and moves it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time anyway")
    from store.db import create_engine

    ws = await store.workspace(Platform.SLACK, "T1", "Firm")
    async with store.unit(ws.id) as uow:
        person = await uow.people.ensure("U1", "Ada")
        globex = await uow.clients.add("Globex")
        acme = await uow.clients.add("Acme")
        await uow.commit()
    other = create_engine(db_url)
    try:
        async with other.connect() as conn:
            # Another request's touch for Globex, inserted and not yet committed.
            await conn.execute(
                text(
                    "INSERT INTO touch (workspace_id, client_id, person_id, kind, note, "
                    "occurred_on, awaiting_reply, source_id, revision, created_at) VALUES "
                    "(:ws, :client, :person, 'call', 'during the merge', :day, false, "
                    "'during', 0, now())"
                ),
                {"ws": ws.id, "client": globex.id, "person": person.id, "day": clock.now().date()},
            )

            async def merge() -> None:
                async with store.unit(ws.id) as uow:
                    await uow.clients.merge(globex.id, acme.id)
                    await uow.commit()

            merging = asyncio.create_task(merge())
            await asyncio.sleep(0.5)  # the merge is now waiting for that touch's transaction
            await conn.commit()
        await asyncio.wait_for(merging, 10)
    finally:
        await other.dispose()
    async with engine.connect() as conn:
        moved = await conn.scalar(text("SELECT client_id FROM touch WHERE source_id = 'during'"))
    assert moved == acme.id


async def test_a_sqlite_connection_returned_mid_transaction_is_rolled_back_and_a_clean_one_is_left_alone(
    tmp_path: object,
) -> None:
    """The SQLite pool resets a connection only when it is in a transaction (a ROLLBACK is a
    hand-off to aiosqlite's thread): a write nobody committed never reaches the next user."""
    from pathlib import Path

    from store.db import create_engine

    engine = create_engine(f"sqlite:///{Path(str(tmp_path)) / 'reset.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE scratch (x INTEGER)"))
        rollbacks: list[bool] = []
        async with engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            real = driver.rollback

            async def counted() -> None:
                rollbacks.append(True)
                await real()

            driver.rollback = counted  # type: ignore[method-assign]
            # Behind SQLAlchemy's back, as a driver-level statement could: sqlite3 opens a
            # transaction before the INSERT, and nobody commits it.
            await driver.execute("INSERT INTO scratch VALUES (1)")
            assert driver.in_transaction
        assert rollbacks == [True]
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM scratch")) == 0
            await conn.execute(text("SELECT 1"))
            await conn.commit()
        assert rollbacks == [True]  # nothing to roll back: no ROLLBACK sent
    finally:
        await engine.dispose()


async def test_on_a_sqlite_file_version_checks_read_while_the_writer_connection_is_busy(
    store: SqlStore, engine: AsyncEngine
) -> None:
    """The one writer connection may be committing a round; the version checks behind it read
    the last commit on a connection of their own instead of waiting for it."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's pool has connections to spare")
    workspace = await store.workspace(Platform.SLACK, "T1")
    async with engine.connect() as writer:  # SQLite's only writer connection, held
        await writer.execute(text("SELECT 1"))
        async with asyncio.timeout(5):
            seen = await store.batcher.versions(workspace.id)
    assert seen is not None and seen[0] == workspace.id
    reader = store.batcher.engines().reads
    assert reader is not engine
    assert reader.sync_engine.pool.checkedin() == 1
    await engine.dispose()  # the reader goes with it
    assert reader.sync_engine.pool.checkedin() == 0


async def test_postgresql_rounds_survive_their_connections_being_killed(
    app: Touchbase, store: SqlStore, engine: AsyncEngine
) -> None:
    """The rounds' own pool does not ping before each use: when its connections die (a
    restarted server, a failover), the round that meets it hands its touches to the ordinary
    path, and every one is confirmed and stored; the rounds after it work again."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to lose")
    who = _who("ada")
    await _clients(app, who, "Acme")
    await asyncio.gather(*(_touch(app, who, f"Acme call {i}", f"warm{i}") for i in range(8)))
    rounds = store.batcher.engines().writes
    assert rounds is not engine and rounds.sync_engine.pool.checkedin() >= 1
    pids: set[int] = set()
    conns = [await rounds.connect() for _ in range(rounds.sync_engine.pool.checkedin())]
    for conn in conns:
        pids.add(int(await conn.scalar(text("SELECT pg_backend_pid()")) or 0))
    for conn in conns:
        await conn.close()
    async with engine.connect() as admin:
        for pid in pids:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    replies = await asyncio.gather(
        *(_touch(app, who, f"Acme lunch {i}", f"after{i}") for i in range(8))
    )
    assert all(r.startswith("Logged lunch") for r in replies), replies
    for i in range(8):
        assert await _count(engine, source_id=f"after{i}") == 1
    before = store.batcher.stored
    await asyncio.gather(*(_touch(app, who, f"Acme coffee {i}", f"again{i}") for i in range(8)))
    assert store.batcher.stored - before == 8  # the rounds take them again
