"""Repairing a relationship that has gone wrong, as a state machine over a plain `Repair`.

The four steps, in order:

1. **finish**: finish the work and correct what went wrong. The owner says what must be done
   and by when; a reminder comes each workday until it is marked done (later when overdue).
2. **breathing**: a short pause (`CoreConfig.breathing_days`, 7 by default, changeable) in
   which the client's routine contact reminders are muted.
3. **ice**: break the ice, humbly. A checklist and a self-check; the step is complete once the
   owner logs a touch for the client dated on or after the day the step began.
4. **forward**: no more apologies; regular contact on a tighter rhythm, half the normal
   cadence for `CoreConfig.forward_days` (90). Then the repair is done and the cadence goes
   back to normal by itself (the adjustment simply expires).

Every function here is pure: it takes a repair and a date (from the injected clock) and returns
a new repair. Changes that depend only on time (the end of the breathing period, the end of the
go-forward phase) and on logged touches are computed lazily by `settle`, so nothing has to run
at midnight and a restart loses nothing: the database row plus today's date say it all.

Paused repairs: no repair reminders, no mute, no tighter cadence; the client is treated as
usual. The clock stops while paused: on resume, a breathing period or go-forward phase that was
under way is extended by the days spent paused. A touch logged while paused still counts for
the ice step once the repair resumes.

Who may start or steer a repair: the client's owner, the repair's owner, a principal or an
admin. Everyone else may only learn that a repair is under way, never its notes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from bot.clock import zone
from bot.config import CoreConfig
from bot.domain import Client, Person, Role
from bot.messages import Action, Style
from bot.nudges import ClientAdjustment, Nudge
from bot.ports import UnitOfWork
from bot.repair_ports import OPEN, Repair, Status, Step

FORWARD_CADENCE_FACTOR = 0.5  # "go forward": contact twice as often as usual
MAX_BREATHING_DAYS = 60
FINISH_URGENCY = 5.0
ICE_URGENCY = 5.0

STEP_NUMBER = {Step.FINISH: 1, Step.BREATHING: 2, Step.ICE: 3, Step.FORWARD: 4}
STEP_NAME = {
    Step.FINISH: "put it right",
    Step.BREATHING: "give them room",
    Step.ICE: "break the ice, humbly",
    Step.FORWARD: "go forward",
    Step.DONE: "done",
}

# The ice checklist: stable keys (stored) and what each asks of the owner.
CHECKLIST: tuple[tuple[str, str], ...] = (
    ("responsibility", "Own the problems we caused, without excuses."),
    ("mistakes", "Say plainly what we got wrong."),
    ("differently", "Ask what we could have done differently."),
    (
        "their_side",
        "If they see mistakes on their side, let them raise them; don't point them out.",
    ),
)
SELF_CHECK: tuple[str, ...] = (
    "Am I ready to listen more than I talk?",
    "Could I hear their account without defending ours, even if it stings?",
    "Am I calling because I care about them, or only to keep the account?",
)


class RepairError(Exception):
    """A step that cannot be taken now; the message says why, in plain words."""


def _iso(day: date) -> str:
    return day.isoformat()


def _with(r: Repair, now: datetime, **changes: Any) -> Repair:
    return replace(r, updated_at=now, **changes)


def _bag(r: Repair, **values: Any) -> dict[str, Any]:
    bag = dict(r.checklist)
    for key, value in values.items():
        if value is None:
            bag.pop(key, None)
        else:
            bag[key] = value
    return bag


# --- who may ---------------------------------------------------------------------------------


def may_steer(person: Person, client: Client, repair: Repair | None = None) -> bool:
    """The client's owner, the repair's owner, a principal or an admin."""
    if person.role in (Role.PRINCIPAL, Role.ADMIN) or person.id == client.owner_id:
        return True
    return repair is not None and person.id == repair.owner_id


# --- the transitions -------------------------------------------------------------------------


def start(
    *,
    client_id: int,
    owner_id: int | None,
    started_by_id: int,
    reason: str,
    now: datetime,
    config: CoreConfig,
) -> Repair:
    reason = " ".join(reason.split())
    if not reason:
        raise RepairError("Say in a few words what went wrong.")
    return Repair(
        id=0,
        client_id=client_id,
        owner_id=owner_id if owner_id is not None else started_by_id,
        started_by_id=started_by_id,
        reason=reason,
        step=Step.FINISH,
        status=Status.ACTIVE,
        started_at=now,
        updated_at=now,
        breathing_days=config.breathing_days,
        checklist={"forward_days": config.forward_days},
    )


def _require(r: Repair, step: Step, what: str) -> None:
    if r.status is not Status.ACTIVE:
        state = "paused" if r.status is Status.PAUSED else "closed"
        raise RepairError(f"This repair is {state}, so you can't {what} now.")
    if r.step is not step:
        raise RepairError(
            f"That belongs to step {STEP_NUMBER.get(step, 4)} ({STEP_NAME[step]}); "
            f"this repair is at {describe_step(r)}."
        )


def set_task(r: Repair, task: str, due_on: date, today: date, now: datetime) -> Repair:
    _require(r, Step.FINISH, "change the task")
    task = task.strip()
    if not task:
        raise RepairError("Say what must be finished or corrected.")
    if due_on < today:
        raise RepairError("Pick today or a later date.")
    return _with(r, now, task=task, task_due_on=due_on)


def put_right(r: Repair, today: date, now: datetime) -> Repair:
    """Step 1 is done: the breathing period starts today."""
    _require(r, Step.FINISH, "mark the task done")
    return _with(
        r,
        now,
        step=Step.BREATHING,
        breathing_until=today + timedelta(days=r.breathing_days),
        checklist=_bag(r, breathing_from=_iso(today), done_on=None),
    )


def set_breathing_days(r: Repair, days: int, today: date, now: datetime) -> Repair:
    """Change the breathing period: ahead of time (step 1) or while it runs (step 2)."""
    if r.status is not Status.ACTIVE and r.status is not Status.PAUSED:
        raise RepairError("This repair is closed.")
    if not 1 <= days <= MAX_BREATHING_DAYS:
        raise RepairError(f"Choose between 1 and {MAX_BREATHING_DAYS} days.")
    if r.step is Step.FINISH:
        return _with(r, now, breathing_days=days)
    if r.step is not Step.BREATHING:
        raise RepairError("The breathing period is already behind this repair.")
    began = r.day("breathing_from") or today
    return _with(r, now, breathing_days=days, breathing_until=began + timedelta(days=days))


def tick(r: Repair, keys: Sequence[str], now: datetime) -> Repair:
    """Record which items of the ice checklist the owner has covered."""
    _require(r, Step.ICE, "tick the checklist")
    known = [k for k, _ in CHECKLIST if k in set(keys)]
    return _with(r, now, checklist=_bag(r, ticked=known))


def conversation_held(r: Repair, on: date, now: datetime) -> Repair:
    """Step 3 is done: the owner has spoken with the client on `on`. Go forward from there."""
    _require(r, Step.ICE, "log the conversation")
    return _with(
        r,
        now,
        step=Step.FORWARD,
        forward_until=on + timedelta(days=r.forward_days),
        checklist=_bag(r, forward_from=_iso(on)),
    )


def pause(r: Repair, today: date, now: datetime) -> Repair:
    if r.status is Status.PAUSED:
        raise RepairError("This repair is already paused.")
    if r.status is not Status.ACTIVE:
        raise RepairError("This repair is closed.")
    return _with(r, now, status=Status.PAUSED, checklist=_bag(r, paused_on=_iso(today)))


def resume(r: Repair, today: date, now: datetime) -> Repair:
    """Back to active; a running breathing period or go-forward phase is extended by the pause."""
    if r.status is not Status.PAUSED:
        raise RepairError("This repair isn't paused.")
    paused_on = r.day("paused_on") or today
    gap = timedelta(days=max(0, (today - paused_on).days))
    changes: dict[str, Any] = {}
    if r.step is Step.BREATHING and r.breathing_until is not None:
        changes["breathing_until"] = r.breathing_until + gap
    if r.step is Step.FORWARD and r.forward_until is not None:
        changes["forward_until"] = r.forward_until + gap
    return _with(r, now, status=Status.ACTIVE, checklist=_bag(r, paused_on=None), **changes)


def cancel(r: Repair, reason: str, now: datetime) -> Repair:
    if r.status not in OPEN:
        raise RepairError("This repair is already closed.")
    reason = " ".join(reason.split())
    if not reason:
        raise RepairError("Say briefly why the repair is being cancelled.")
    return _with(r, now, status=Status.CANCELLED, cancel_reason=reason)


def restart(r: Repair, now: datetime, config: CoreConfig) -> Repair:
    """Back to step 1, keeping what went wrong; task, dates and answers are cleared."""
    if r.status not in OPEN:
        raise RepairError("This repair is closed; start a new one instead.")
    return _with(
        r,
        now,
        step=Step.FINISH,
        status=Status.ACTIVE,
        task=None,
        task_due_on=None,
        breathing_days=config.breathing_days,
        breathing_until=None,
        forward_until=None,
        checklist={"forward_days": config.forward_days},
        started_at=now,
    )


def settle(r: Repair, today: date, first_touch_on: date | None = None) -> Repair:
    """The repair as it stands on `today`: what time (and a logged conversation) has moved on.

    `first_touch_on` is the earliest touch by the owner dated on or after the ice step began
    (see `ice_from`); pass it once the repair has reached the ice step. Pure and idempotent;
    `updated_at` is left alone, so the caller can tell whether anything moved by comparing steps.
    """
    if r.status is not Status.ACTIVE:
        return r
    if r.step is Step.BREATHING and r.breathing_until is not None and today >= r.breathing_until:
        r = replace(r, step=Step.ICE, checklist=_bag(r, ice_from=_iso(r.breathing_until)))
    if r.step is Step.ICE and first_touch_on is not None:
        began = ice_from(r)
        if began is not None and began <= first_touch_on <= today and r.forward_until is None:
            r = replace(
                r,
                step=Step.FORWARD,
                forward_until=first_touch_on + timedelta(days=r.forward_days),
                checklist=_bag(r, forward_from=_iso(first_touch_on)),
            )
    if r.step is Step.FORWARD and r.forward_until is not None and today >= r.forward_until:
        r = replace(r, step=Step.DONE, status=Status.DONE, checklist=_bag(r, done_on=_iso(today)))
    return r


def ice_from(r: Repair) -> date | None:
    """The day the ice step began: the end of the breathing period."""
    return r.day("ice_from") or r.breathing_until


# --- what the rest of Touchbase sees ---------------------------------------------------------


def describe_step(r: Repair) -> str:
    if r.step is Step.DONE or r.status is Status.DONE:
        return "the end: it's done"
    return f"step {STEP_NUMBER[r.step]} of 4 ({STEP_NAME[r.step]})"


def adjustment(r: Repair, today: date) -> ClientAdjustment | None:
    """How this repair changes the client's routine contact schedule on `today`, if at all."""
    if r.status is not Status.ACTIVE:
        return None
    if r.step is Step.BREATHING and r.breathing_until is not None and today < r.breathing_until:
        return ClientAdjustment(
            client_id=r.client_id,
            until=r.breathing_until,
            mute=True,
            reason=f"repair {r.id}: breathing period",
        )
    if r.step is Step.FORWARD and r.forward_until is not None and today < r.forward_until:
        return ClientAdjustment(
            client_id=r.client_id,
            until=r.forward_until,
            cadence_factor=FORWARD_CADENCE_FACTOR,
            reason=f"repair {r.id}: going forward",
        )
    return None


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def nudges(r: Repair, client_name: str, today: date) -> list[Nudge]:
    """The owner's digest items for this repair on `today` (settle it first)."""
    if r.status is not Status.ACTIVE or r.owner_id is None:
        return []
    open_repair = Action("repair_status", "Open the repair", str(r.client_id))
    if r.step is Step.FINISH:
        done = Action("repair_put_right", "Done: it's put right", str(r.id), Style.PRIMARY)
        if not r.task or r.task_due_on is None:
            return [
                Nudge(
                    key=f"repair:{r.id}:finish",
                    person_id=r.owner_id,
                    kind="repair",
                    urgency=FINISH_URGENCY,
                    title=f"{client_name}: decide what must be put right",
                    detail="Repair, step 1: say what must be finished or corrected, and by when.",
                    client_id=r.client_id,
                    actions=(Action("repair_task_open", "Set the task", str(r.id)), done),
                )
            ]
        late = (today - r.task_due_on).days
        if late > 0:
            title = f"{client_name}: the repair task is {_days(late)} late"
            urgency = FINISH_URGENCY + 1 + min(late, 6) / 2
        else:
            due = "today" if late == 0 else f"by {r.task_due_on:%a %d %b}"
            title = f"{client_name}: finish the repair task {due}"
            urgency = FINISH_URGENCY
        return [
            Nudge(
                key=f"repair:{r.id}:finish",
                person_id=r.owner_id,
                kind="repair",
                urgency=urgency,
                title=title,
                detail=f"Repair, step 1: {r.task}",
                client_id=r.client_id,
                actions=(done, open_repair),
            )
        ]
    if r.step is Step.ICE:
        return [
            Nudge(
                key=f"repair:{r.id}:ice",
                person_id=r.owner_id,
                kind="repair",
                urgency=ICE_URGENCY,
                title=f"{client_name}: time to break the ice, humbly",
                detail=(
                    "Repair, step 3: own what we got wrong, ask what we could have done "
                    "differently, and listen. Log the conversation as a touch."
                ),
                client_id=r.client_id,
                actions=(open_repair,),
            )
        ]
    return []


# --- trouble in a touch note -----------------------------------------------------------------

_TROUBLE = re.compile(
    r"#repair\b"
    r"|\b(?:complain(?:ed|s|ing|t|ts)?|upset|angry|annoyed|furious|livid|irate"
    r"|escalat(?:ed|es|ing|ion)|unhappy|dissatisfied|disappointed|frustrat(?:ed|ing|ion)"
    r"|fed up|lost (?:their|his|her) (?:trust|patience)|not happy)\b"
    r"|\bmiss(?:ed|ing)? (?:the |a |our |their |another )?(?:filing |court |tax )?"
    r"(?:deadline|due date)s?\b"
    r"|\bthreaten(?:ed|ing|s)? to (?:leave|walk|go elsewhere|move|switch|pull|take)"
    r"|\b(?:thinking|talking) (?:about|of) leaving\b"
    r"|\bwants? to (?:leave|switch firms)\b",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"\b(?:not|no longer|never|wasn't|weren't|isn't|aren't|didn't|no)\s+(?:\w+\s+)?$",
    re.IGNORECASE,
)


def reads_as_trouble(note: str) -> bool:
    """Whether a touch note suggests the relationship needs repair: a complaint, anger, an
    escalation, a missed deadline, a threat to leave, or an explicit "#repair" flag.
    Plainly negated words ("not upset", "no longer angry") do not count."""
    for m in _TROUBLE.finditer(note):
        if m.group(0).startswith("#"):
            return True
        before = note[max(0, m.start() - 30) : m.start()]
        if m.group(0).lower() == "not happy" or not _NEGATED.search(before):
            return True
    return False


# --- reading and bringing up to date ---------------------------------------------------------


async def settled(uow: UnitOfWork, r: Repair, today: date, config: CoreConfig) -> Repair:
    """`settle` with the owner's logged touches looked up as needed. The repair follows the
    client when it changes hands: its reminders go to the client's current owner."""
    client = await uow.clients.get(r.client_id)
    if client is not None and client.owner_id is not None and client.owner_id != r.owner_id:
        r = replace(r, owner_id=client.owner_id)
    r = settle(r, today)
    if r.status is Status.ACTIVE and r.step is Step.ICE and r.owner_id is not None:
        began = ice_from(r)
        if began is not None:
            first = await uow.repairs.first_touch_by(r.client_id, r.owner_id, began)
            r = settle(r, today, first)
    return r


async def _settled_open(
    uow: UnitOfWork, now: datetime, config: CoreConfig
) -> list[tuple[Repair, date]]:
    repairs = [r for r in await uow.repairs.open_list() if r.status is Status.ACTIVE]
    if not repairs:
        return []
    zones: dict[int, str | None] = {}
    for owner_id in sorted({r.owner_id for r in repairs if r.owner_id is not None}):
        owner = await uow.people.get(owner_id)
        zones[owner_id] = owner.tz if owner is not None else None
    out: list[tuple[Repair, date]] = []
    for r in repairs:
        tz = zones.get(r.owner_id) if r.owner_id is not None else None
        today = now.astimezone(zone(tz, config.default_tz)).date()
        out.append((await settled(uow, r, today, config), today))
    return out


class RepairSource:
    """Repair steps in the owner's digest, and the breathing/go-forward schedule adjustments.

    Read only: a repair that time has moved on is settled in memory here, and written back the
    next time someone opens it."""

    async def nudges(
        self,
        uow: UnitOfWork,
        person_ids: Sequence[int] | None,
        now: datetime,
        config: CoreConfig,
    ) -> list[Nudge]:
        wanted = set(person_ids) if person_ids is not None else None
        out: list[Nudge] = []
        for r, today in await _settled_open(uow, now, config):
            if r.owner_id is None or (wanted is not None and r.owner_id not in wanted):
                continue
            client = await uow.clients.get(r.client_id)
            if client is not None:
                out.extend(nudges(r, client.name, today))
        return out

    async def adjustments(
        self, uow: UnitOfWork, now: datetime, config: CoreConfig
    ) -> list[ClientAdjustment]:
        out: list[ClientAdjustment] = []
        for r, today in await _settled_open(uow, now, config):
            adj = adjustment(r, today)
            if adj is not None:
                out.append(adj)
        return out
