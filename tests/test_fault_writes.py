"""A database that answers but cannot write: /healthz says 503 (and which part failed) rather than
200, and `touchbase serve` refuses to start on a database it cannot write, saying why in one line.

The read-only states are real ones: SQLite's ``query_only`` on the server's connection, a
PostgreSQL database set to read-only transactions, and (for start-up) a SQLite file the server's
user may read but not write.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.server import WRITE_HEALTH
from app.settings import Settings
from bench.common import BOT_TOKEN, SIGNING_SECRET
from bot.clock import FixedClock
from store.db import create_engine, upgrade
from store.repositories import SqlStore
from tests.web_helpers import make_services, start_client

pytestmark = pytest.mark.fault


async def make_read_only(engine: AsyncEngine, db_url: str, read_only: bool) -> None:
    if db_url.startswith("sqlite"):
        async with engine.connect() as conn:  # the one pooled connection the server writes on
            await conn.execute(text(f"PRAGMA query_only={'ON' if read_only else 'OFF'}"))
        return
    name = make_url(db_url).database
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("SET default_transaction_read_only = off"))
        setting = "on" if read_only else "off"
        await conn.execute(
            text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {setting}')
        )
    await engine.dispose()  # new connections take the database's setting


async def test_healthz_is_503_while_the_database_cannot_write(
    db_url: str, engine: AsyncEngine, store: SqlStore, clock: FixedClock
) -> None:
    settings = Settings(_env_file=None, database_url=db_url)  # type: ignore[call-arg]
    client = await start_client(make_services(settings, engine, store, clock))
    try:
        response = await client.get("/healthz")
        assert response.status == 200
        assert await response.json() == {"ok": True, "database": "ok", "writes": "ok"}

        await make_read_only(engine, db_url, True)
        client.server.app[WRITE_HEALTH].every = 0
        try:
            response = await client.get("/healthz")
            body = await response.json()
            assert response.status == 503
            assert body["database"] == "ok" and body["writes"] == "failing"
            assert "read" in body["reason"].lower()  # "readonly database" / "read-only transaction"
        finally:
            await make_read_only(engine, db_url, False)
        response = await client.get("/healthz")
        assert response.status == 200
    finally:
        await client.close()


def test_serve_refuses_a_database_file_it_cannot_write(tmp_path: Path) -> None:
    database = tmp_path / "touchbase.db"

    async def migrate() -> None:
        engine = create_engine(f"sqlite:///{database}")
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    locked = [*tmp_path.iterdir(), tmp_path]
    if os.geteuid() == 0:  # root writes any file whatever its mode: make them immutable
        done = subprocess.run(["chattr", "+i", *map(str, locked)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot make a file read-only for root here: {done.stderr.decode()}")
    else:
        for path in locked:
            path.chmod(0o555 if path.is_dir() else 0o444)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "TOUCHBASE_", "DATABASE"))
    }
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{database}",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "TOUCHBASE_SCHEDULER": "false",
            "TOUCHBASE_INTAKE_DIR": str(tmp_path / "intake"),
            "HOME": str(tmp_path),
        }
    )
    try:
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", "serve", "--port", "0"],
            cwd=Path(__file__).resolve().parents[1],
            env=env,
            capture_output=True,
            timeout=60,
        )
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", *map(str, locked)], check=True)
        tmp_path.chmod(0o755)
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1].startswith("Touchbase cannot write to its database")
    assert str(database) in lines[-1] and "permissions" in lines[-1]


async def test_a_database_busy_with_another_writer_is_not_refused_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from app.bootstrap import bootstrap
    from app.server import refuse_unwritable

    url = f"sqlite:///{tmp_path / 'touchbase.db'}"
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    services = await bootstrap(settings)
    holder = create_engine(url)
    try:
        async with holder.connect() as conn:
            await conn.exec_driver_sql("PRAGMA busy_timeout=0")
            await conn.exec_driver_sql("BEGIN IMMEDIATE")  # another process writing
            async with services.engine.connect() as mine:
                await mine.exec_driver_sql("PRAGMA busy_timeout=200")
            await refuse_unwritable(services)  # says it is busy, and does not refuse
            assert "the database is busy at start-up (database is locked)" in caplog.text
            await conn.exec_driver_sql("ROLLBACK")
    finally:
        await holder.dispose()
        await services.close()
