"""The store ports the nudge rules and the morning digest need, and the plain rows they return.

`NudgeRepo` is bound to one workspace, like every repository in a unit of work (`uow.nudges`).
`SweepQueries` is the one cross-workspace read: who may be due for a digest right now.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple, Protocol

from bot.domain import Person, Platform


class ClientDue(NamedTuple):
    """A client the regularity rule should look at, with what it needs to decide. (A named
    tuple: a sweep makes one for every client due in the firm.)"""

    client_id: int
    name: str
    owner_id: int
    cadence_days: int  # the client's own, else its segment's, else the firm default
    last_touch_on: date | None  # the firm's latest touch, by anyone
    since: date  # when the client was added (UTC date): the start when never touched
    # When it fell due by `rules.next_due` at its own cadence, computed with the due list;
    # None: not known, the rule works it out.
    due_on: date | None = None


@dataclass(frozen=True, slots=True)
class AwaitingReply:
    """A touch still waiting for the client's answer, with no later touch for that client."""

    touch_id: int
    client_id: int
    client_name: str
    person_id: int  # who logged it, and so who should follow up
    kind: str
    occurred_on: date
    contact: str | None = None


@dataclass(frozen=True, slots=True)
class Snooze:
    """Keeps nudges out of a person's digest until `until`.

    With `nudge_key` it matches that nudge only; with only `client_id`, every nudge about the client.
    """

    person_id: int
    until: datetime
    client_id: int | None = None
    nudge_key: str | None = None


@dataclass(frozen=True, slots=True)
class DigestClaim:
    id: int
    attempts: int  # delivery attempts already made under this claim (retries)


@dataclass(frozen=True, slots=True)
class DigestCandidate:
    """A person whose digest for `local_date` is neither sent nor held by a live claim."""

    person: Person
    platform: Platform
    local_date: date


class NudgeRepo(Protocol):
    async def due_clients(
        self,
        owner_ids: Sequence[int] | None,
        by: date,
        default_cadence: int,
        *,
        include: Sequence[int] = (),
    ) -> list[ClientDue]:
        """Owned, not inactive clients of these owners (None: every owner) whose next contact
        date (`rules.next_due`, at their own cadence) is on or before `by`, with that date, plus
        the clients in `include` whatever their dates (those with a temporary cadence change).
        Computed whole in the database (one probe of the touch index per client, the owners
        filtered there): neither the touch history nor a client not due is loaded."""
        ...

    async def zones(self, person_ids: Sequence[int] | None) -> dict[int, str]:
        """Each person's time zone name, by id (cheaper than loading the people)."""
        ...

    def know_zones(self, zones: Mapping[int, str]) -> None:
        """Zones the caller has just read (a sweep's candidates): `zones` answers from them for
        these people, in this unit of work, rather than asking the database again."""
        ...

    async def awaiting_replies(self, person_ids: Sequence[int] | None) -> list[AwaitingReply]: ...
    async def owned_counts(self, person_ids: Sequence[int] | None) -> dict[int, int]:
        """Clients (not inactive) owned by each person."""
        ...

    async def snoozes(self, person_ids: Sequence[int] | None, now: datetime) -> list[Snooze]:
        """Snoozes still in force at `now`."""
        ...

    async def snooze(
        self,
        person_id: int,
        until: datetime,
        *,
        client_id: int | None = None,
        nudge_key: str | None = None,
    ) -> None: ...

    async def claim_digest(
        self, person_id: int, local_date: date, worker: str, now: datetime, lease: timedelta
    ) -> DigestClaim | None:
        """Claim one person's digest for one local date; None when another worker has it, it
        was already delivered (or found empty), or it is given up. A claim whose worker has not
        heartbeaten within `lease` by the DATABASE's clock (never the caller's) can be taken
        over; a retry can be claimed again once `now` (the sweep's planning time) reaches it."""
        ...

    async def heartbeat_digest(self, digest_id: int, worker: str) -> bool:
        """Renew `worker`'s claim by the database's clock; False when it no longer holds it."""
        ...

    async def finish_digest(
        self,
        digest_id: int,
        status: str,
        *,
        item_count: int = 0,
        attempts: int = 0,
        sent_at: datetime | None = None,
        retry_at: datetime | None = None,
        worker: str | None = None,
    ) -> bool:
        """Settle a claim; with `worker`, only while that worker still holds it (False if not)."""
        ...

    async def record_delivery(
        self,
        *,
        person_id: int | None,
        digest_id: int | None,
        kind: str,
        attempt: int,
        outcome: str,
        detail: str,
        at: datetime,
    ) -> None: ...


class SweepQueries(Protocol):
    async def digest_candidates(
        self, local_date: Callable[[str], date | None], now: datetime, lease: timedelta
    ) -> list[DigestCandidate]:
        """Reachable people, in any active workspace, whose zone has a local date whose digest
        may go out now (`local_date(zone name)`, None: none), and whose digest for that date is
        unclaimed, or claimable again by the database's clock (see `NudgeRepo.claim_digest`).
        Work days are not checked here."""
        ...
