"""From rows to the core's plain objects, and the base every workspace-bound repository shares."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain import (
    Client,
    ClientStatus,
    Contact,
    Person,
    Platform,
    Role,
    Touch,
    TouchKind,
    Workspace,
)
from store.models import ClientRow, ContactRow, PersonRow, TouchRow, WorkspaceRow

# --- row -> core object -------------------------------------------------------------------------


def to_workspace(row: WorkspaceRow) -> Workspace:
    return Workspace(
        id=row.id,
        platform=Platform(row.platform),
        external_id=row.external_id,
        name=row.name,
        channel=row.channel,
        active=row.active,
    )


def to_person(row: PersonRow) -> Person:
    return Person(
        id=row.id,
        workspace_id=row.workspace_id,
        platform_user_id=row.platform_user_id,
        display_name=row.display_name,
        role=Role(row.role),
        email=row.email,
        tz=row.tz,
        tz_chosen=row.tz_chosen,
        locale=row.locale,
        workdays=tuple(int(d) for d in row.workdays.split(",") if d.strip()),
        address=row.address,
        interests=tuple(row.interests or ()),
        practice_areas=tuple(row.practice_areas or ()),
        profile_refreshed_at=row.profile_refreshed_at,
        unreachable_since=row.unreachable_since,
    )


def to_client(row: ClientRow) -> Client:
    return Client(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        aliases=tuple(row.aliases or ()),
        owner_id=row.owner_id,
        cadence_days=row.cadence_days,
        segment=row.segment,
        status=ClientStatus(row.status),
        update_rhythm_days=row.update_rhythm_days,
        preferences=row.preferences,
        created_at=row.created_at,
        last_contact_on=row.last_contact_on,
    )


def to_contact(row: ContactRow) -> Contact:
    return Contact(
        id=row.id,
        workspace_id=row.workspace_id,
        client_id=row.client_id,
        name=row.name,
        title=row.title,
        influence=row.influence,
        seniority=row.seniority,
        notes=row.notes,
        holder_id=row.holder_id,
        email=row.email,
        phone=row.phone,
    )


def to_touch(row: TouchRow) -> Touch:
    return Touch(
        id=row.id,
        workspace_id=row.workspace_id,
        client_id=row.client_id,
        person_id=row.person_id,
        kind=TouchKind(row.kind),
        occurred_on=row.occurred_on,
        note=row.note,
        contact=row.contact,
        awaiting_reply=row.awaiting_reply,
        replied_at=row.replied_at,
        source_id=row.source_id,
        created_at=row.created_at,
        matter_id=row.matter_id,
        estimate_on=row.estimate_on,
        revision=row.revision,
    )


def as_date(value: Any) -> date | None:
    """A date from a driver's answer: SQLite hands aggregates back as text."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class ScopedRepo:
    """Bound to one workspace: every query it makes filters on `self.ws`."""

    def __init__(self, session: AsyncSession, workspace_id: int, clock: Clock) -> None:
        self.s = session
        self.ws = workspace_id
        self.clock = clock


def merge_last_contact(
    last: dict[int, date], known: Iterable[tuple[int, date | None]]
) -> dict[int, date]:
    """The latest touch per client, or the last contact known from an import when later."""
    for client_id, day in known:
        if day is not None and (client_id not in last or day > last[client_id]):
            last[client_id] = day
    return last
