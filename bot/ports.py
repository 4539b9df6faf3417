"""The ports the core depends on: the store, the chat platforms. Implementations live outside bot/."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, Self

from bot.archive_ports import ArchiveRepo
from bot.capture_ports import CaptureRepo
from bot.domain import (
    Client,
    ClientEvent,
    Contact,
    NewTouch,
    OwnerChange,
    Person,
    Platform,
    Role,
    Touch,
    Workspace,
)
from bot.matter_ports import MatchingRepo, MatterRepo
from bot.messages import Message
from bot.nudge_ports import NudgeRepo, SweepQueries
from bot.outbox_ports import OutboxQueue, OutboxRepo
from bot.ownership_ports import OwnershipRepo
from bot.parsing import ClientIndex
from bot.repair_ports import RepairRepo

Address = dict[str, Any]  # opaque to the core: what a platform needs to reach a person or channel


class PeopleRepo(Protocol):
    async def get(self, person_id: int) -> Person | None: ...
    async def by_platform_id(self, platform_user_id: str) -> Person | None: ...
    async def ensure(
        self,
        platform_user_id: str,
        display_name: str,
        *,
        tz: str | None = None,
        email: str | None = None,
        address: Address | None = None,
        locale: str | None = None,
        profile_refreshed_at: datetime | None = None,
    ) -> Person:
        """The person, created on first contact; the first person in a workspace is its admin.

        Given values refresh what is stored; None leaves it as it is. `profile_refreshed_at`
        is when the platform's profile (name, time zone, email) was last fetched."""
        ...

    async def update(self, person_id: int, **changes: Any) -> Person: ...
    async def list(self) -> builtins.list[Person]: ...


class ClientRepo(Protocol):
    async def get(self, client_id: int) -> Client | None: ...
    async def by_name(self, name: str) -> Client | None:
        """Exact, case-insensitive match on the canonical name."""
        ...

    async def list(self, *, owner_id: int | None = None) -> builtins.list[Client]: ...
    async def index(self) -> ClientIndex:
        """Every client's name and aliases, ready for matching (`bot.parsing.client_index`).
        A store may keep it between requests, as long as any change is seen by the next one."""
        ...

    async def add(
        self,
        name: str,
        *,
        aliases: Sequence[str] = (),
        owner_id: int | None = None,
        cadence_days: int | None = None,
        segment: str | None = None,
        last_contact_on: date | None = None,
    ) -> Client: ...
    async def add_many(self, clients: Sequence[Client]) -> builtins.list[Client]:
        """Add clients in few statements (an import): each as `add` would, its id and
        workspace ignored; returned with their ids, in the order given."""
        ...

    async def update(self, client_id: int, **changes: Any) -> Client: ...
    async def last_touch_on(self, client_ids: Sequence[int]) -> dict[int, date]: ...
    async def archived_ids(self) -> set[int]:
        """The ids of the workspace's archived clients."""
        ...

    async def merge(self, from_id: int, into_id: int) -> dict[str, int]:
        """Move everything of `from_id` to `into_id` and remove `from_id`; counts by kind."""
        ...

    async def erase(self, client_id: int) -> dict[str, int]:
        """Remove the client and everything of it, for good; counts by kind."""
        ...


class ContactRepo(Protocol):
    async def for_client(self, client_id: int) -> builtins.list[Contact]: ...
    async def add(
        self,
        client_id: int,
        name: str,
        *,
        title: str | None = None,
        email: str | None = None,
        phone: str | None = None,
    ) -> Contact: ...
    async def update(self, contact_id: int, **changes: Any) -> Contact: ...
    async def delete(self, contact_id: int) -> bool: ...
    async def add_many(self, contacts: Sequence[Contact]) -> None:
        """Add key people in few statements (an import); their ids and workspace ignored."""
        ...


class TouchRepo(Protocol):
    async def add(self, touch: NewTouch) -> tuple[Touch, bool]:
        """Store a touch. Idempotent on source_id: a repeat returns the first one and False."""
        ...

    async def get(self, touch_id: int) -> Touch | None: ...
    async def delete(self, touch_id: int) -> bool: ...
    async def update(self, touch_id: int, **changes: Any) -> Touch | None:
        """Change a touch's fields; its revision goes up by one. None if it is gone."""
        ...

    async def for_client(self, client_id: int, *, limit: int = 10) -> builtins.list[Touch]: ...
    async def mark_replied(self, touch_id: int, at: datetime) -> Touch | None: ...
    async def all(self) -> builtins.list[Touch]: ...


class HistoryRepo(Protocol):
    async def add_event(
        self,
        client_id: int,
        person_id: int | None,
        kind: str,
        summary: str,
        *,
        private: bool = False,
    ) -> ClientEvent: ...
    async def events(self, client_id: int, *, limit: int = 10) -> builtins.list[ClientEvent]: ...
    async def add_owner_change(
        self, client_id: int, from_id: int | None, to_id: int | None, by_id: int | None
    ) -> OwnerChange: ...
    async def add_owner_changes(
        self, changes: Sequence[tuple[int, int | None, int | None, int | None]]
    ) -> None:
        """(client, from, to, by) for many clients at once (an import)."""
        ...

    async def owner_changes(self, client_id: int) -> builtins.list[OwnerChange]: ...
    async def audit(self, person_id: int | None, action: str, detail: str) -> None:
        """A line in the workspace's audit log; `detail` never names what was erased."""
        ...

    async def audit_log(self) -> builtins.list[tuple[datetime, int | None, str, str]]:
        """(at, person id, action, detail), oldest first."""
        ...


class UnitOfWork(Protocol):
    """One transaction, scoped to one workspace: no repository in it can see another workspace."""

    # Read-only members, so an implementation may use its own repository classes.
    @property
    def workspace_id(self) -> int: ...
    @property
    def people(self) -> PeopleRepo: ...
    @property
    def clients(self) -> ClientRepo: ...
    @property
    def contacts(self) -> ContactRepo: ...
    @property
    def touches(self) -> TouchRepo: ...
    @property
    def history(self) -> HistoryRepo: ...
    @property
    def nudges(self) -> NudgeRepo: ...
    @property
    def matters(self) -> MatterRepo: ...
    @property
    def matching(self) -> MatchingRepo: ...
    @property
    def repairs(self) -> RepairRepo: ...
    @property
    def ownership(self) -> OwnershipRepo: ...
    @property
    def outbox(self) -> OutboxRepo: ...
    @property
    def archive(self) -> ArchiveRepo: ...
    @property
    def capture(self) -> CaptureRepo: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...


@dataclass(frozen=True, slots=True)
class TouchFact:
    """A touch without its content: who touched which client on which day. Reports use these."""

    client_id: int
    person_id: int
    occurred_on: date
    captured: bool = False  # logged from a calendar or mailbox (bot/capture.py), not typed


class ReportsRepo(Protocol):
    """Read-only figures for the firm dashboard, bound to one workspace. Never note text."""

    async def people(self) -> builtins.list[Person]: ...
    async def clients(self) -> builtins.list[Client]: ...
    async def touch_facts(self, since: date) -> builtins.list[TouchFact]:
        """Touches on or after `since`, oldest first."""
        ...

    async def last_touch_before(self, day: date) -> dict[int, date]:
        """Each client's last touch before `day`, for clients touched before it."""
        ...

    async def open_repairs(self) -> builtins.list[int]:
        """Client ids with a repair active or paused."""
        ...

    async def open_handoffs(self) -> builtins.list[int]:
        """Client ids with a handoff not yet done."""
        ...


class Store(Protocol):
    async def workspace(
        self, platform: Platform, external_id: str, name: str | None = None
    ) -> Workspace:
        """The workspace for a team or tenant, created on first contact."""
        ...

    async def update_workspace(self, workspace_id: int, **changes: Any) -> Workspace: ...
    async def workspaces(self, *, include_paused: bool = False) -> builtins.list[Workspace]:
        """The active workspaces; with `include_paused`, the paused (uninstalled) ones too."""
        ...

    def unit(self, workspace_id: int) -> UnitOfWork: ...
    def sweep_queries(self) -> SweepQueries:
        """The cross-workspace reads of the digest sweep (the only ones that span firms)."""
        ...

    def outbox_queue(self) -> OutboxQueue:
        """The durable outbox's drainer side, across workspaces."""
        ...


class DeliveryError(Exception):
    """A platform could not deliver a message.

    `permanent` means retrying cannot help (the person left, the bot was blocked or removed);
    `retry_after` is the platform's own advice, in seconds, when it gave one."""

    def __init__(
        self, detail: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.retry_after = retry_after


class Messenger(Protocol):
    """Sends a message to a person or channel on one platform.

    Raises DeliveryError when the platform refuses; the caller decides whether to retry."""

    async def send(self, address: Address, message: Message) -> None: ...


__all__ = [
    "Address",
    "ClientRepo",
    "ContactRepo",
    "DeliveryError",
    "HistoryRepo",
    "Messenger",
    "PeopleRepo",
    "ReportsRepo",
    "Role",
    "Store",
    "TouchFact",
    "TouchRepo",
    "UnitOfWork",
]
