"""The composition root: settings → engine → store → core → platforms. Nothing is built at import."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.capture import build_sources
from adapters.intake_journal import IntakeJournal
from app.settings import Settings
from bot.app import Touchbase
from bot.capture import EventSource
from bot.clock import Clock, SystemClock
from bot.commands import default_registry
from bot.directory import Directory
from bot.domain import Platform
from bot.ports import Messenger
from store.db import create_engine, sqlite_path, upgrade
from store.inbound_events import SqlDeliveryLog
from store.reports import SqlReports
from store.repositories import SqlStore
from store.secrets import TokenCipher

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    store: SqlStore
    clock: Clock
    app: Touchbase
    intake: IntakeJournal | None = (
        None  # "Saving…" commands until done (see adapters.intake_journal)
    )
    directory: Directory = field(init=False)  # the use cases the platforms need beside commands
    # Calendars and mailboxes capture reads (bot/capture.py), those configured in settings.
    capture_sources: list[EventSource] = field(default_factory=list)

    def __post_init__(self) -> None:
        store = self.store
        self.directory = Directory(
            store,
            self.app.config,
            deliveries=SqlDeliveryLog(store),
            reports=lambda workspace_id: SqlReports(store.sessions, workspace_id),
        )

    @property
    def messengers(self) -> Mapping[Platform, Messenger]:
        """The messengers live in one place, on the core; this is a read-only view of them."""
        return self.app.messengers

    def add_messenger(self, platform: Platform, messenger: Messenger) -> None:
        self.app.messengers[platform] = messenger

    async def close(self) -> None:
        await self.engine.dispose()


async def bootstrap(
    settings: Settings, *, clock: Clock | None = None, migrate: bool = True
) -> Services:
    clock = clock or SystemClock()
    cipher = secret_cipher(settings)  # first: a malformed key stops here, before the database
    engine = create_engine(settings.database_url)
    if migrate:
        await upgrade(engine)
    store = SqlStore(engine, clock, cipher=cipher)
    app = Touchbase(store, clock, settings.core(), default_registry())
    return Services(
        settings=settings,
        engine=engine,
        store=store,
        clock=clock,
        app=app,
        intake=IntakeJournal(intake_dir(settings), cipher),
        capture_sources=build_sources(settings.capture),
    )


def secret_cipher(settings: Settings) -> TokenCipher | None:
    """The cipher of the secrets kept at rest beside the Slack tokens: people's calendar
    addresses, and the intake journal's copy of a command that carries one. None when
    TOUCHBASE_SECRET_KEYS is unset (no address is stored then); raises SecretKeyError when it
    holds something that is not a Fernet key."""
    keys = settings.secret_keys.get_secret_value() if settings.secret_keys else ""
    return TokenCipher(keys.split(",")) if keys.strip() else None


def intake_dir(settings: Settings) -> Path:
    if settings.intake_dir:
        return Path(settings.intake_dir)
    database = sqlite_path(settings.database_url)
    if database is not None:
        return database.with_name(database.name + ".intake")
    return Path("touchbase-intake")


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class ContextFormatter(logging.Formatter):
    """The usual line, then the context bound with `extra=` (platform, workspace, what…)."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if not context:
            return line
        return line + " " + " ".join(f"{k}={v}" for k, v in sorted(context.items()))


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(ContextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # APScheduler reports every minute's tick at INFO; the sweep logs what it actually sends.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLogger().level))
    # bolt logs a failed request's body at INFO, and a body can hold a client note.
    logging.getLogger("slack_bolt").setLevel(max(logging.WARNING, logging.getLogger().level))
    # The database drivers log every statement's parameters at DEBUG (aiosqlite) or INFO
    # (SQLAlchemy's engine logger): those are note text. Keep them out even at LOG_LEVEL=DEBUG.
    for name in ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
