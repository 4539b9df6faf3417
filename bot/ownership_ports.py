"""The store port ownership needs (handoffs, client care, profiles, channel posts), and its rows.

`OwnershipRepo` is bound to one workspace, like every repository in a unit of work
(`uow.ownership`). Nothing here returns note text except the key people of one client, which
only the client card and profile show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from bot.domain import Contact

# The handoff checklist, in the order it should happen.
INTRO = "intro"  # the old owner introduces the new one in person: a joint call or lunch
NOTES = "notes"  # they share notes and the client's preferences
PEOPLE = "people"  # they tell the client's key people who their person is now
HANDOFF_STEPS: tuple[str, ...] = (INTRO, NOTES, PEOPLE)


@dataclass(frozen=True, slots=True)
class Handoff:
    id: int
    client_id: int
    from_person_id: int | None
    to_person_id: int | None
    started_at: datetime
    steps_done: tuple[str, ...] = ()
    done_at: datetime | None = None
    ended: str | None = None  # "checklist" | "touched" | "superseded", once done
    new_owner_touched_on: date | None = None  # first touch by the new owner since it began

    @property
    def started_on(self) -> date:
        return self.started_at.date()

    @property
    def checklist_done(self) -> bool:
        return all(step in self.steps_done for step in HANDOFF_STEPS)

    @property
    def under_way(self) -> bool:
        """Not closed, checklist not finished, and the new owner has not yet been in touch."""
        return self.done_at is None and not self.checklist_done and not self.new_owner_touched_on


@dataclass(frozen=True, slots=True)
class CareCheckin:
    id: int
    client_id: int
    person_id: int | None
    label: str  # "2-week", "3-month"
    due_on: date
    done_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CareDue:
    """An open check-in due by some date, with who should make it and whether they have."""

    checkin: CareCheckin
    client_name: str
    owner_id: int | None  # the client's owner now, else whoever owned it at closeout
    touched_on: date | None  # the first touch with the client on or after the due date


@dataclass(frozen=True, slots=True)
class ActivityFacts:
    """Bare facts for the weekly figures: no note text."""

    last_touch_on: dict[int, date] = field(default_factory=dict)
    touchers: dict[int, frozenset[int]] = field(default_factory=dict)  # client -> people


class OwnershipRepo(Protocol):
    # the relationships channel
    async def set_channel(self, address: dict[str, Any] | None) -> None: ...
    async def channel(self) -> dict[str, Any] | None:
        """The relationships channel, read in this unit of work (never from a cache)."""
        ...

    # handoffs
    async def start_handoff(
        self, client_id: int, from_id: int | None, to_id: int | None
    ) -> Handoff:
        """A new handoff; any handoff still open for the client is closed as superseded."""
        ...

    async def handoff(self, handoff_id: int) -> Handoff | None: ...
    async def open_handoffs(self, client_ids: Sequence[int] | None = None) -> list[Handoff]:
        """Handoffs not closed, each with the new owner's first touch since it began."""
        ...

    async def mark_handoff_step(self, handoff_id: int, step: str, by_id: int) -> Handoff | None: ...
    async def close_handoff(self, handoff_id: int, ended: str) -> None: ...

    # client care
    async def add_checkins(
        self, client_id: int, person_id: int | None, plan: Sequence[tuple[str, date]]
    ) -> list[CareCheckin]: ...
    async def open_checkins(self, client_id: int) -> list[CareCheckin]: ...
    async def due_checkins(self, by: date) -> list[CareDue]: ...
    async def checkin(self, checkin_id: int) -> CareCheckin | None: ...
    async def finish_checkin(self, checkin_id: int) -> CareCheckin | None: ...

    # profile
    async def segments(self) -> dict[str, int | None]:
        """Segment name -> its cadence in days (None: the firm default)."""
        ...

    async def ensure_segment(self, name: str) -> str:
        """The segment's stored spelling, created when new."""
        ...

    async def add_key_person(
        self,
        client_id: int,
        name: str,
        *,
        title: str | None = None,
        influence: str | None = None,
        notes: str | None = None,
    ) -> Contact: ...
    async def update_key_person(self, contact_id: int, **changes: Any) -> Contact | None: ...
    async def remove_key_person(self, contact_id: int) -> bool: ...

    # figures
    async def open_repairs(self) -> set[int]:
        """Client ids with a repair active or paused."""
        ...

    async def activity(self, since: date) -> ActivityFacts:
        """Each client's last touch ever, and who touched it on or after `since`."""
        ...

    # once-only channel posts
    async def claim_post(self, key: str, now: datetime, lease: timedelta) -> bool:
        """True for exactly one caller per key, until the post is finished; a claim left by a
        dead worker (older than `lease`) or marked for retry can be taken over."""
        ...

    async def finish_post(self, key: str, status: str) -> None:
        """status: "sent", "skipped", "failed" (final) or "retry"."""
        ...
