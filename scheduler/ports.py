"""What the scheduler is given: the core, its store and the messengers (and the database URL,
for the SQLite lock). `app.bootstrap.Services` is one; the scheduler never imports the root."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.app import Touchbase
    from bot.capture import EventSource
    from bot.clock import Clock
    from bot.domain import Platform
    from bot.ports import Messenger
    from store.repositories import SqlStore


class DatabaseSettings(Protocol):
    @property
    def database_url(self) -> str: ...


class Services(Protocol):
    @property
    def settings(self) -> DatabaseSettings: ...

    @property
    def store(self) -> SqlStore: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def app(self) -> Touchbase: ...

    @property
    def messengers(self) -> Mapping[Platform, Messenger]: ...

    @property
    def capture_sources(self) -> Sequence[EventSource]: ...
