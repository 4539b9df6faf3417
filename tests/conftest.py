"""Shared fixtures. Store-backed tests run on SQLite, and on PostgreSQL when TEST_DATABASE_URL
names one (`.ci/run` sets it); without it the PostgreSQL runs are skipped with a reason."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.console import ConsoleChat, ConsoleMessenger
from bot.app import Touchbase
from bot.clock import FixedClock
from bot.commands import default_registry
from bot.config import CoreConfig
from bot.domain import Platform
from store.db import create_engine, sqlite_path, upgrade
from store.models import Base
from store.repositories import SqlStore
from store.secrets import TokenCipher

# CI explores the same examples every run, so a red run always means a change broke something;
# developers' runs stay random and keep finding new cases.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own, created on first use."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"

    async def create() -> None:
        admin = create_engine(base.render_as_string(hide_password=False))
        try:
            async with admin.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                exists = await conn.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                )
                if not exists:
                    await conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await admin.dispose()

    asyncio.run(create())
    return base.set(database=name).render_as_string(hide_password=False)


PG_URL = _worker_database(os.environ.get("TEST_DATABASE_URL", ""))
PG_SKIP = "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1/test)"
# Monday 23 November 2026, 15:00 UTC: a workday afternoon almost everywhere.
T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
# A Fernet key (TOUCHBASE_SECRET_KEYS) for the secrets kept at rest: Slack tokens, calendars.
SECRET_KEY = "o5mnTbdqSNNz0Oy0X1nUZs5o3tbhXgkXwsZBRmvQ4CQ="

_pg_reset = False
_pg_ready = False


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
    else:
        reason = str(longrepr or "")
    return reason.removeprefix("Skipped: ").strip() or "no reason given"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Skips in one line per reason (not one per test): what did not run here, and why.
    `-rs` still lists each one."""
    if "s" in terminalreporter.reportchars:
        return
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons: dict[str, int] = {}
    for report in skipped:
        reason = _skip_reason(report)
        reasons[reason] = reasons.get(reason, 0) + 1
    terminalreporter.section("skipped, by reason", sep="-")
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{count:>4} skipped: {reason}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and callspec.params.get("db_url") == "postgres":
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'touchbase.db'}"
    if not PG_URL:
        pytest.skip(PG_SKIP)
    return PG_URL


async def _reset_postgres(engine: AsyncEngine) -> None:
    """Once per run: an empty schema, so migrations are applied from nothing."""
    global _pg_reset
    if not _pg_reset:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        _pg_reset = True


async def _truncate(engine: AsyncEngine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


_sqlite_template: Path | None = None


async def _sqlite_from_template(url: str, scratch: Path) -> None:
    """Migrate one SQLite file per run and copy it for each test: same schema, a fraction of
    the time. The migrations themselves are tested in test_store.py."""
    global _sqlite_template
    if _sqlite_template is None:
        template = scratch / "template.db"
        eng = create_engine(f"sqlite:///{template}")
        await upgrade(eng)
        await eng.dispose()
        _sqlite_template = template
    target = sqlite_path(url)
    assert target is not None
    shutil.copyfile(_sqlite_template, target)


@pytest.fixture
async def engine(
    db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    global _pg_ready
    if db_url.startswith("sqlite"):
        await _sqlite_from_template(db_url, tmp_path_factory.getbasetemp())
        eng = create_engine(db_url)
    else:
        eng = create_engine(db_url)
        if not _pg_ready:
            await _reset_postgres(eng)
            await upgrade(eng)
            _pg_ready = True
        await _truncate(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def store(engine: AsyncEngine, clock: FixedClock) -> SqlStore:
    return SqlStore(engine, clock, cipher=TokenCipher([SECRET_KEY]))


@pytest.fixture
def config() -> CoreConfig:
    return CoreConfig()


@pytest.fixture
def outbox() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def app(store: SqlStore, clock: FixedClock, config: CoreConfig, outbox: io.StringIO) -> Touchbase:
    return Touchbase(
        store, clock, config, default_registry(), {Platform.CONSOLE: ConsoleMessenger(outbox)}
    )


class Chat:
    """The console platform with an in-memory transcript: the fake platform for core tests."""

    def __init__(self, app: Touchbase, user: str = "jane", tz: str | None = "UTC") -> None:
        self.out = io.StringIO()
        self._lines: Iterator[str] = iter(())
        self.console = ConsoleChat(app, user, tz, self._next_line, self.out)

    def _next_line(self) -> str:
        return next(self._lines, "")

    async def say(self, *lines: str) -> str:
        """Type the lines (later ones answer form questions); return what was printed."""
        start = self.out.tell()
        self._lines = iter([line + "\n" for line in lines[1:]])
        await self.console.handle(lines[0])
        self.out.seek(start)
        printed = self.out.read()
        return printed

    def as_user(self, user: str, tz: str | None = "UTC") -> Chat:
        other = Chat(self.console.app, user, tz)
        return other


@pytest.fixture
def chat(app: Touchbase) -> Chat:
    return Chat(app)
