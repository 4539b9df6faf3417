"""Engines and migrations. SQLite by default (one file, one writer); PostgreSQL via asyncpg."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.util import await_

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x70C4BA5E  # PostgreSQL advisory lock key: one replica migrates at a time


def async_url(url: str) -> str:
    """Accept the URLs people write and name the async driver we use."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False))
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The file a SQLite URL names, or None for in-memory databases and other engines."""
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    return Path(parsed.database)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    url = async_url(url)
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # One connection: SQLite has one writer, so commands queue here rather than meeting
        # "database is locked". WAL lets other processes (the console, an export) read meanwhile.
        return _one_sqlite_connection(url, _sqlite_pragmas, echo=echo)
    # hide_parameters: a failed statement's error (which gets logged) never quotes note text.
    return create_async_engine(
        url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True
    )


@dataclass(frozen=True)
class RoundEngines:
    """What the shared rounds (store/batch.py) read and write on."""

    reads: AsyncEngine
    writes: AsyncEngine


def round_engines(engine: AsyncEngine) -> RoundEngines:
    """The engines of the shared rounds, made beside `engine` and disposed with it.

    - A SQLite file: reads on a second connection that only reads. In WAL mode it reads the
      last commit while the one writer connection is busy, where waiting for that connection
      put every version check behind the write round before it. Writes on `engine`, the one
      writer. (An in-memory database, which a second connection would not see: both on it.)
    - PostgreSQL: a small pool of its own, in autocommit and without the ping before each
      use. A round is one statement (the version check, or the one INSERT of a round's
      touches), atomic by itself, so it needs no BEGIN and no COMMIT: one round trip where
      it took four (ping, BEGIN, INSERT, COMMIT), and the commit is as durable. A
      connection lost meanwhile (the server restarted) fails its round, which
      hands its requests to the ordinary path, on the main pool that does ping; and the
      failure discards this pool's other connections too.
    """
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        rounds = create_async_engine(
            url,
            pool_size=ROUND_CONNECTIONS,
            max_overflow=0,
            pool_pre_ping=False,
            isolation_level="AUTOCOMMIT",
            hide_parameters=True,
        )
        _dispose_with(engine, rounds)
        return RoundEngines(reads=rounds, writes=rounds)
    path = sqlite_path(url)
    if path is None or str(path).startswith("file:"):
        return RoundEngines(reads=engine, writes=engine)
    reader = _one_sqlite_connection(url, _sqlite_reader_pragmas)
    _dispose_with(engine, reader)
    return RoundEngines(reads=reader, writes=engine)


# The version checks' round and up to four write rounds in flight (store/batch.py).
ROUND_CONNECTIONS = 5


def _dispose_with(engine: AsyncEngine, other: AsyncEngine) -> None:
    def dispose_other(_engine: Any) -> None:
        # Engine.dispose runs in SQLAlchemy's greenlet, where the other's may be awaited.
        await_(other.dispose())

    event.listen(engine.sync_engine, "engine_disposed", dispose_other)


def _one_sqlite_connection(
    url: str, pragmas: Callable[[Any, Any], None], *, echo: bool = False
) -> AsyncEngine:
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=1,
        max_overflow=0,
        pool_timeout=60,
        hide_parameters=True,
        pool_reset_on_return=None,  # _sqlite_reset does it
    )
    event.listen(engine.sync_engine, "connect", pragmas)
    event.listen(engine.sync_engine, "reset", _sqlite_reset)
    return engine


def _sqlite_reader_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _sqlite_reset(dbapi_connection: Any, _record: Any, _state: Any) -> None:
    """A connection goes back to the pool rolled back when it is in a transaction, and as it is
    when it is not (after a commit, or reads outside one). SQLAlchemy's own reset rolls back
    every time, and on aiosqlite each ROLLBACK is a hand-off to the driver's thread and back:
    two of the eight in a shared round's version check and insert."""
    if dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def insert_for(session: AsyncSession) -> Any:
    """The dialect's INSERT, which offers ON CONFLICT DO NOTHING on both engines: the way every
    once-only row (a touch per source message, a digest per person and day) is claimed."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to date; safe to call from several replicas at once."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def database_now(session: AsyncSession) -> datetime:
    """The database's own clock, aware and in UTC: what leases and claims are judged by, so a
    process whose clock is skewed (or frozen by `touchbase digest --now`) cannot misjudge them.

    PostgreSQL: `now()` (the transaction's start, on the server). SQLite: its `'now'`, the clock
    of the one machine whose disk holds the file, shared by every process that opens it."""
    if session.get_bind().dialect.name == "postgresql":
        value = await session.scalar(select(func.now()))
        assert isinstance(value, datetime)
        return value.astimezone(UTC)
    raw = await session.scalar(select(func.strftime("%Y-%m-%d %H:%M:%f", "now")))
    return datetime.fromisoformat(str(raw)).replace(tzinfo=UTC)


async def ping(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


async def write_problem(engine: AsyncEngine) -> str | None:
    """Why the database cannot take a write right now, or None when it can.

    A no-op update of the migration row, committed: on SQLite it needs the write lock and a
    WAL append (a read-only file or a full disk fails it), on PostgreSQL a WAL flush (a
    read-only server, a full disk or a lost primary fails it). Nothing changes.
    """
    try:
        async with engine.begin() as conn:
            migrated = await conn.run_sync(lambda c: inspect(c).has_table("alembic_version"))
            if migrated:
                await conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            else:  # a new database: what the first migration will need
                await conn.execute(text("CREATE TABLE touchbase_write_probe (x INTEGER)"))
                await conn.execute(text("DROP TABLE touchbase_write_probe"))
    except Exception as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        return (reason[0] if reason else type(error).__name__)[:200]
    return None


def describe(url: str) -> str:
    """The database's address for a message: a SQLite file's path, else the URL without its
    password."""
    path = sqlite_path(url)
    if path is not None:
        return str(path)
    return make_url(url).render_as_string(hide_password=True)
