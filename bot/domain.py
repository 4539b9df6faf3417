"""Plain, typed objects the core works with. No platform or database types here."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


class Platform(enum.StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    CONSOLE = "console"
    WEB = "web"


class Role(enum.StrEnum):
    STAFF = "staff"
    SENIOR = "senior"
    PRINCIPAL = "principal"
    ADMIN = "admin"


class TouchKind(enum.StrEnum):
    LUNCH = "lunch"
    COFFEE = "coffee"
    DINNER = "dinner"
    DRINKS = "drinks"
    BREAKFAST = "breakfast"
    CALL = "call"
    VIDEO_CALL = "video call"
    EMAIL = "email"
    MEETING = "meeting"
    VISIT = "visit"
    EVENT = "event"
    VOICEMAIL = "voicemail"
    MESSAGE = "message"
    LETTER = "letter"
    STATUS_UPDATE = "status update"
    OTHER = "other"


class ClientStatus(enum.StrEnum):
    ACTIVE = "active"
    PROSPECT = "prospect"
    INACTIVE = "inactive"
    ARCHIVED = "archived"  # kept for the record: no nudges, out of lists and the dashboard


# People named in an import (an owner) who have not used Touchbase yet are stored as pending
# invitations under this prefix; they take their place on first contact.
INVITED_PREFIX = "import:"


# The local chats, in the terminal and on the web page, share one workspace on this computer,
# so what is typed in one shows in the other, and import and export use it by default.
LOCAL_PLATFORM = Platform.CONSOLE
LOCAL_WORKSPACE_KEY = "local"
LOCAL_WORKSPACE_NAME = "This computer"

WEEKDAYS = (0, 1, 2, 3, 4)  # Monday..Friday, as date.weekday() numbers


@dataclass(frozen=True, slots=True)
class Workspace:
    id: int
    platform: Platform
    external_id: str
    name: str
    channel: dict[str, Any] | None = None  # opaque platform address of the relationships channel
    active: bool = True  # False while paused: the app was uninstalled or its tokens revoked


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    workspace_id: int
    platform_user_id: str
    display_name: str
    role: Role = Role.STAFF
    email: str | None = None
    tz: str = "UTC"
    tz_chosen: bool = False  # chosen by the person; the platform's report does not override it
    locale: str | None = None  # as the platform reports it ("en-GB"): how they write dates
    workdays: tuple[int, ...] = WEEKDAYS
    address: dict[str, Any] | None = None  # opaque platform address for direct messages
    interests: tuple[str, ...] = ()
    practice_areas: tuple[str, ...] = ()
    profile_refreshed_at: datetime | None = None
    unreachable_since: datetime | None = None

    @property
    def pending(self) -> bool:
        """An invitation from an import: not at the firm in Touchbase until they first use it."""
        return self.platform_user_id.startswith(INVITED_PREFIX)


@dataclass(frozen=True, slots=True)
class Client:
    id: int
    workspace_id: int
    name: str
    aliases: tuple[str, ...] = ()
    owner_id: int | None = None
    cadence_days: int | None = None
    segment: str | None = None
    status: ClientStatus = ClientStatus.ACTIVE
    update_rhythm_days: int | None = None
    preferences: str | None = None
    created_at: datetime | None = None
    last_contact_on: date | None = None  # known from before Touchbase (an import)


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    workspace_id: int
    client_id: int
    name: str
    title: str | None = None
    influence: str | None = None
    seniority: str | None = None
    notes: str | None = None
    holder_id: int | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Touch:
    id: int
    workspace_id: int
    client_id: int
    person_id: int
    kind: TouchKind
    occurred_on: date
    note: str = ""
    contact: str | None = None
    awaiting_reply: bool = False
    replied_at: datetime | None = None
    source_id: str | None = None
    created_at: datetime | None = None
    matter_id: int | None = None
    estimate_on: date | None = None
    revision: int = 0  # how many times it was edited


@dataclass(frozen=True, slots=True)
class NewTouch:
    """What a command wants stored; the store assigns id and created_at."""

    client_id: int
    person_id: int
    kind: TouchKind
    occurred_on: date
    note: str = ""
    contact: str | None = None
    awaiting_reply: bool = False
    source_id: str | None = None
    matter_id: int | None = None
    estimate_on: date | None = None


@dataclass(frozen=True, slots=True)
class OwnerChange:
    id: int
    client_id: int
    from_person_id: int | None
    to_person_id: int | None
    changed_by_id: int | None
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class ClientEvent:
    """A line in a client's history that is not a touch: owner change, repair step, handoff..."""

    id: int
    client_id: int
    person_id: int | None
    kind: str
    summary: str
    at: datetime
    private: bool = False


@dataclass(frozen=True, slots=True)
class ClientSummary:
    """A client with what the nudge rules and cards need to know about its contact history."""

    client: Client
    last_touch_on: date | None
    touch_count: int = 0
    people_in_touch: tuple[int, ...] = field(default=())
