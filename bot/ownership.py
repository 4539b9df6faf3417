"""Client ownership: who may hand a client on, the personal handoff, client care after a closeout,
a person's portfolio, and the weekly firm summary.

Clients relate to a person, not to a firm, and resent being passed along. So a change of owner is
never just a field update: the old owner introduces the new one in person, they share what they
know, and the client's key people hear it from them. The rules are pure functions of data and a
date; the use cases at the end read and write through the unit of work.
"""

from __future__ import annotations

import enum
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.clock import Clock, zone
from bot.config import CoreConfig, LoadTarget
from bot.domain import WEEKDAYS, Client, ClientStatus, Person, Platform, Role
from bot.messages import Action, CheckItem, Message, Section, Tone
from bot.nudges import Nudge
from bot.ownership_ports import (
    HANDOFF_STEPS,
    INTRO,
    NOTES,
    PEOPLE,
    ActivityFacts,
    CareDue,
    Handoff,
)
from bot.ports import DeliveryError, Messenger, Store, UnitOfWork
from bot.rules import effective_cadence, next_due
from bot.text import pack, plural, stop, when

log = logging.getLogger(__name__)

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --- permissions ---------------------------------------------------------------------------------


def can_change_owner(actor: Person, client: Client, new_owner: Person) -> bool:
    """The current owner, a principal or an admin may hand a client on. A client nobody owns
    may also be taken by anyone for themselves."""
    if actor.role in (Role.PRINCIPAL, Role.ADMIN) or actor.id == client.owner_id:
        return True
    return client.owner_id is None and new_owner.id == actor.id


def can_mark_handoff(actor: Person, handoff: Handoff) -> bool:
    return actor.id in (handoff.from_person_id, handoff.to_person_id) or actor.role in (
        Role.PRINCIPAL,
        Role.ADMIN,
    )


# --- the handoff checklist -------------------------------------------------------------------------


def step_text(step: str, client: str, old: str, new: str) -> str:
    if step == INTRO:
        return f"{old} introduces {new} to {client} in person: a joint call or lunch"
    if step == NOTES:
        return f"{old} shares notes and {client}'s preferences with {new}"
    return f"{old} tells {client}'s key people that {new} is their person now"


STEP_BUTTONS = {INTRO: "Introduced in person", NOTES: "Notes shared", PEOPLE: "Key people told"}


def step_actions(handoff: Handoff, side: str | None = None) -> tuple[Action, ...]:
    """A button per open step; with `side` ("old" or "new"), only the steps that are theirs."""
    return tuple(
        Action("handoff_step", STEP_BUTTONS[step], pack(h=handoff.id, s=step))
        for step in HANDOFF_STEPS
        if step not in handoff.steps_done and (side is None or side in STEP_OWNERS[step])
    )


def checklist(handoff: Handoff, client: str, old: str, new: str) -> tuple[CheckItem, ...]:
    return tuple(
        CheckItem(step_text(step, client, old, new), done=step in handoff.steps_done)
        for step in HANDOFF_STEPS
    )


def handoff_section(
    handoff: Handoff, client: str, old: str, new: str, today: date, *, buttons: bool = True
) -> Section:
    return Section(
        heading=f"Handoff from {old} to {new}",
        checklist=checklist(handoff, client, old, new),
        context=stop(
            f"Started {when(handoff.started_on, today)}. Settled once every step is done or "
            f"{new} has logged a touch with {client}"
        ),
        actions=step_actions(handoff) if buttons else (),
    )


HANDOFF = "handoff"
CARE = "care"


# Whose part each step is. The old owner is the one the client trusts, so the introduction and
# telling the key people are theirs; the notes take both of them. The new owner's own part, beyond
# the notes, is to get in touch with the client: their first touch settles the handoff.
OLD_OWNER = "old"
NEW_OWNER = "new"
STEP_OWNERS: dict[str, tuple[str, ...]] = {
    INTRO: (OLD_OWNER,),
    NOTES: (OLD_OWNER, NEW_OWNER),
    PEOPLE: (OLD_OWNER,),
}


def open_steps(handoff: Handoff, side: str) -> list[str]:
    """The steps still to do that are `side`'s part ("old" or "new"), in checklist order."""
    return [s for s in HANDOFF_STEPS if s not in handoff.steps_done and side in STEP_OWNERS[s]]


def old_owner_title(step: str, client: str, new: str) -> str:
    if step == INTRO:
        return f"{client}: introduce {new} in person"
    if step == NOTES:
        return f"{client}: share your notes and {client}'s preferences with {new}"
    return f"{client}: tell {client}'s key people that {new} is their person now"


def new_owner_title(handoff: Handoff, client: str, old: str) -> str:
    if NOTES in open_steps(handoff, NEW_OWNER):
        return f"{client}: you are their person now. Go through {old}'s notes on them"
    return f"{client}: you are their person now. Get in touch with them"


def handoff_nudges(
    handoff: Handoff, client: str, names: Mapping[int, str], today: date
) -> list[Nudge]:
    """While a handoff is under way, each owner's nudge names their next open step
    (`STEP_OWNERS`). The old owner's nudge ends once their steps are done; the new owner's asks
    them to get in touch with the client once the notes are shared, until they have. The new
    owner's first touch with the client, or a finished checklist, ends both."""
    if not handoff.under_way:
        return []
    old = names.get(handoff.from_person_id or 0, "the previous owner")
    new = names.get(handoff.to_person_id or 0, "the new owner")
    waited = max(0, (today - handoff.started_on).days)
    left = [s for s in HANDOFF_STEPS if s not in handoff.steps_done]
    detail = "Still to do: " + "; ".join(step_text(s, client, old, new) for s in left) + "."
    out: list[Nudge] = []
    if handoff.to_person_id is not None:
        out.append(
            Nudge(
                key=f"handoff:{handoff.id}",
                person_id=handoff.to_person_id,
                kind=HANDOFF,
                urgency=5.0 + waited / 7,
                title=new_owner_title(handoff, client, old),
                detail=detail + f" Your first call or meeting with {client} settles the handoff.",
                client_id=handoff.client_id,
                actions=step_actions(handoff, NEW_OWNER),
            )
        )
    mine = open_steps(handoff, OLD_OWNER)
    if handoff.from_person_id is not None and mine:
        out.append(
            Nudge(
                key=f"handoff:{handoff.id}",
                person_id=handoff.from_person_id,
                kind=HANDOFF,
                urgency=5.0 + waited / 7,
                title=old_owner_title(mine[0], client, new),
                detail=detail,
                client_id=handoff.client_id,
                actions=step_actions(handoff, OLD_OWNER),
            )
        )
    return out


# --- client care after a closeout ----------------------------------------------------------------


def care_label(days: int) -> str:
    """14 -> "2-week", 90 -> "3-month", 10 -> "10-day"."""
    if days >= 60 and days % 30 in (0, 1, 29):
        return f"{round(days / 30)}-month"
    if days % 7 == 0:
        return f"{days // 7}-week"
    return f"{days}-day"


def next_workday(day: date, workdays: Sequence[int] = WEEKDAYS) -> date:
    """`day`, or the first of the owner's workdays after it (a Saturday moves to Monday)."""
    if not workdays:
        return day
    while day.weekday() not in workdays:
        day += timedelta(days=1)
    return day


def care_plan(
    closed_on: date, days: Iterable[int], workdays: Sequence[int] = WEEKDAYS
) -> list[tuple[str, date]]:
    """The check-ins after a closeout, each on the owner's next workday from its nominal date."""
    return [
        (care_label(d), next_workday(closed_on + timedelta(days=d), workdays))
        for d in sorted(set(days))
    ]


def care_nudge(due: CareDue, today: date) -> Nudge | None:
    """A check-in for the client's owner from its due date until someone at the firm has been in
    touch with the client since, or it is marked done."""
    c = due.checkin
    if c.done_at is not None or due.touched_on is not None or c.due_on > today:
        return None
    if due.owner_id is None:
        return None
    late = (today - c.due_on).days
    return Nudge(
        key=f"care:{c.id}",
        person_id=due.owner_id,
        kind=CARE,
        urgency=2.0 + late / 7,
        title=f"{due.client_name}: {c.label} check-in since the work ended",
        detail=(
            "Ask how things have gone since the project. Nothing to sell: the point is that "
            "they hear from us when we are not after work."
        ),
        client_id=c.client_id,
        actions=(Action("care_done", "Checked in", str(c.id)),),
    )


# --- the portfolio -------------------------------------------------------------------------------


class Health(enum.StrEnum):
    IN_REPAIR = "in repair"
    IN_HANDOFF = "in handoff"
    AWAITING = "awaiting reply"
    OVERDUE = "overdue"
    DUE = "due"
    NEVER_CONTACTED = "never contacted"
    HEALTHY = "healthy"


HEALTH_ORDER = tuple(Health)  # the order a portfolio lists them in
DUE_SOON_DAYS = 7


def client_health(
    due_on: date,
    today: date,
    *,
    in_repair: bool,
    in_handoff: bool,
    awaiting: bool,
    touched: bool = True,
) -> Health:
    """One status per client, the one that needs the most care first. A client nobody has
    contacted yet is never called healthy: it is "never contacted" until its first touch (and
    overdue once its first contact date has passed)."""
    if in_repair:
        return Health.IN_REPAIR
    if in_handoff:
        return Health.IN_HANDOFF
    if awaiting:
        return Health.AWAITING
    if due_on < today:
        return Health.OVERDUE
    if not touched:
        return Health.NEVER_CONTACTED
    if (due_on - today).days < DUE_SOON_DAYS:
        return Health.DUE
    return Health.HEALTHY


LoadStatus = str  # "under" | "within" | "over" | "no target"


def load_status(
    role: Role, owned: int, targets: Mapping[Role, LoadTarget]
) -> tuple[LoadTarget | None, LoadStatus]:
    target = targets.get(role)
    if target is None:
        return None, "no target"
    if owned < target.low:
        return target, "under"
    if owned > target.high:
        return target, "over"
    return target, "within"


@dataclass(frozen=True, slots=True)
class PortfolioLine:
    client: Client
    last_touch_on: date | None
    next_due_on: date
    health: Health


@dataclass(frozen=True, slots=True)
class Portfolio:
    person: Person
    today: date
    lines: tuple[PortfolioLine, ...]
    target: LoadTarget | None
    load: LoadStatus

    @property
    def owned(self) -> int:
        return len(self.lines)


def counted(client: Client) -> bool:
    """Clients that count for load, coverage and the summary: all but inactive ones (as for the
    nudges and the digest's load line)."""
    return client.status not in (ClientStatus.INACTIVE, ClientStatus.ARCHIVED)


async def build_portfolio(
    uow: UnitOfWork, person: Person, today: date, config: CoreConfig
) -> Portfolio:
    clients = [c for c in await uow.clients.list(owner_id=person.id) if counted(c)]
    ids = [c.id for c in clients]
    last = await uow.clients.last_touch_on(ids)
    segments = {k: v for k, v in (await uow.ownership.segments()).items() if v}
    repairs = await uow.ownership.open_repairs()
    handoffs = {h.client_id for h in await uow.ownership.open_handoffs(ids) if h.under_way}
    awaiting = {a.client_id for a in await uow.nudges.awaiting_replies(None)}
    lines = []
    for c in clients:
        cadence = effective_cadence(c, config.default_cadence_days, segments)
        since = c.created_at.date() if c.created_at else today
        due_on = next_due(last.get(c.id), cadence, since, c.id)
        health = client_health(
            due_on,
            today,
            in_repair=c.id in repairs,
            in_handoff=c.id in handoffs,
            awaiting=c.id in awaiting,
            touched=c.id in last,
        )
        lines.append(PortfolioLine(c, last.get(c.id), due_on, health))
    lines.sort(
        key=lambda line: (HEALTH_ORDER.index(line.health), line.next_due_on, line.client.name)
    )
    target, load = load_status(person.role, len(lines), config.load_targets)
    return Portfolio(person, today, tuple(lines), target, load)


# --- the weekly firm summary ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadLine:
    person: str
    owned: int
    target: LoadTarget


@dataclass(frozen=True, slots=True)
class SummaryFigures:
    """What the firm's channel sees each week. Names and counts only: never note text."""

    today: date
    clients: int
    within_cadence: int
    overdue_by_owner: tuple[tuple[str, tuple[str, ...]], ...]
    no_owner: tuple[str, ...]
    single_threaded: tuple[str, ...]
    over_target: tuple[LoadLine, ...]
    under_target: tuple[LoadLine, ...]
    open_repairs: tuple[str, ...]
    handoffs: tuple[tuple[str, str, str], ...]  # client, from, to
    thread_days: int = 180

    @property
    def coverage(self) -> float:
        return self.within_cadence / self.clients if self.clients else 1.0


def summary_figures(
    clients: Sequence[Client],
    people: Sequence[Person],
    facts: ActivityFacts,
    repairs: set[int],
    handoffs: Sequence[Handoff],
    segments: Mapping[str, int],
    today: date,
    config: CoreConfig,
) -> SummaryFigures:
    """The weekly figures, by these definitions:

    - counted clients are those not marked inactive;
    - *within cadence*: touched at least once, and the next due date (last touch plus its
      cadence: its own, else its segment's, else the firm's) is today or later; a client never
      contacted is not covered, nor overdue before its first contact date
      (`rules.first_contact_due`);
    - *overdue*: next due date before today, listed under the client's owner;
    - *single-threaded*: exactly one person at the firm has touched the client in the last
      `config.single_thread_days` days;
    - *load*: counted clients owned against the role's target (admins have none);
    - *handoffs under way*: not settled by a finished checklist or the new owner's touch.
    """
    names = {p.id: p.display_name for p in people}
    active = [c for c in clients if counted(c)]
    within = 0
    overdue: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for c in active:
        cadence = effective_cadence(c, config.default_cadence_days, dict(segments))
        since = c.created_at.date() if c.created_at else today
        last_on = facts.last_touch_on.get(c.id)
        due_on = next_due(last_on, cadence, since, c.id)
        if due_on >= today:
            within += last_on is not None  # never contacted is not covered
        elif c.owner_id is not None:
            overdue[c.owner_id].append(((today - due_on).days, c.name))
    by_owner = tuple(
        sorted(
            (
                (
                    names.get(owner, "someone"),
                    tuple(n for _, n in sorted(items, key=lambda i: (-i[0], i[1]))),
                )
                for owner, items in overdue.items()
            ),
            key=lambda item: item[0].casefold(),
        )
    )
    owned: dict[int, int] = defaultdict(int)
    for c in active:
        if c.owner_id is not None:
            owned[c.owner_id] += 1
    over: list[LoadLine] = []
    under: list[LoadLine] = []
    for p in sorted(people, key=lambda p: p.display_name.casefold()):
        target, status = load_status(p.role, owned[p.id], config.load_targets)
        if target is None:
            continue
        if status == "over":
            over.append(LoadLine(p.display_name, owned[p.id], target))
        elif status == "under":
            under.append(LoadLine(p.display_name, owned[p.id], target))
    by_id = {c.id: c for c in clients}
    return SummaryFigures(
        today=today,
        clients=len(active),
        within_cadence=within,
        overdue_by_owner=by_owner,
        no_owner=tuple(sorted(c.name for c in active if c.owner_id is None)),
        single_threaded=tuple(
            sorted(c.name for c in active if len(facts.touchers.get(c.id, ())) == 1)
        ),
        over_target=tuple(over),
        under_target=tuple(under),
        open_repairs=tuple(sorted(by_id[i].name for i in repairs if i in by_id)),
        handoffs=tuple(
            sorted(
                (
                    by_id[h.client_id].name,
                    names.get(h.from_person_id or 0, "nobody"),
                    names.get(h.to_person_id or 0, "nobody"),
                )
                for h in handoffs
                if h.under_way and h.client_id in by_id
            )
        ),
        thread_days=config.single_thread_days,
    )


def _names(items: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def summary_message(fig: SummaryFigures) -> Message:
    week = fig.today.isocalendar().week
    pct = round(fig.coverage * 100)
    sections: list[Section] = []
    if fig.overdue_by_owner:
        lines = [f"{owner} ({len(cs)}): {_names(cs)}" for owner, cs in fig.overdue_by_owner]
        sections.append(Section(heading="Overdue, by owner", text="\n".join(lines)))
    else:
        sections.append(Section(heading="Overdue, by owner", text="Nobody is overdue."))
    if fig.no_owner:
        sections.append(
            Section(
                heading=f"No owner ({len(fig.no_owner)})",
                text=_names(fig.no_owner) + ". Give each a person: /owner <client> @person",
            )
        )
    if fig.single_threaded:
        sections.append(
            Section(
                heading=f"Single-threaded ({len(fig.single_threaded)})",
                text=(
                    _names(fig.single_threaded)
                    + f". Only one of us has been in touch in {fig.thread_days} days; "
                    "one departure and the relationship goes with them."
                ),
            )
        )
    load_lines = [
        f"Over: {x.person}, {plural(x.owned, 'client')} (target {x.target.describe()})"
        for x in fig.over_target
    ] + [
        f"Under: {x.person}, {plural(x.owned, 'client')} (target {x.target.describe()})"
        for x in fig.under_target
    ]
    if load_lines:
        sections.append(Section(heading="Load against role targets", text="\n".join(load_lines)))
    if fig.open_repairs:
        sections.append(
            Section(
                heading=f"Repairs under way ({len(fig.open_repairs)})",
                text=_names(fig.open_repairs),
            )
        )
    if fig.handoffs:
        sections.append(
            Section(
                heading=f"Handoffs under way ({len(fig.handoffs)})",
                text="\n".join(f"{c}: {a} to {b}" for c, a, b in fig.handoffs),
            )
        )
    sections.append(
        Section(
            context=(
                "Within cadence: in touch at least as often as the client's plan. "
                "Type /clients for your own list."
            )
        )
    )
    return Message(
        text=(
            f"This week {pct}% of our clients are within their contact plan "
            f"({fig.within_cadence} of {plural(fig.clients, 'client')})."
        ),
        title=f"Client relationships, week {week}",
        sections=tuple(sections),
        tone=Tone.INFO,
        private=False,
    )


def week_key(day: date) -> str:
    iso = day.isocalendar()
    return f"summary:{iso.year}-W{iso.week:02d}"


def summary_day(now: datetime, config: CoreConfig) -> date | None:
    """The local date when the weekly summary should go out now, else None. It goes out on the
    configured weekday from the configured hour (firm time zone), and not on later days."""
    local = now.astimezone(zone(config.default_tz))
    if local.weekday() != config.summary_weekday or local.hour < config.summary_hour:
        return None
    return local.date()


async def weekly_figures(uow: UnitOfWork, today: date, config: CoreConfig) -> SummaryFigures:
    clients = await uow.clients.list()
    people = await uow.people.list()
    facts = await uow.ownership.activity(today - timedelta(days=config.single_thread_days))
    segments = {k: v for k, v in (await uow.ownership.segments()).items() if v}
    return summary_figures(
        clients,
        people,
        facts,
        await uow.ownership.open_repairs(),
        await uow.ownership.open_handoffs(),
        segments,
        today,
        config,
    )


LEASE = timedelta(minutes=10)


async def post_weekly_summaries(
    store: Store,
    messengers: Mapping[Platform, Messenger],
    clock: Clock,
    config: CoreConfig,
    *,
    workspace_id: int | None = None,
) -> dict[int, str]:
    """Post the week's summary to each workspace's relationships channel (or only to
    `workspace_id`'s), once per week however many processes run this. Returns what happened
    per workspace id (for logs and tests)."""
    now = clock.now()
    today = summary_day(now, config)
    if today is None:
        return {}
    key = week_key(today)
    outcome: dict[int, str] = {}
    for ws in await store.workspaces():
        if workspace_id is not None and ws.id != workspace_id:
            continue
        messenger = messengers.get(ws.platform)
        if ws.channel is None or messenger is None:
            continue
        async with store.unit(ws.id) as uow:
            if not await uow.ownership.claim_post(key, now, LEASE):
                continue
            message = summary_message(await weekly_figures(uow, today, config))
            await uow.commit()
        status = "sent"
        try:
            await messenger.send(ws.channel, message)
        except DeliveryError as exc:
            status = "failed" if exc.permanent else "retry"
            log.warning(
                "weekly summary not delivered",
                extra={"workspace": ws.id, "error": exc.detail, "permanent": exc.permanent},
            )
        except Exception:
            status = "retry"
            log.exception("weekly summary not delivered", extra={"workspace": ws.id})
        async with store.unit(ws.id) as uow:
            await uow.ownership.finish_post(key, status)
            await uow.commit()
        outcome[ws.id] = status
    return outcome


# --- nudge sources -------------------------------------------------------------------------------


def local_day(person: Person, now: datetime, default_tz: str) -> date:
    return now.astimezone(zone(person.tz, default_tz)).date()


async def people_by_id(uow: UnitOfWork, person_ids: Sequence[int]) -> dict[int, Person]:
    wanted = set(person_ids)
    return {p.id: p for p in await uow.people.list() if p.id in wanted}


class HandoffSource:
    """Both owners of a handoff under way, until the new owner has been in touch."""

    async def nudges(
        self,
        uow: UnitOfWork,
        person_ids: Sequence[int] | None,
        now: datetime,
        config: CoreConfig,
    ) -> list[Nudge]:
        handoffs = [h for h in await uow.ownership.open_handoffs() if h.under_way]
        if not handoffs:
            return []
        involved = {p for h in handoffs for p in (h.from_person_id, h.to_person_id) if p}
        wanted = involved if person_ids is None else involved & set(person_ids)
        everyone = await people_by_id(uow, sorted(involved))
        names = {pid: p.display_name for pid, p in everyone.items()}
        people = {pid: p for pid, p in everyone.items() if pid in wanted}
        today = now.astimezone(zone(config.default_tz)).date()
        out: list[Nudge] = []
        for h in handoffs:
            client = await uow.clients.get(h.client_id)
            if client is None:
                continue
            out.extend(
                n for n in handoff_nudges(h, client.name, names, today) if n.person_id in people
            )
        return out


class CareCheckinSource:
    """Client-care check-ins that have come due after a closeout."""

    async def nudges(
        self,
        uow: UnitOfWork,
        person_ids: Sequence[int] | None,
        now: datetime,
        config: CoreConfig,
    ) -> list[Nudge]:
        latest = (now + timedelta(days=1)).date()  # no zone on earth is more than a day ahead
        due = await uow.ownership.due_checkins(latest)
        if not due:
            return []
        owners = sorted({d.owner_id for d in due if d.owner_id is not None})
        wanted = owners if person_ids is None else [p for p in owners if p in set(person_ids)]
        people = await people_by_id(uow, wanted)
        out: list[Nudge] = []
        for d in due:
            person = people.get(d.owner_id or 0)
            if person is None:
                continue
            nudge = care_nudge(d, local_day(person, now, config.default_tz))
            if nudge is not None:
                out.append(nudge)
        return out
