"""What the composition root hands a platform adapter. `app.bootstrap.Services` is one; the
adapters depend on this shape, never on the root that builds it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from app.settings import Settings
    from bot.app import Touchbase
    from bot.clock import Clock
    from store.intake_journal import IntakeJournal
    from store.repositories import SqlStore


class Services(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> SqlStore: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def app(self) -> Touchbase: ...

    @property
    def intake(self) -> IntakeJournal | None: ...
