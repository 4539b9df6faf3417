"""What the composition root hands a platform adapter: its settings, the core, the clock and
the core's directory (the use cases a platform needs outside a command). `app.bootstrap.Services`
is one; the adapters depend on this shape, never on the root that builds it, and never on the
store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from adapters.intake_journal import IntakeJournal
    from app.settings import Settings
    from bot.app import Touchbase
    from bot.clock import Clock
    from bot.directory import Directory


class Services(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def directory(self) -> Directory: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def app(self) -> Touchbase: ...

    @property
    def intake(self) -> IntakeJournal | None: ...
