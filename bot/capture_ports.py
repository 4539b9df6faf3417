"""Capture's typed objects and its storage port (see bot/capture.py). No platform types."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from bot.domain import TouchKind

SOURCE_PREFIX = "capture:"  # touches logged from capture carry source ids under this prefix
CAPTURED = "captured"  # the nudge kind of a captured meeting waiting for an answer


class CaptureMode(enum.StrEnum):
    AUTO = "auto"
    SUGGEST = "suggest"
    OFF = "off"


class EventKind(enum.StrEnum):
    MEETING = "meeting"
    VIDEO = "video"
    EMAIL = "email"


class Direction(enum.StrEnum):
    SENT = "sent"  # an e-mail from the person, or a meeting they organised
    RECEIVED = "received"  # an e-mail to the person, or a meeting someone else organised


class SuggestionState(enum.StrEnum):
    PENDING = "pending"
    LOGGED = "logged"
    DISMISSED = "dismissed"  # "Not client work"
    CANCELLED = "cancelled"  # the event was cancelled at the source
    MAIL = "mail"  # an e-mail: kept only for persistence (follow-ups), never suggested


TOUCH_KIND = {
    EventKind.MEETING: TouchKind.MEETING,
    EventKind.VIDEO: TouchKind.VIDEO_CALL,
    EventKind.EMAIL: TouchKind.EMAIL,
}


@dataclass(frozen=True, slots=True)
class CapturedEvent:
    """One calendar event or mail header, as a source saw it. Metadata only."""

    source: str  # "graph", "google", "ics"
    source_id: str  # the source's own id (an iCalendar UID with its occurrence, a Graph id)
    person_id: int  # whose calendar or mailbox
    when: datetime  # aware
    kind: EventKind
    direction: Direction
    emails: tuple[str, ...]  # attendees or recipients (and the sender of a received e-mail)
    cancelled: bool = False
    subject: str | None = None  # only when the firm allows subjects; dropped otherwise


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: int
    person_id: int
    client_id: int
    source: str
    source_id: str
    occurred_at: datetime
    kind: EventKind
    direction: Direction
    state: SuggestionState
    contact: str | None = None
    subject: str | None = None
    touch_id: int | None = None

    @property
    def touch_source_id(self) -> str:
        """The logged touch's source id: one touch per captured event, however often logged."""
        return f"{SOURCE_PREFIX}{self.id}"


@dataclass(frozen=True, slots=True)
class NewSuggestion:
    person_id: int
    client_id: int
    source: str
    source_id: str
    occurred_at: datetime
    kind: EventKind
    direction: Direction
    state: SuggestionState
    contact: str | None = None
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class CaptureSetup:
    """One person's capture choices and the sources' bookmarks."""

    person_id: int
    mode: CaptureMode = CaptureMode.SUGGEST
    feed_url: str | None = None  # a secret iCal address: encrypted at rest, never shown or logged
    always_clients: tuple[int, ...] = ()
    cursors: Mapping[str, str] = field(default_factory=dict)  # per source: a delta link, a token


class SecretUnavailable(RuntimeError):
    """A calendar address cannot be kept or read: the key it is encrypted with at rest is not
    configured (TOUCHBASE_SECRET_KEYS), or not the one it was encrypted with. The message says
    what the operator should do and holds no address."""


class CaptureRepo(Protocol):
    """Capture's storage, bound to one workspace like every repository of a unit of work."""

    async def domains(self) -> dict[str, int]:
        """Every client domain set by hand: domain -> client id."""
        ...

    async def set_domains(self, client_id: int, domains: Sequence[str]) -> None:
        """Add these domains to the client (a domain belongs to one client at most)."""
        ...

    async def remove_domains(self, client_id: int, domains: Sequence[str]) -> None: ...

    async def setup(self, person_id: int) -> CaptureSetup:
        """The person's setup, the calendar address decrypted. Raises SecretUnavailable when
        the address is stored under a key that is not configured."""
        ...

    async def setups(self) -> list[CaptureSetup]:
        """Everyone who has chosen anything about capture."""
        ...

    async def save_setup(self, setup: CaptureSetup) -> None:
        """Store the setup; the calendar address is encrypted at rest. Raises
        SecretUnavailable, before writing anything, when no key is configured to do that."""
        ...

    async def get(self, suggestion_id: int) -> Suggestion | None: ...
    async def by_source(self, source: str, source_id: str) -> Suggestion | None: ...
    async def add(self, item: NewSuggestion) -> tuple[Suggestion, bool]:
        """Store it once per (source, source id): a repeat returns the stored one and False."""
        ...

    async def update(self, suggestion_id: int, **changes: object) -> Suggestion: ...
    async def pending(self, person_ids: Sequence[int] | None) -> list[Suggestion]:
        """Suggestions still waiting for an answer, oldest first."""
        ...

    async def in_window(
        self, person_id: int, source: str, start: datetime, end: datetime
    ) -> list[Suggestion]:
        """What this source captured for this person from `start` up to `end`."""
        ...

    async def unanswered(
        self, person_ids: Sequence[int] | None, since: datetime
    ) -> list[Suggestion]:
        """The last e-mail each of these people (everyone: None) sent each client since
        `since` that no later e-mail from that client, to anyone at the firm, has answered;
        oldest first. Other people's mail is not loaded: the query is bounded to these."""
        ...

    async def counts(self, since: date) -> tuple[int, int]:
        """(touches logged from capture, touches typed) on or after `since`."""
        ...

    async def move_client(self, client_id: int, into: int | None) -> None:
        """A client merged into `into` (or deleted, `into` None): its domains and captured items
        go to `into`, and everyone's "Always log" lists name `into` instead (or lose it)."""
        ...

    async def claim_pass(self, key: str) -> bool:
        """Claim one capture pass (e.g. this workspace's pass for an hour): True only once."""
        ...
