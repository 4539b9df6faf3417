"""Nudges: the things a person should do today, and the one interface features use to add them.

How another feature joins the morning digest (and `/due`)
---------------------------------------------------------
1. Write a *source*: any object with an async ``nudges`` method (see `NudgeSource`). It reads
   what it needs through the unit of work it is given (one workspace, one transaction, read only)
   and returns `Nudge` objects. It must not send anything or write anything.
2. Add it to the list in `nudge_sources()` below. That is the only registration step.

A source that changes how the *regular* contact schedule treats a client (repair's breathing
period mutes routine nudges; its "go forward" phase halves the cadence for a while) also
implements `AdjustmentSource` and is listed in `adjustment_sources()`. The regularity rule
consults every adjustment before it decides a client is due.

Keys. `Nudge.key` is stable across days for the same underlying thing; snoozes and de-duplication
use it. Conventions: ``"<kind>:<thing>:<id>[:<step>]"``, e.g. ``"due:client:12"``,
``"followup:touch:99"``, ``"repair:5:finish"``, ``"handoff:7"``, ``"care:31"``, ``"matter:4"``.

Urgency. Higher comes first. Built-in scale, so features can place themselves: regularity is
``1 + days_overdue / cadence`` (just due = 1, twice as late as the cadence = 3); a follow-up is
``2 + business days waiting beyond the limit / 2``. A repair or handoff step that must not slip
should use 5 or more.

The digest adds the routine buttons itself (log touch and open client when `client_id` is set,
snooze on every item, "they replied" on ``kind == "follow_up"``); put only extra buttons in
`Nudge.actions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from bot.config import CoreConfig
from bot.messages import Action
from bot.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Nudge:
    """One thing one person should do. Plain text throughout; adapters escape it."""

    key: str  # stable, e.g. "due:client:12", "followup:touch:99", "repair:5:finish"
    person_id: int  # who should act
    kind: str  # "overdue" | "follow_up" | "repair" | "handoff" | "care" | "matter" | ...
    urgency: float  # higher first
    title: str  # e.g. "Acme Corp: 12 days overdue"
    detail: str = ""
    client_id: int | None = None
    actions: tuple[Action, ...] = ()  # extra buttons; the digest adds the routine ones


class NudgeSource(Protocol):
    """Produces nudges for the people of one workspace.

    `person_ids` narrows the result to those people (None means everyone in the workspace);
    a source may return more, the caller filters. `now` is the instant the digest is built for
    (aware, UTC); compute each person's "today" with `bot.clock.zone(person.tz)`.
    Snoozes are applied by the caller: do not filter them out yourself.
    """

    async def nudges(
        self,
        uow: UnitOfWork,
        person_ids: Sequence[int] | None,
        now: datetime,
        config: CoreConfig,
    ) -> list[Nudge]: ...


@dataclass(frozen=True, slots=True)
class ClientAdjustment:
    """A temporary change to how the regular contact schedule treats one client.

    It applies on every local date *before* `until` (so ``until`` is the first normal day).
    `mute` stops routine "overdue" nudges entirely (repair's breathing period);
    `cadence_factor` scales the effective cadence (0.5 = twice as often, repair's "go forward").
    When several apply, any mute wins and the smallest factor is used.
    """

    client_id: int
    until: date
    mute: bool = False
    cadence_factor: float = 1.0
    reason: str = ""  # shown nowhere yet; for logs and tests

    def applies_on(self, day: date) -> bool:
        return day < self.until


class AdjustmentSource(Protocol):
    """Lists the client adjustments in force in one workspace at `now` (read only)."""

    async def adjustments(
        self, uow: UnitOfWork, now: datetime, config: CoreConfig
    ) -> list[ClientAdjustment]: ...


def nudge_sources() -> tuple[NudgeSource, ...]:
    """Every source of digest items. Add your feature's source here (one line)."""
    # Import feature modules inside this function, so they may import this module freely.
    return (
        # the built-in regularity and follow-up sources come first;
        # RepairSource(), HandoffSource(), CareCheckinSource(), MatterSource() join here.
    )


def adjustment_sources() -> tuple[AdjustmentSource, ...]:
    """Every source of client adjustments. Add your feature's source here (one line)."""
    return (
        # RepairSource() joins here: breathing (mute) and go-forward (cadence_factor=0.5).
    )
