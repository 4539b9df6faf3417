"""The store ports of the durable outbox: messages for someone other than the person who asked,
written in the same transaction as the change that caused them, sent afterwards by a drainer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from bot.domain import Platform


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A message claimed for sending. `address` is where it goes now (for a message waiting for
    a person, their address once they have one)."""

    id: int
    workspace_id: int
    platform: Platform
    address: dict[str, Any]
    message: dict[str, Any]  # bot.outbox.message_to_json
    attempts: int  # attempts already made


class OutboxRepo(Protocol):
    """Within one unit of work: queue a message; it is committed with everything else."""

    async def add(
        self,
        address: dict[str, Any] | None,
        message: dict[str, Any],
        *,
        person_id: int | None = None,
        kind: str = "notice",
    ) -> int:
        """Queue a message; `address` None with a `person_id` waits until that person has an
        address (they have not used Touchbase yet). Returns the row's id."""
        ...

    async def holds(self, kind: str) -> bool:
        """Whether a message of this kind was ever queued in the workspace (sent or not): how a
        reply queued under a key is known to be queued already."""
        ...


class OutboxQueue(Protocol):
    """Across workspaces: what the drainer claims and settles. Every lease and every "due" is
    judged by the database's clock."""

    async def claim(
        self, worker: str, lease: timedelta, *, ids: Sequence[int] | None = None, limit: int = 100
    ) -> list[OutboxItem]:
        """Claim up to `limit` messages that are due (or only those of `ids`): pending ones, retries
        whose time has come, and ones whose claimant stopped within `lease`. A message waiting for
        a person without an address is not claimed."""
        ...

    async def finish(
        self,
        item_id: int,
        worker: str,
        status: str,
        *,
        detail: str = "",
        retry_in: timedelta | None = None,
    ) -> bool:
        """status: "sent", "failed" (permanent) or "retry" (due again after `retry_in`)."""
        ...

    async def pending_count(self) -> int: ...
