"""The firm dashboard's figures: a pure function of what the store reports and a date.

Nothing here reads note text: the inputs are clients, people and bare touch facts (who, which
client, which day), so no figure, chart or export can leak what was said at a lunch.

Definitions (the dashboard and its CSV say the same):
- Weeks run Monday to Sunday; the last of the 12 is the current one, ending today.
- A client counts from the day it was added, while its status is active.
- *Within cadence* at a day D: the client's next due date (last touch, or the day it was added,
  plus its cadence: `bot.rules`) is D or later. Coverage for a week is the share of clients
  within cadence on the week's last day (today, for the current week).
- *Overdue* today: next due date before today, as on the client card.
- *Single-threaded*: exactly one person at the firm has touched the client in the last
  `thread_days` days (180 by default).
- *Load*: active clients owned, against the role's target (`CoreConfig.load_targets`).
- *From capture*: the share of the touches in the weeks shown that were logged from a calendar
  or mailbox (accepted suggestions and automatic logging, `bot/capture.py`), the rest typed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.config import CoreConfig, LoadTarget
from bot.domain import Client, ClientStatus, Person, Role
from bot.ports import ReportsRepo, TouchFact
from bot.rules import effective_cadence, next_due

LoadStatus = Literal["under", "within", "over", "no target"]


@dataclass(frozen=True, slots=True)
class CoveragePoint:
    week_start: date
    week_end: date  # the day the share was measured on
    clients: int
    within: int

    @property
    def share(self) -> float:
        return self.within / self.clients if self.clients else 0.0


@dataclass(frozen=True, slots=True)
class OverdueClient:
    client_id: int
    name: str
    days_overdue: int


@dataclass(frozen=True, slots=True)
class OwnerOverdue:
    owner_id: int | None  # None: clients nobody owns
    owner: str
    clients: tuple[OverdueClient, ...]

    @property
    def count(self) -> int:
        return len(self.clients)


@dataclass(frozen=True, slots=True)
class HeatRow:
    client_id: int
    client: str
    counts: tuple[int, ...]  # touches per week, oldest first, aligned with Dashboard.weeks
    last_touch_on: date | None


@dataclass(frozen=True, slots=True)
class PersonLoad:
    person_id: int
    person: str
    role: Role
    owned: int
    target: LoadTarget | None
    status: LoadStatus


@dataclass(frozen=True, slots=True)
class SingleThreaded:
    client_id: int
    client: str
    person_id: int
    person: str


@dataclass(frozen=True, slots=True)
class Dashboard:
    today: date
    weeks: tuple[date, ...]  # Monday of each week, oldest first
    active_clients: int
    coverage: tuple[CoveragePoint, ...]
    overdue_by_owner: tuple[OwnerOverdue, ...]
    heatmap: tuple[HeatRow, ...]  # the quietest relationships first
    load: tuple[PersonLoad, ...]
    single_threaded: tuple[SingleThreaded, ...]
    repairs: tuple[str, ...]  # client names with a repair active or paused
    handoffs: tuple[str, ...]  # client names with a handoff not yet done
    thread_days: int
    captured_touches: int = 0  # touches in the weeks shown that came from capture
    typed_touches: int = 0  # and those people typed

    @property
    def overdue_total(self) -> int:
        return sum(o.count for o in self.overdue_by_owner)

    @property
    def captured_share(self) -> float:
        total = self.captured_touches + self.typed_touches
        return self.captured_touches / total if total else 0.0


def week_starts(today: date, weeks: int) -> tuple[date, ...]:
    monday = today - timedelta(days=today.weekday())
    return tuple(monday - timedelta(weeks=i) for i in range(weeks - 1, -1, -1))


def _load_status(owned: int, target: LoadTarget | None) -> LoadStatus:
    if target is None:
        return "no target"
    if owned < target.low:
        return "under"
    if owned > target.high:
        return "over"
    return "within"


def compute(
    *,
    today: date,
    config: CoreConfig,
    people: Sequence[Person],
    clients: Sequence[Client],
    facts: Sequence[TouchFact],
    last_before: dict[int, date],
    repair_client_ids: Sequence[int] = (),
    handoff_client_ids: Sequence[int] = (),
    weeks: int = 12,
    thread_days: int = 180,
) -> Dashboard:
    """The figures. `facts` are the touches on or after the earliest day any figure looks at;
    `last_before` holds each client's last touch before that day."""
    starts = week_starts(today, weeks)
    active = [c for c in clients if c.status is ClientStatus.ACTIVE]
    # An owner named in an import who has not used Touchbase yet is an invitation, said as such.
    names = {p.id: f"{p.display_name} (invited)" if p.pending else p.display_name for p in people}
    by_client: dict[int, list[TouchFact]] = defaultdict(list)
    for fact in facts:
        if fact.occurred_on <= today:
            by_client[fact.client_id].append(fact)

    def added_on(client: Client) -> date:
        return client.created_at.date() if client.created_at else today

    def last_on(client: Client, day: date) -> date | None:
        seen = [f.occurred_on for f in by_client.get(client.id, ()) if f.occurred_on <= day]
        for earlier in (last_before.get(client.id), client.last_contact_on):
            if earlier is not None and earlier <= day:
                seen.append(earlier)  # the last touch before the window, or known from an import
        return max(seen) if seen else None

    def due_on(client: Client, day: date) -> date:
        cadence = effective_cadence(client, config.default_cadence_days)
        return next_due(last_on(client, day), cadence, added_on(client), client.id)

    coverage = []
    for start in starts:
        end = min(start + timedelta(days=6), today)
        existing = [c for c in active if added_on(c) <= end]
        # A client never contacted is not covered, however new.
        within = sum(1 for c in existing if last_on(c, end) is not None and due_on(c, end) >= end)
        coverage.append(CoveragePoint(start, end, len(existing), within))

    overdue: dict[int | None, list[OverdueClient]] = defaultdict(list)
    for client in active:
        due = due_on(client, today)
        if due < today:
            overdue[client.owner_id].append(
                OverdueClient(client.id, client.name, (today - due).days)
            )
    overdue_rows = [
        OwnerOverdue(
            owner_id,
            names.get(owner_id, "someone who left") if owner_id is not None else "Nobody owns",
            tuple(sorted(items, key=lambda o: (-o.days_overdue, o.name.casefold()))),
        )
        for owner_id, items in overdue.items()
    ]
    overdue_rows.sort(key=lambda o: (-o.count, o.owner.casefold()))

    heat = []
    for client in active:
        counts = [0] * len(starts)
        for fact in by_client.get(client.id, ()):
            index = (fact.occurred_on - starts[0]).days // 7
            if 0 <= index < len(starts):
                counts[index] += 1
        heat.append(HeatRow(client.id, client.name, tuple(counts), last_on(client, today)))
    heat.sort(key=lambda r: (r.last_touch_on or date.min, r.client.casefold()))

    owned: dict[int, int] = defaultdict(int)
    for client in active:
        if client.owner_id is not None:
            owned[client.owner_id] += 1
    load = []
    for person in people:
        if person.pending:
            continue  # an invitation from an import: not someone at the firm in Touchbase yet
        target = config.load_targets.get(person.role)
        count = owned.get(person.id, 0)
        load.append(
            PersonLoad(
                person.id,
                person.display_name,
                person.role,
                count,
                target,
                _load_status(count, target),
            )
        )
    load.sort(key=lambda p: (-p.owned, p.person.casefold()))

    thread_since = today - timedelta(days=thread_days)
    single = []
    for client in active:
        who = {f.person_id for f in by_client.get(client.id, ()) if f.occurred_on > thread_since}
        if len(who) == 1:
            (person_id,) = who
            single.append(
                SingleThreaded(
                    client.id, client.name, person_id, names.get(person_id, "someone who left")
                )
            )
    single.sort(key=lambda s: s.client.casefold())

    client_names = {c.id: c.name for c in clients}
    shown = [f for f in facts if starts[0] <= f.occurred_on <= today]
    captured = sum(1 for f in shown if f.captured)
    return Dashboard(
        today=today,
        weeks=starts,
        active_clients=len(active),
        coverage=tuple(coverage),
        overdue_by_owner=tuple(overdue_rows),
        heatmap=tuple(heat),
        load=tuple(load),
        single_threaded=tuple(single),
        repairs=tuple(sorted(client_names.get(i, "?") for i in repair_client_ids)),
        handoffs=tuple(sorted(client_names.get(i, "?") for i in handoff_client_ids)),
        thread_days=thread_days,
        captured_touches=captured,
        typed_touches=len(shown) - captured,
    )


async def firm_dashboard(
    reports: ReportsRepo,
    today: date,
    config: CoreConfig,
    *,
    weeks: int = 12,
    thread_days: int = 180,
) -> Dashboard:
    """Read what the figures need through the reports port, then compute them."""
    since = min(week_starts(today, weeks)[0], today - timedelta(days=thread_days))
    return compute(
        today=today,
        config=config,
        people=await reports.people(),
        clients=await reports.clients(),
        facts=await reports.touch_facts(since),
        last_before=await reports.last_touch_before(since),
        repair_client_ids=await reports.open_repairs(),
        handoff_client_ids=await reports.open_handoffs(),
        weeks=weeks,
        thread_days=thread_days,
    )
