"""The store: migrations, workspace scoping, idempotent touches, time zones, on both engines."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import NewTouch, Platform, Role, TouchKind
from store.db import async_url, create_engine, downgrade, upgrade
from store.models import VERSIONED, Base, version_trigger_ddl
from store.repositories import SqlStore


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_migrations_stairway_up_down_up(engine: AsyncEngine) -> None:
    expected = {t.name for t in Base.metadata.sorted_tables}
    assert expected <= await _tables(engine)
    await downgrade(engine, "base")
    assert not (expected & await _tables(engine))
    await upgrade(engine)
    assert expected <= await _tables(engine)


async def test_models_match_migrations(engine: AsyncEngine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def diff(sync_conn):  # type: ignore[no-untyped-def]
        ctx = MigrationContext.configure(sync_conn, opts={"compare_type": False})
        return compare_metadata(ctx, Base.metadata)

    async with engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == [], "store/models.py and the migrations differ: add a migration"


# The version triggers on client and person, and on PostgreSQL the functions they call.
_TRIGGERS = {
    "sqlite": "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
    "AND tbl_name IN ('client', 'person') ORDER BY name",
    "postgresql": (
        "SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal AND c.relname IN ('client', 'person') "
        "UNION ALL SELECT proname, prosrc FROM pg_proc WHERE proname LIKE 'touchbase\\_bump\\_%' "
        "ORDER BY 1"
    ),
}


async def test_migrated_triggers_are_the_ones_the_models_create(engine: AsyncEngine) -> None:
    """store.models.version_trigger_ddl is what a new database gets (create_all, the benchmarks)
    and the migrations end at the same triggers."""
    async with engine.connect() as conn:
        dialect = conn.dialect.name
        migrated = (await conn.execute(text(_TRIGGERS[dialect]))).all()
        assert {name for name, _ in migrated} >= {
            f"{table}_version_{op}"
            for table, _ in VERSIONED
            for op in ("insert", "update", "delete")
        }
        # Replaced by the models' DDL in this transaction, then rolled back (SQLite runs DDL
        # outside it, but the file is this test's own).
        for name, _ in migrated:
            if name.startswith("touchbase_"):
                continue
            on = f" ON {name.partition('_version_')[0]}" if dialect == "postgresql" else ""
            await conn.execute(text(f"DROP TRIGGER {name}{on}"))
        for name, _ in migrated:
            if name.startswith("touchbase_"):
                await conn.execute(text(f"DROP FUNCTION {name}()"))
        for statement in version_trigger_ddl(dialect):
            await conn.exec_driver_sql(statement)
        created = (await conn.execute(text(_TRIGGERS[dialect]))).all()
        await conn.rollback()
    assert migrated == created


async def test_workspaces_cannot_see_each_other(store: SqlStore) -> None:
    a = await store.workspace(Platform.SLACK, "TA", "Firm A")
    b = await store.workspace(Platform.SLACK, "TB", "Firm B")
    async with store.unit(a.id) as uow:
        jane = await uow.people.ensure("U1", "Jane")
        acme = await uow.clients.add("Acme", owner_id=jane.id)
        touch, _ = await uow.touches.add(
            NewTouch(acme.id, jane.id, TouchKind.CALL, date(2026, 11, 20), source_id="s1")
        )
        await uow.commit()
    async with store.unit(b.id) as uow:
        assert await uow.clients.get(acme.id) is None
        assert await uow.clients.by_name("Acme") is None
        assert await uow.clients.list() == []
        assert await uow.touches.get(touch.id) is None
        assert await uow.touches.for_client(acme.id) == []
        assert await uow.touches.delete(touch.id) is False
        assert await uow.people.get(jane.id) is None
        with pytest.raises(LookupError):
            await uow.clients.update(acme.id, name="Hijacked")
        # The same source id in another workspace is a different touch.
        bob = await uow.people.ensure("U1", "Bob")
        initech = await uow.clients.add("Initech")
        _, created = await uow.touches.add(
            NewTouch(initech.id, bob.id, TouchKind.CALL, date(2026, 11, 20), source_id="s1")
        )
        assert created
        await uow.commit()
    async with store.unit(a.id) as uow:
        assert (await uow.clients.get(acme.id)).name == "Acme"  # type: ignore[union-attr]
        assert len(await uow.touches.all()) == 1


async def test_first_person_is_admin_then_staff(store: SqlStore) -> None:
    ws = await store.workspace(Platform.SLACK, "T1")
    async with store.unit(ws.id) as uow:
        first = await uow.people.ensure("U1", "Ada")
        second = await uow.people.ensure("U2", "Bo")
        again = await uow.people.ensure("U1", "Ada Lovelace", tz="Europe/London")
        await uow.commit()
    assert first.role is Role.ADMIN and second.role is Role.STAFF
    assert again.id == first.id and again.display_name == "Ada Lovelace"
    assert again.tz == "Europe/London" and again.role is Role.ADMIN


async def test_touch_idempotent_on_source_id(store: SqlStore) -> None:
    ws = await store.workspace(Platform.SLACK, "T1")
    async with store.unit(ws.id) as uow:
        p = await uow.people.ensure("U1", "Ada")
        c = await uow.clients.add("Acme")
        await uow.commit()
    new = NewTouch(c.id, p.id, TouchKind.LUNCH, date(2026, 11, 23), source_id="trigger-9")

    async def add_once() -> bool:
        async with store.unit(ws.id) as uow:
            _, created = await uow.touches.add(new)
            await uow.commit()
            return created

    results = await asyncio.gather(*(add_once() for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    async with store.unit(ws.id) as uow:
        assert len(await uow.touches.all()) == 1


async def test_client_names_unique_per_workspace_casefolded(store: SqlStore) -> None:
    ws = await store.workspace(Platform.SLACK, "T1")
    async with store.unit(ws.id) as uow:
        await uow.clients.add("Acme Corp")
        await uow.commit()
    async with store.unit(ws.id) as uow:
        with pytest.raises(IntegrityError):
            await uow.clients.add("ACME   corp")


async def test_times_come_back_aware_utc(store: SqlStore) -> None:
    ws = await store.workspace(Platform.SLACK, "T1")
    async with store.unit(ws.id) as uow:
        p = await uow.people.ensure("U1", "Ada")
        c = await uow.clients.add("Acme")
        t, _ = await uow.touches.add(NewTouch(c.id, p.id, TouchKind.CALL, date(2026, 11, 23)))
        await uow.touches.mark_replied(t.id, datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
        await uow.commit()
    async with store.unit(ws.id) as uow:
        again = await uow.touches.get(t.id)
    assert again is not None and again.replied_at == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert again.replied_at.tzinfo is not None


async def test_uncommitted_work_is_discarded(store: SqlStore) -> None:
    ws = await store.workspace(Platform.SLACK, "T1")
    async with store.unit(ws.id) as uow:
        await uow.clients.add("Ghost")
    async with store.unit(ws.id) as uow:
        assert await uow.clients.list() == []


async def test_sqlite_concurrent_writers_never_see_locked(tmp_path: Path) -> None:
    from bot.clock import SystemClock

    engine = create_engine(f"sqlite:///{tmp_path / 'busy.db'}")
    await upgrade(engine)
    store = SqlStore(engine, SystemClock())
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        p = await uow.people.ensure("u", "U")
        c = await uow.clients.add("Acme")
        await uow.commit()

    async def write(i: int) -> None:
        async with store.unit(ws.id) as uow:
            await uow.touches.add(
                NewTouch(c.id, p.id, TouchKind.CALL, date(2026, 1, 1), note=str(i))
            )
            await uow.commit()

    await asyncio.gather(*(write(i) for i in range(100)))
    async with store.unit(ws.id) as uow:
        assert len(await uow.touches.all()) == 100
    await engine.dispose()


def test_urls_name_the_async_drivers() -> None:
    assert async_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert async_url("postgresql://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"
    assert async_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    with pytest.raises(ValueError):
        async_url("mysql://h/db")
