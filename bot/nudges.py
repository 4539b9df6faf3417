"""Nudges: the things a person should do today, and the one interface features use to add them.

How another feature joins the morning digest (and `/due`)
---------------------------------------------------------
1. Write a *source*: any object with an async ``nudges`` method (see `NudgeSource`). It reads
   what it needs through the unit of work it is given (one workspace, one transaction, read only)
   and returns `Nudge` objects. It must not send anything or write anything.
2. Add it to the list in `bot/sources.py`. That is the only registration step.

A source that changes how the *regular* contact schedule treats a client (repair's breathing
period mutes routine nudges; its "go forward" phase halves the cadence for a while) also
implements `AdjustmentSource` and is listed there too. The regularity rule
consults every adjustment before it decides a client is due.

Keys. `Nudge.key` is stable across days for the same underlying thing; snoozes and de-duplication
use it. Conventions: ``"<kind>:<thing>:<id>[:<step>]"``, e.g. ``"due:client:12"``,
``"followup:touch:99"``, ``"repair:5:finish"``, ``"handoff:7"``, ``"care:31"``, ``"matter:4"``.

Urgency. Higher comes first. Built-in scale, so features can place themselves: regularity is
``1 + days_overdue / cadence`` (just due = 1, twice as late as the cadence = 3); a follow-up is
``2 + business days waiting beyond the limit / 2``. A repair or handoff step that must not slip
should use 5 or more.

The digest adds the routine buttons itself (log touch and open client when `client_id` is set,
snooze on every item, "they replied" on ``kind == "follow_up"``); put only extra buttons in
`Nudge.actions`.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple, Protocol

from bot.clock import zone
from bot.config import CoreConfig, LoadTarget
from bot.domain import Person, Role
from bot.messages import Action
from bot.nudge_ports import AwaitingReply, ClientDue, Snooze
from bot.ports import UnitOfWork
from bot.rules import days_overdue


@dataclass(frozen=True, slots=True)
class Nudge:
    """One thing one person should do. Plain text throughout; adapters escape it."""

    key: str  # stable, e.g. "due:client:12", "followup:touch:99", "repair:5:finish"
    person_id: int  # who should act
    kind: str  # "overdue" | "follow_up" | "repair" | "handoff" | "care" | "matter" | ...
    urgency: float  # higher first
    title: str  # e.g. "Acme Corp: 12 days overdue"
    detail: str = ""
    client_id: int | None = None
    actions: tuple[Action, ...] = ()  # extra buttons; the digest adds the routine ones

    def nudge(self) -> Nudge:
        return self


class Item(Protocol):
    """What ranking a nudge needs, before its words are written: a `Nudge` itself, or a cheap
    stand-in (`Overdue`) whose `nudge()` writes it. A digest writes only the items it shows."""

    @property
    def key(self) -> str: ...
    @property
    def person_id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def urgency(self) -> float: ...
    @property
    def client_id(self) -> int | None: ...
    def nudge(self) -> Nudge: ...


class NudgeSource(Protocol):
    """Produces nudges for the people of one workspace.

    `person_ids` narrows the result to those people (None means everyone in the workspace);
    a source may return more, the caller filters. `now` is the instant the digest is built for
    (aware, UTC); compute each person's "today" with `bot.clock.zone(person.tz)`.
    Snoozes are applied by the caller: do not filter them out yourself.
    A source with many items per person may return cheap `Item`s that write their `Nudge` only
    when it is shown (the regularity source does).
    """

    async def nudges(
        self,
        uow: UnitOfWork,
        person_ids: Sequence[int] | None,
        now: datetime,
        config: CoreConfig,
    ) -> Sequence[Item]: ...


@dataclass(frozen=True, slots=True)
class ClientAdjustment:
    """A temporary change to how the regular contact schedule treats one client.

    It applies on every local date *before* `until` (so ``until`` is the first normal day).
    `mute` stops routine "overdue" nudges entirely (repair's breathing period);
    `cadence_factor` scales the effective cadence (0.5 = twice as often, repair's "go forward").
    When several apply, any mute wins and the smallest factor is used.
    """

    client_id: int
    until: date
    mute: bool = False
    cadence_factor: float = 1.0
    reason: str = ""  # shown nowhere yet; for logs and tests

    def applies_on(self, day: date) -> bool:
        return day < self.until


class AdjustmentSource(Protocol):
    """Lists the client adjustments in force in one workspace at `now` (read only)."""

    async def adjustments(
        self, uow: UnitOfWork, now: datetime, config: CoreConfig
    ) -> list[ClientAdjustment]: ...


# --- the rules: pure functions of data and a date --------------------------------------------------

OVERDUE = "overdue"
FOLLOW_UP = "follow_up"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def adjusted_cadence(
    cadence_days: int, client_id: int, today: date, adjustments: Iterable[ClientAdjustment]
) -> int | None:
    """The cadence in force today, or None when routine nudges are muted for the client."""
    factor = 1.0
    for adj in adjustments:
        if adj.client_id != client_id or not adj.applies_on(today):
            continue
        if adj.mute:
            return None
        factor = min(factor, adj.cadence_factor)
    return max(1, round(cadence_days * factor))


class Overdue(NamedTuple):
    """A client due for contact, with what ranking needs; `nudge()` writes its digest item.
    (A named tuple: a sweep makes one for every client due in the firm.)"""

    due: ClientDue
    today: date  # the owner's local date
    cadence: int  # in force today (adjustments applied)
    late: int  # days since it fell due (0: due today)
    urgency: float

    @property
    def kind(self) -> str:
        return OVERDUE

    @property
    def key(self) -> str:
        return f"due:client:{self.due.client_id}"

    @property
    def person_id(self) -> int:
        return self.due.owner_id

    @property
    def client_id(self) -> int:
        return self.due.client_id

    def nudge(self) -> Nudge:
        due, late, cadence = self.due, self.late, self.cadence
        last = due.last_touch_on
        every = "every day" if cadence == 1 else f"every {cadence} days"
        days_late = "1 day" if late == 1 else f"{late} days"
        if last is None:
            when = "due today" if late == 0 else f"{days_late} late"
            title = f"{due.name}: never contacted, first contact {when}"
            detail = f"No touch logged since it was added. The plan is {every}."
        else:
            title = f"{due.name}: due today" if late == 0 else f"{due.name}: {days_late} overdue"
            ago = (self.today - last).days
            since = "1 day" if ago == 1 else f"{ago} days"
            detail = f"Last touch {since} ago; the plan is {every}."
        return Nudge(
            f"due:client:{due.client_id}",
            due.owner_id,
            OVERDUE,
            self.urgency,
            title,
            detail,
            due.client_id,
        )


def overdue(
    due: ClientDue, today: date, adjustments: Iterable[ClientAdjustment] = ()
) -> Overdue | None:
    """The client as an "overdue" item for its owner once it is due (`rules.next_due`: a
    cadence after the firm's last touch; never touched, its first contact date), else None.
    Lateness raises urgency: ``1 + days late / cadence``."""
    cadence = adjusted_cadence(due.cadence_days, due.client_id, today, adjustments)
    if cadence is None:
        return None
    if due.due_on is not None and cadence == max(1, due.cadence_days):
        late = (today - due.due_on).days  # the due list worked the rule out already
    else:
        late = days_overdue(due.last_touch_on, cadence, due.since, today, due.client_id)
    if late < 0:
        return None
    return Overdue(due, today, cadence, late, 1.0 + late / cadence)


def regularity_nudge(
    due: ClientDue, today: date, adjustments: Iterable[ClientAdjustment] = ()
) -> Nudge | None:
    """The "overdue" nudge for the client's owner once the client is due (see `overdue`)."""
    item = overdue(due, today, adjustments)
    return item.nudge() if item is not None else None


def add_business_days(start: date, days: int) -> date:
    """The date `days` business days (Monday to Friday) after `start`."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def business_days_between(start: date, end: date) -> int:
    """Business days after `start`, up to and including `end` (0 when end <= start)."""
    if end <= start:
        return 0
    weeks, extra = divmod((end - start).days, 7)
    count = weeks * 5
    for i in range(1, extra + 1):
        if (start + timedelta(days=weeks * 7 + i)).weekday() < 5:
            count += 1
    return count


def follow_up_nudge(item: AwaitingReply, today: date, business_days: int) -> Nudge | None:
    """A "follow up" nudge for whoever logged a touch still unanswered after `business_days`
    business days, with nothing logged for the client since (the query guarantees that)."""
    waited = business_days_between(item.occurred_on, today)
    if waited < business_days:
        return None
    what = item.kind + (f" to {item.contact}" if item.contact else "")
    return Nudge(
        key=f"followup:touch:{item.touch_id}",
        person_id=item.person_id,
        kind=FOLLOW_UP,
        urgency=2.0 + (waited - business_days) / 2,
        title=f"{item.client_name}: no reply for {_plural(waited, 'business day')}",
        detail=f"Your {what} on {item.occurred_on:%a %d %b} is still waiting. Call them back?",
        client_id=item.client_id,
        actions=(),
    )


def load_note(role: Role, owned: int, targets: Mapping[Role, LoadTarget]) -> str | None:
    """A line for the digest when someone holds fewer or more relationships than their role's
    target; None when they are within it, or their role has none (admins)."""
    target = targets.get(role)
    if target is None:
        return None
    clients = _plural(owned, "client")
    if owned < target.low:
        return (
            f"You own {clients}; for your role the target is {target.describe()}. "
            "Room for another relationship?"
        )
    if owned > target.high:
        return (
            f"You own {clients}; for your role the target is {target.describe()}. "
            "Consider handing one on with /owner."
        )
    return None


def is_snoozed(nudge: Item, snoozes: Iterable[Snooze], now: datetime) -> bool:
    for s in snoozes:
        if s.person_id != nudge.person_id or s.until <= now:
            continue
        if s.nudge_key is not None:
            if s.nudge_key == nudge.key:
                return True
        elif s.client_id is not None and s.client_id == nudge.client_id:
            return True
    return False


def rank(nudges: Iterable[Nudge]) -> list[Nudge]:
    """One nudge per key (the most urgent), most urgent first; ties in a stable order."""
    best: dict[str, Nudge] = {}
    for n in nudges:
        if n.key not in best or n.urgency > best[n.key].urgency:
            best[n.key] = n
    return _ordered(best.values())


def _ordered(nudges: Iterable[Nudge]) -> list[Nudge]:
    return sorted(nudges, key=lambda n: (-n.urgency, n.title, n.key))


@dataclass(frozen=True, slots=True)
class Agenda:
    """One person's nudges: `shown`, the most urgent in `rank` order, written in full; `rest`,
    every other one (unordered, perhaps never written). Counts cover both."""

    shown: tuple[Nudge, ...]
    rest: tuple[Item, ...] = ()

    @property
    def total(self) -> int:
        return len(self.shown) + len(self.rest)

    def items(self) -> tuple[Item, ...]:
        return self.shown + self.rest

    def kinds(self) -> Counter[str]:
        return Counter(n.kind for n in self.items())


def agenda(items: Iterable[Item], limit: int | None = None) -> Agenda:
    """One nudge per key (the most urgent), the `limit` first in `rank` order (all when None).
    Only the items that can be among the first `limit` are written: those at least as urgent
    as the limit-th most urgent (ties there are settled by title, as in `rank`)."""
    best: dict[str, Item] = {}
    for n in items:
        key = n.key
        if key not in best or n.urgency > best[key].urgency:
            best[key] = n
    unique = list(best.values())
    if limit is None or len(unique) <= limit:
        return Agenda(tuple(_ordered([n.nudge() for n in unique])))
    if limit <= 0:
        return Agenda((), tuple(unique))
    cut = heapq.nlargest(limit, (n.urgency for n in unique))[-1]
    head = _ordered([n.nudge() for n in unique if n.urgency >= cut])
    rest = [n for n in unique if n.urgency < cut]
    return Agenda(tuple(head[:limit]), (*head[limit:], *rest))


def local_day(person: Person, now: datetime, default_tz: str) -> date:
    return now.astimezone(zone(person.tz, default_tz)).date()


def local_days(zones: Mapping[int, str], now: datetime, default_tz: str) -> dict[int, date]:
    """Each person's local date at `now`, computing each distinct zone once."""
    by_zone = {tz: now.astimezone(zone(tz, default_tz)).date() for tz in set(zones.values())}
    return {pid: by_zone[tz] for pid, tz in zones.items()}


async def people_by_id(uow: UnitOfWork, person_ids: Sequence[int] | None) -> dict[int, Person]:
    """The people a source was asked about (everyone when None), by id."""
    if person_ids is not None and len(person_ids) <= 20:
        found = [await uow.people.get(p) for p in person_ids]
        return {p.id: p for p in found if p is not None}
    wanted = set(person_ids) if person_ids is not None else None
    return {p.id: p for p in await uow.people.list() if wanted is None or p.id in wanted}


# --- the built-in sources ----------------------------------------------------------------------


async def active_adjustments(
    uow: UnitOfWork, now: datetime, config: CoreConfig, sources: Sequence[AdjustmentSource]
) -> list[ClientAdjustment]:
    out: list[ClientAdjustment] = []
    for source in sources:
        out.extend(await source.adjustments(uow, now, config))
    return out


class RegularitySource:
    """Clients whose contact schedule has lapsed, for their owners. Unowned clients are left to
    the weekly summary rather than anyone's personal digest. The adjustment sources (a repair's
    breathing period, its tighter cadence) are consulted before a client is called due."""

    def __init__(self, adjustment_sources: Sequence[AdjustmentSource] = ()) -> None:
        self.adjustment_sources = tuple(adjustment_sources)

    async def nudges(
        self,
        uow: UnitOfWork,
        person_ids: Sequence[int] | None,
        now: datetime,
        config: CoreConfig,
    ) -> list[Item]:
        zones = await uow.nudges.zones(person_ids)
        if not zones:
            return []
        today = local_days(zones, now, config.default_tz)
        adjustments = await active_adjustments(uow, now, config, self.adjustment_sources)
        adjusted = {a.client_id for a in adjustments}
        include = sorted(adjusted)
        # One due list per local date (people in zones a day apart), each for its people only:
        # the database decides what is due, for whom.
        by_day: dict[date, list[int]] = {}
        for pid, day in today.items():
            by_day.setdefault(day, []).append(pid)
        out: list[Item] = []
        for day, owners in by_day.items():
            everyone = person_ids is None and len(by_day) == 1
            rows = await uow.nudges.due_clients(
                None if everyone else owners, day, config.default_cadence_days, include=include
            )
            for row in rows:
                if today.get(row.owner_id) != day:
                    continue
                if row.due_on is not None and row.client_id not in adjusted:
                    # The usual case, inline: the due list worked the rule out already.
                    every = max(1, row.cadence_days)
                    late = (day - row.due_on).days
                    out.append(Overdue(row, day, every, late, 1.0 + late / every))
                    continue
                item = overdue(row, day, adjustments)
                if item is not None:
                    out.append(item)
        return out


class FollowUpSource:
    """Touches still waiting for a reply after the firm's number of business days."""

    async def nudges(
        self,
        uow: UnitOfWork,
        person_ids: Sequence[int] | None,
        now: datetime,
        config: CoreConfig,
    ) -> list[Nudge]:
        zones = await uow.nudges.zones(person_ids)
        today_of = local_days(zones, now, config.default_tz)
        out: list[Nudge] = []
        for item in await uow.nudges.awaiting_replies(person_ids):
            today = today_of.get(item.person_id)
            if today is None:
                continue
            nudge = follow_up_nudge(item, today, config.followup_business_days)
            if nudge is not None:
                out.append(nudge)
        return out


async def collect_agendas(
    uow: UnitOfWork,
    person_ids: Sequence[int] | None,
    now: datetime,
    config: CoreConfig,
    sources: Sequence[NudgeSource],
    *,
    limit: int | None = None,
    zones: Mapping[int, str] | None = None,
) -> dict[int, Agenda]:
    """The sources' nudges for these people, snoozed ones removed, ranked per person; only the
    `limit` first of each person's are written in full (see `agenda`). `zones`: the people's
    time zones when the caller holds them already (the sweep does), so no source asks again.
    `bot.sources.nudge_sources()` lists every feature's."""
    if zones:
        uow.nudges.know_zones(zones)
    found: list[Item] = []
    for source in sources:
        found.extend(await source.nudges(uow, person_ids, now, config))
    # An archived client is resting: none of its steps (repair, handoff, care, matter) nudge
    # anyone, and they come back as they were when it is unarchived.
    archived = await uow.clients.archived_ids()
    wanted = set(person_ids) if person_ids is not None else None
    snoozed: dict[int, list[Snooze]] = {}
    for snooze in await uow.nudges.snoozes(person_ids, now):
        snoozed.setdefault(snooze.person_id, []).append(snooze)
    by_person: dict[int, list[Item]] = {}
    for n in found:
        pid = n.person_id
        if wanted is not None and pid not in wanted:
            continue
        if archived and n.client_id in archived:
            continue
        if snoozed and pid in snoozed and is_snoozed(n, snoozed[pid], now):
            continue
        if pid in by_person:
            by_person[pid].append(n)
        else:
            by_person[pid] = [n]
    return {pid: agenda(items, limit) for pid, items in by_person.items()}


async def collect_nudges(
    uow: UnitOfWork,
    person_ids: Sequence[int] | None,
    now: datetime,
    config: CoreConfig,
    sources: Sequence[NudgeSource],
) -> dict[int, list[Nudge]]:
    """Every nudge of these people, written in full, snoozed ones removed, ranked per person."""
    found = await collect_agendas(uow, person_ids, now, config, sources)
    return {pid: list(a.shown) for pid, a in found.items()}
