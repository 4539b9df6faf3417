"""Contact-schedule rules: pure functions of a client's data and a date."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Protocol

from bot.domain import Client


def effective_cadence(
    client: Client, default_days: int, segment_days: dict[str, int] | None = None
) -> int:
    """The client's own cadence, else its segment's, else the firm's default."""
    if client.cadence_days:
        return client.cadence_days
    if client.segment and segment_days and segment_days.get(client.segment):
        return segment_days[client.segment]
    return default_days


def first_contact_due(since: date, cadence_days: int, key: int) -> date:
    """When a new client's first contact falls due: within its cadence from the day it was
    added, spread by `key` (its id) so that a few hundred clients imported at once fall due a
    few a day rather than all on one day."""
    cadence_days = max(cadence_days, 1)
    return since + timedelta(days=1 + key % cadence_days)


def next_due(last_touch: date | None, cadence_days: int, since: date, key: int) -> date:
    """When the client is next due for contact: a cadence after the last contact. Never
    touched: its first contact date (spread over the cadence from when it was added)."""
    first = first_contact_due(since, cadence_days, key)
    if last_touch is None:
        return first
    due = last_touch + timedelta(days=cadence_days)
    # A last contact still within its cadence when the client was added (an imported "last
    # contact", an old lunch logged on day one) sets the schedule; one already past it gives
    # the spread first date, so an import never starts hundreds of days overdue.
    return due if due > since else first


def days_overdue(
    last_touch: date | None, cadence_days: int, since: date, today: date, key: int
) -> int:
    return (today - next_due(last_touch, cadence_days, since, key)).days


def contact_key(contact: str | None) -> str | None:
    """A contact's name as it is compared (and stored beside the name): Unicode case-folded,
    accents and spacing aside, so "José", "JOSE" and "jose " are one contact."""
    if contact is None:
        return None
    decomposed = unicodedata.normalize("NFKD", contact.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    key = " ".join(unicodedata.normalize("NFKC", plain).casefold().split())
    return key[:200] or None


def settles(pending_contact: str | None, later_contact: str | None) -> bool:
    """Whether a later touch settles a pending reply: a touch with the same contact does, and
    one naming nobody only when the pending one named nobody either. A touch with someone else
    never does: lunch with the CFO is no answer to the email to the general counsel."""
    return contact_key(pending_contact) == contact_key(later_contact)


class _TouchLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def client_id(self) -> int: ...
    @property
    def occurred_on(self) -> date: ...
    @property
    def contact(self) -> str | None: ...
    @property
    def awaiting_reply(self) -> bool: ...
    @property
    def replied_at(self) -> object: ...


def open_follow_ups(touches: Iterable[_TouchLike]) -> set[int]:
    """The touches still awaiting a reply: marked awaiting, not marked replied, and not settled
    by a later touch at the same client (see `settles`)."""
    ordered = sorted(touches, key=lambda t: (t.client_id, t.occurred_on, t.id))
    pending: dict[tuple[int, str | None], int] = {}
    for t in ordered:
        slot = (t.client_id, contact_key(t.contact))
        pending.pop(slot, None)  # this touch settles the earlier one with the same contact
        if t.awaiting_reply and t.replied_at is None:
            pending[slot] = t.id
    return set(pending.values())


SINGLE_THREAD_WINDOW_DAYS = 180


def single_threaded(
    touchers: Mapping[int, Iterable[int]], holders: Mapping[int, Iterable[int]] | None = None
) -> set[int]:
    """Clients whose relationship rests on one colleague alone.

    `touchers` maps a client to the people who logged touches with it in the window
    (SINGLE_THREAD_WINDOW_DAYS); `holders` to the colleagues holding its key contacts. A client
    nobody is in touch with is not single-threaded: it is untouched, which other rules report.
    """
    holders = holders or {}
    result: set[int] = set()
    for client_id in set(touchers) | set(holders):
        people = set(touchers.get(client_id, ())) | set(holders.get(client_id, ()))
        if len(people) == 1:
            result.add(client_id)
    return result
