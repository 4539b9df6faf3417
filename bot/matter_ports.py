"""Matters and matching: their plain objects and the two repository ports.

Kept apart from `bot.matters` (the rules and the digest source) and `bot.matching` so `bot.ports`
can name the repositories without importing the nudge machinery. Both repositories are bound to
one workspace, like every repository in a unit of work (`uow.matters`, `uow.matching`).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from bot.domain import Contact


@dataclass(frozen=True, slots=True)
class Matter:
    """A piece of work for a client: an audit, a filing, a dispute. Open until `closed_at`."""

    id: int
    client_id: int
    lead_id: int | None
    title: str
    opened_at: datetime
    expected_on: date | None = None
    rhythm_days: int | None = None  # None: the client's update rhythm applies
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A status-update touch: for one matter, or (matter_id None) for the client as a whole."""

    touch_id: int
    client_id: int
    person_id: int
    occurred_on: date
    matter_id: int | None = None
    estimate_on: date | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TouchLine:
    """A touch without its note: who was in touch with which client, with whom, on which day."""

    client_id: int
    person_id: int
    occurred_on: date
    contact: str | None = None


class MatterRepo(Protocol):
    async def add(
        self,
        client_id: int,
        title: str,
        *,
        lead_id: int | None,
        expected_on: date | None = None,
        rhythm_days: int | None = None,
    ) -> Matter: ...
    async def get(self, matter_id: int) -> Matter | None: ...
    async def list(
        self,
        *,
        client_ids: Sequence[int] | None = None,
        lead_ids: Sequence[int] | None = None,
        open_only: bool = True,
    ) -> list[Matter]:
        """Matters, oldest first; `None` filters mean any."""
        ...

    async def close(self, matter_id: int, at: datetime) -> Matter | None: ...
    async def status_updates(self, client_ids: Sequence[int]) -> builtins.list[StatusUpdate]:
        """Every status-update touch for these clients, oldest first."""
        ...


class MatchingRepo(Protocol):
    async def seniorities(self) -> dict[int, str]:
        """Person id -> the seniority they gave (people who gave none are left out)."""
        ...

    async def contacts(self, client_ids: Sequence[int] | None = None) -> list[Contact]:
        """Key people of these clients (None: every client), by client then id."""
        ...

    async def contact(self, contact_id: int) -> Contact | None: ...
    async def set_holder(self, contact_id: int, holder_id: int | None) -> Contact | None: ...
    async def relationship_counts(self) -> dict[int, int]:
        """Person id -> clients owned (not inactive) plus key people held."""
        ...

    async def touch_lines(
        self, since: date, client_ids: Sequence[int] | None = None
    ) -> list[TouchLine]:
        """Touches on or after `since` (optionally for some clients), oldest first."""
        ...
