"""The repair workflow's plain objects and its repository port.

Kept apart from `bot.repair` (the rules and the digest sources) so `bot.ports` can name the
repository without importing the nudge machinery.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


class Step(enum.StrEnum):
    FINISH = "finish"  # 1: finish the task, correct the wrong
    BREATHING = "breathing"  # 2: give the client room
    ICE = "ice"  # 3: break the ice, humbly
    FORWARD = "forward"  # 4: regular contact on a tighter rhythm, no more apologies
    DONE = "done"


class Status(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


OPEN = (Status.ACTIVE, Status.PAUSED)
DEFAULT_FORWARD_DAYS = 90  # only for a row that never recorded its own (see Repair.checklist)


@dataclass(frozen=True, slots=True)
class Repair:
    """One repair of one client relationship. `id` is 0 until it is stored.

    `checklist` is the workflow's small bag of step dates and answers (JSON in the store):
    ``breathing_from``, ``ice_from``, ``forward_from``, ``paused_on`` (ISO dates), ``ticked``
    (the ice checklist items ticked off), ``done_on``, and ``forward_days`` (the go-forward
    length fixed when the repair started).
    """

    id: int
    client_id: int
    owner_id: int | None
    started_by_id: int | None
    reason: str
    step: Step
    status: Status
    started_at: datetime
    updated_at: datetime
    task: str | None = None
    task_due_on: date | None = None
    breathing_days: int = 7
    breathing_until: date | None = None
    checklist: Mapping[str, Any] = field(default_factory=dict)
    forward_until: date | None = None
    cancel_reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def forward_days(self) -> int:
        days = self.checklist.get("forward_days")
        return days if isinstance(days, int) and days > 0 else DEFAULT_FORWARD_DAYS

    def day(self, key: str) -> date | None:
        """A date kept in the checklist bag, or None."""
        raw = self.checklist.get(key)
        if not isinstance(raw, str):
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class RepairSummary:
    """An open repair without any of its notes: for the weekly firm summary and reports."""

    repair_id: int
    client_id: int
    owner_id: int | None
    step: Step
    status: Status
    since: date  # the day the repair started


class RepairAlreadyOpen(Exception):
    """The client already has an open (active or paused) repair."""


class RepairRepo(Protocol):
    async def get(self, repair_id: int) -> Repair | None: ...
    async def open_for(self, client_id: int) -> Repair | None:
        """The client's active or paused repair, as stored (not settled)."""
        ...

    async def latest_for(self, client_id: int) -> Repair | None:
        """The client's most recent repair, whatever its status."""
        ...

    async def open_list(self) -> list[Repair]:
        """Every active or paused repair in the workspace, as stored."""
        ...

    async def add(self, repair: Repair) -> Repair:
        """Store a new repair. Raises RepairAlreadyOpen when the client already has one."""
        ...

    async def save(self, repair: Repair) -> Repair:
        """Write back a repair's mutable fields (the step, the status, the dates, the notes)."""
        ...

    async def first_touch_by(
        self, client_id: int, person_id: int, on_or_after: date
    ) -> date | None:
        """The earliest date, on or after `on_or_after`, of a touch this person logged for the
        client; None when there is none."""
        ...

    async def open_repairs(self, today: date | None = None) -> list[RepairSummary]:
        """Open repairs, without notes, oldest first. With `today`, each is first brought up to
        date (a finished breathing period, a logged conversation, an expired go-forward phase)."""
        ...
