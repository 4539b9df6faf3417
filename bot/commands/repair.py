"""/repair: walk a client's owner through repairing a relationship, one step at a time.

    /repair Acme missed the filing deadline     start (owner, principal or admin)
    /repair Acme                                 where it stands (also: /repair Acme status)
    /repair Acme breathe 10                      change the breathing period
    /repair Acme pause | resume | restart
    /repair Acme cancel <why>

The rules live in `bot.repair`; this module only reads, writes and words things. Notes (what
went wrong, the task, what the client said, why it was cancelled) are private history events:
only the owner, principals and admins see them. Everyone else sees that a repair is under way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from bot import repair as rules
from bot.app import Context, Registry, Reply
from bot.commands.touch import touch_form
from bot.domain import Client, Touch
from bot.messages import (
    Action,
    CheckItem,
    Field,
    Form,
    FormErrors,
    FormInput,
    InputKind,
    Message,
    Section,
    Style,
    Tone,
    error,
)
from bot.nudges import add_business_days
from bot.parsing import ClientName
from bot.repair_ports import Repair, RepairAlreadyOpen, Status, Step
from bot.resolve import client_problem, find_client
from bot.rules import effective_cadence
from bot.text import clip, pack, plural, row_id, stop, unpack

USAGE = "Try: /repair Acme missed the filing deadline"
SUBCOMMANDS = ("status", "pause", "resume", "cancel", "restart", "breathe")
TASK_FORM = "repair_task"
BREATHE_FORM = "repair_breathe"
CHECKLIST_FORM = "repair_checklist"
CANCEL_FORM = "repair_cancel"
_TRUE = ("1", "true", "yes", "y", "on", "checked")


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b}"


_id = row_id


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _plain(text: str, limit: int = 1000) -> str:
    """Typed text as it is kept: no control characters, spaces collapsed, at most `limit`."""
    return clip(_CONTROL.sub(" ", text), limit)


# --- finding the client and the repair --------------------------------------------------------


async def _client_and_rest(ctx: Context, text: str) -> tuple[Client, str] | Message:
    found = await find_client(ctx.uow.clients, text, at_start=True)
    if found.client is None:

        def status(c: ClientName) -> Action:
            return Action("repair_status", clip(c.name, 60), str(c.id))

        return client_problem(found, USAGE, button=status)
    return found.client, found.rest


async def _open_repair(ctx: Context, client: Client) -> Repair | None:
    """The client's open repair, brought up to date with the clock and logged touches."""
    r = await ctx.uow.repairs.open_for(client.id)
    return await _up_to_date(ctx, client, r) if r is not None else None


async def _up_to_date(ctx: Context, client: Client, r: Repair) -> Repair:
    """Write back what time and logged touches have moved on, with a history line for each."""
    after = await rules.settled(ctx.uow, r, ctx.today(), ctx.config)
    if (after.step, after.status, after.owner_id) == (r.step, r.status, r.owner_id):
        return r
    order = [Step.FINISH, Step.BREATHING, Step.ICE, Step.FORWARD, Step.DONE]
    passed = order[order.index(r.step) + 1 : order.index(after.step) + 1]
    for step in passed:
        if step is Step.ICE:
            await _event(ctx, after, "repair_ice", "Repair: breathing period over.", by_me=False)
        elif step is Step.FORWARD:
            held = after.day("forward_from")
            on = f" on {_day(held)}" if held else ""
            await _event(
                ctx,
                after,
                "repair_forward",
                f"Repair: conversation held{on}; going forward.",
                by_me=False,
            )
        elif step is Step.DONE:
            await _event(
                ctx, after, "repair_done", "Repair complete: back to the usual rhythm.", by_me=False
            )
    return await ctx.uow.repairs.save(after)


async def _event(
    ctx: Context,
    r: Repair,
    kind: str,
    summary: str,
    *,
    private: bool = False,
    by_me: bool = True,
) -> None:
    person = ctx.person.id if by_me else None
    await ctx.uow.history.add_event(r.client_id, person, kind, summary, private=private)


async def _by_id(ctx: Context, value: str) -> tuple[Client, Repair] | Message:
    repair_id = _id(value)
    r = await ctx.uow.repairs.get(repair_id) if repair_id is not None else None
    client = await ctx.uow.clients.get(r.client_id) if r is not None else None
    if r is None or client is None:
        return error("That repair is no longer there.", USAGE)
    if not rules.may_steer(ctx.person, client, r):
        return _refusal(ctx, client, "change this repair")
    if not r.is_open:
        return _closed(client, r)
    return client, await _up_to_date(ctx, client, r)


def _closed(client: Client, r: Repair) -> Message:
    how = "was cancelled" if r.status is Status.CANCELLED else "is complete"
    return Message(
        text=f"That repair for {client.name} {how}.",
        actions=(Action("repair_status", "Where things stand", str(client.id)),),
    )


def _refusal(ctx: Context, client: Client, what: str) -> Message:
    return error(
        f"Only {client.name}'s owner, a principal or an admin can {what}.",
        "If something has gone wrong with this client, tell its owner: they'll want to know.",
    )


# --- what people see --------------------------------------------------------------------------


def _controls(r: Repair) -> tuple[Action, ...]:
    if r.status is Status.PAUSED:
        return (
            Action("repair_resume", "Resume", str(r.id), Style.PRIMARY),
            Action("repair_cancel_open", "Cancel the repair", str(r.id), Style.DANGER),
        )
    return (
        Action("repair_pause", "Pause", str(r.id)),
        Action("repair_cancel_open", "Cancel the repair", str(r.id), Style.DANGER),
    )


def _halved(ctx: Context, client: Client) -> tuple[int, int]:
    usual = effective_cadence(client, ctx.config.default_cadence_days)
    return usual, max(1, round(usual * rules.FORWARD_CADENCE_FACTOR))


def breathing_line(r: Repair, client: Client) -> str | None:
    if r.status is Status.ACTIVE and r.step is Step.BREATHING and r.breathing_until:
        return (
            f"Routine nudges paused until {_day(r.breathing_until)} "
            "while the relationship has room to breathe."
        )
    return None


def step_card(ctx: Context, client: Client, r: Repair, lead: str | None = None) -> Message:
    """The repair as its owner sees it: where it stands, what to do, the buttons to do it."""
    today = ctx.today()
    name = client.name
    n = rules.STEP_NUMBER.get(r.step, 4)
    title = f"Repair for {name}: step {n} of 4, {rules.STEP_NAME[r.step]}"
    sections: list[Section] = []
    actions: tuple[Action, ...] = ()
    if r.step is Step.FINISH:
        summary = f"Step {n} of 4: put it right."
        sections.append(
            Section(
                text=(
                    "Fix the problem before you talk about the relationship. Finish the work "
                    "and correct what went wrong: an apology that arrives before the fix "
                    "rings hollow."
                )
            )
        )
        fields = [Field("What went wrong", r.reason)]
        if r.task and r.task_due_on:
            late = (today - r.task_due_on).days
            by = _day(r.task_due_on) + (f" ({plural(late, 'day')} late)" if late > 0 else "")
            fields += [Field("To finish", r.task), Field("By", by)]
        else:
            fields.append(Field("To finish", "not set yet: what must be done, and by when?"))
        sections.append(
            Section(
                fields=tuple(fields),
                context="I'll remind you each workday until you mark it done.",
            )
        )
        actions = (
            Action(
                "repair_task_open",
                "Change the task" if r.task else "Set the task",
                str(r.id),
                Style.DEFAULT if r.task else Style.PRIMARY,
            ),
            Action(
                "repair_put_right",
                "Done: it's put right",
                str(r.id),
                Style.PRIMARY if r.task else Style.DEFAULT,
            ),
        )
    elif r.step is Step.BREATHING:
        until = r.breathing_until or today
        summary = f"Step {n} of 4: give them room until {_day(until)}."
        sections.append(
            Section(
                text=(
                    f"The fix is in. Now let {name} catch their breath: no check-ins, no "
                    f"pitches, nothing to smooth things over until {_day(until)}. "
                    "Then I'll come back to you for the conversation."
                ),
                fields=(
                    Field(
                        "Breathing period",
                        f"{plural(r.breathing_days, 'day')}, until {_day(until)}",
                    ),
                ),
                context=breathing_line(r, client),
            )
        )
        actions = (Action("repair_breathe_open", "Change the length", str(r.id)),)
    elif r.step is Step.ICE:
        summary = f"Step {n} of 4: time to talk with {name} again, humbly."
        ticked = set(r.checklist.get("ticked") or ())
        items = tuple(CheckItem(text, done=key in ticked) for key, text in rules.CHECKLIST)
        sections.append(Section(heading="In the conversation", checklist=items))
        sections.append(
            Section(
                heading="Before you reach out, ask yourself",
                text="\n".join(f"• {q}" for q in rules.SELF_CHECK),
                context=(
                    "If the honest answer is no, wait a day. They will hear the difference "
                    "between a conversation and a box being ticked."
                ),
            )
        )
        sections.append(
            Section(
                text=(
                    "When you've spoken with them, log it as a touch "
                    f"(/touch {name} call with ...) and the repair moves on."
                )
            )
        )
        actions = (
            Action("repair_talked", "I've had the conversation", str(r.id), Style.PRIMARY),
            Action("repair_checklist_open", "Tick off the checklist", str(r.id)),
        )
    elif r.step is Step.FORWARD:
        until = r.forward_until or today
        usual, tighter = _halved(ctx, client)
        summary = f"Step {n} of 4: go forward."
        sections.append(
            Section(
                text=(
                    "No more apologies. You said it once and they heard it; saying it again "
                    "only keeps the problem alive. What rebuilds trust now is steady, "
                    "regular contact."
                ),
                fields=(
                    Field(
                        "Contact",
                        f"every {plural(tighter, 'day')} instead of {usual}, until {_day(until)}",
                    ),
                    Field("Then", f"back to every {plural(usual, 'day')}, by itself"),
                ),
            )
        )
    else:
        summary = "This repair is complete."
    if r.status is Status.PAUSED:
        paused = r.day("paused_on")
        title += " (paused)"
        since = f" since {_day(paused)}" if paused else ""
        summary = (
            f"On hold at step {n} of 4{since}: no repair reminders, and {name}'s routine "
            "reminders run as usual, until you resume."
        )
        sections = [Section(fields=(Field("What went wrong", r.reason),))]
        actions = ()
    if r.is_open:
        actions += _controls(r)
    text = f"{lead} {summary}" if lead else f"Repair for {name}, {summary[0].lower()}{summary[1:]}"
    return Message(
        text=text,
        title=title,
        sections=tuple(sections),
        actions=actions,
        tone=Tone.WARNING if r.status is Status.PAUSED else Tone.INFO,
    )


def outsider_line(client: Client) -> Message:
    return Message(
        text=stop(f"A repair is under way for {client.name}"),
        sections=(Section(context="Its owner is looking after it. Details stay with them."),),
    )


# --- /repair ----------------------------------------------------------------------------------


async def repair_command(ctx: Context, text: str) -> Reply:
    text = text.strip()
    if not text:
        return await _overview(ctx)
    found = await _client_and_rest(ctx, text)
    if isinstance(found, Message):
        return found
    client, rest = found
    word, _, arg = rest.partition(" ")
    word = word.lower()
    if word in SUBCOMMANDS:
        return await _subcommand(ctx, client, word, arg.strip())
    if not rest:
        return await _status(ctx, client)
    return await start_repair(ctx, client, rest)


async def _overview(ctx: Context) -> Message:
    rows = await ctx.uow.repairs.open_repairs(ctx.today())
    if not rows:
        return error("Which client, and what went wrong?", USAGE)
    names = {c.id: c.name for c in await ctx.uow.clients.list()}
    lines = []
    for row in rows:
        paused = " (paused)" if row.status is Status.PAUSED else ""
        step = f"step {rules.STEP_NUMBER.get(row.step, 4)} of 4, {rules.STEP_NAME[row.step]}"
        lines.append(f"{names.get(row.client_id, 'a client')}: {step}{paused}")
    return Message(
        text=f"{plural(len(rows), 'repair')} under way.",
        sections=(Section(text="\n".join(lines), context=USAGE),),
        actions=tuple(
            Action(
                "repair_status", clip(names.get(row.client_id, "Client"), 60), str(row.client_id)
            )
            for row in rows[:5]
        ),
    )


async def start_repair(ctx: Context, client: Client, reason: str) -> Reply:
    if not rules.may_steer(ctx.person, client):
        return _refusal(ctx, client, "start a repair")
    existing = await ctx.uow.repairs.open_for(client.id)
    if existing is not None:
        existing = await _up_to_date(ctx, client, existing)
    if existing is not None and existing.is_open:
        return _already(ctx, client, existing)
    try:
        new = rules.start(
            client_id=client.id,
            owner_id=client.owner_id,
            started_by_id=ctx.person.id,
            reason=_plain(reason),
            now=ctx.clock.now(),
            config=ctx.config,
        )
    except rules.RepairError as exc:
        return error(str(exc), USAGE)
    try:
        r = await ctx.uow.repairs.add(new)
    except RepairAlreadyOpen:  # started by someone else a moment ago
        current = await ctx.uow.repairs.open_for(client.id)
        if current is None:
            raise
        return _already(ctx, client, current)
    await _event(ctx, r, "repair_started", f"Repair started: {r.reason}", private=True)
    return step_card(ctx, client, r, lead=stop(f"Repair started for {client.name}"))


def _already(ctx: Context, client: Client, r: Repair) -> Message:
    card = step_card(ctx, client, r)
    return replace(
        card,
        text=(
            f"A repair for {client.name} is already under way, at {rules.describe_step(r)}. "
            "Carry on with it, or cancel it first."
        ),
        tone=Tone.WARNING,
    )


async def _status(ctx: Context, client: Client) -> Message:
    r = await _open_repair(ctx, client)
    if r is None or not r.is_open:
        return Message(
            text=stop(f"No repair under way for {client.name}"),
            sections=(Section(context=f"To start one: /repair {client.name} <what went wrong>"),),
        )
    if not rules.may_steer(ctx.person, client, r):
        return outsider_line(client)
    return step_card(ctx, client, r)


async def _subcommand(ctx: Context, client: Client, word: str, arg: str) -> Reply:
    if word == "status":
        return await _status(ctx, client)
    if word == "restart":
        return await _restart(ctx, client)
    r = await _open_repair(ctx, client)
    if r is None or not r.is_open:
        return error(
            stop(f"There's no repair under way for {client.name}"),
            f"To start one: /repair {client.name} <what went wrong>",
        )
    if not rules.may_steer(ctx.person, client, r):
        return _refusal(ctx, client, "change this repair")
    if word == "pause":
        return await _pause(ctx, client, r)
    if word == "resume":
        return await _resume(ctx, client, r)
    if word == "cancel":
        if not arg:
            return cancel_form(r)
        return await _cancel(ctx, client, r, arg)
    # breathe
    if not (arg.isascii() and arg.isdigit() and len(arg) <= 4):
        return error("How many days?", f"Try: /repair {client.name} breathe 10")
    return await _breathe(ctx, client, r, int(arg))


async def _pause(ctx: Context, client: Client, r: Repair) -> Message:
    try:
        r = rules.pause(r, ctx.today(), ctx.clock.now())
    except rules.RepairError as exc:
        return _stale(ctx, client, r, exc)
    r = await ctx.uow.repairs.save(r)
    await _event(ctx, r, "repair_paused", "Repair paused.")
    return step_card(ctx, client, r, lead="Repair paused.")


async def _resume(ctx: Context, client: Client, r: Repair) -> Message:
    try:
        r = rules.resume(r, ctx.today(), ctx.clock.now())
    except rules.RepairError as exc:
        return _stale(ctx, client, r, exc)
    r = await _up_to_date(ctx, client, await ctx.uow.repairs.save(r))
    await _event(ctx, r, "repair_resumed", "Repair resumed.")
    return step_card(ctx, client, r, lead="Resumed.")


async def _cancel(ctx: Context, client: Client, r: Repair, why: str) -> Message:
    try:
        r = rules.cancel(r, _plain(why), ctx.clock.now())
    except rules.RepairError as exc:
        return _stale(ctx, client, r, exc)
    r = await ctx.uow.repairs.save(r)
    await _event(ctx, r, "repair_cancelled", f"Repair cancelled: {r.cancel_reason}", private=True)
    return Message(
        text=f"Repair for {client.name} cancelled. {client.name}'s contact schedule is back to normal.",
        sections=(Section(fields=(Field("Why", r.cancel_reason or ""),)),),
        tone=Tone.SUCCESS,
    )


async def _restart(ctx: Context, client: Client) -> Reply:
    r = await _open_repair(ctx, client)
    if r is not None and r.is_open:
        if not rules.may_steer(ctx.person, client, r):
            return _refusal(ctx, client, "change this repair")
        return Message(
            text=(
                f"Restart the repair for {client.name} from step 1? It is at "
                f"{rules.describe_step(r)}. What went wrong is kept; the task, dates and "
                "answers so far are cleared."
            ),
            actions=(
                Action("repair_restart", "Restart from step 1", str(r.id), Style.DANGER),
                Action("repair_status", "Keep going", str(client.id), Style.PRIMARY),
            ),
            tone=Tone.WARNING,
        )
    last = await ctx.uow.repairs.latest_for(client.id)
    if last is None:
        return error(
            f"There's no repair for {client.name} to restart.",
            f"To start one: /repair {client.name} <what went wrong>",
        )
    return await start_repair(ctx, client, last.reason)


async def _breathe(ctx: Context, client: Client, r: Repair, days: int) -> Message:
    try:
        r = rules.set_breathing_days(r, days, ctx.today(), ctx.clock.now())
    except rules.RepairError as exc:
        return _stale(ctx, client, r, exc)
    r = await _up_to_date(ctx, client, await ctx.uow.repairs.save(r))
    await _event(
        ctx, r, "repair_breathing", f"Repair: breathing period set to {plural(days, 'day')}."
    )
    if r.step is Step.FINISH:
        lead = f"Noted: the breathing period will last {plural(days, 'day')}."
    else:
        lead = f"Breathing period now {plural(days, 'day')}."
    return step_card(ctx, client, r, lead=lead)


def _stale(ctx: Context, client: Client, r: Repair, exc: Exception) -> Message:
    return replace(step_card(ctx, client, r), text=str(exc), tone=Tone.WARNING)


# --- buttons ----------------------------------------------------------------------------------


async def open_status(ctx: Context, value: str) -> Reply:
    client_id = _id(value)
    client = await ctx.uow.clients.get(client_id) if client_id is not None else None
    if client is None:
        return error("That client is no longer there.", USAGE)
    return await _status(ctx, client)


async def put_right(ctx: Context, value: str) -> Reply:
    found = await _by_id(ctx, value)
    if isinstance(found, Message):
        return found
    client, r = found
    try:
        r = rules.put_right(r, ctx.today(), ctx.clock.now())
    except rules.RepairError as exc:
        return _stale(ctx, client, r, exc)
    r = await ctx.uow.repairs.save(r)
    until = r.breathing_until or ctx.today()
    await _event(
        ctx, r, "repair_put_right", f"Repair: put right. Breathing period until {_day(until)}."
    )
    return step_card(ctx, client, r, lead="Well done: it's put right.")


async def talked(ctx: Context, value: str) -> Reply:
    found = await _by_id(ctx, value)
    if isinstance(found, Message):
        return found
    client, r = found
    if r.step is not Step.ICE or r.status is not Status.ACTIVE:
        return _stale(ctx, client, r, rules.RepairError("That step isn't the current one."))
    return touch_form(client, note="Spoke with them about what went wrong.", today=ctx.today())


async def restart_button(ctx: Context, value: str) -> Reply:
    """ "Restart from step 1", once asked: back to step 1, keeping what went wrong."""
    found = await _by_id(ctx, value)
    if isinstance(found, Message):
        return found
    client, r = found
    try:
        r = rules.restart(r, ctx.clock.now(), ctx.config)
    except rules.RepairError as exc:
        return _stale(ctx, client, r, exc)
    r = await ctx.uow.repairs.save(r)
    await _event(ctx, r, "repair_restarted", "Repair restarted from step 1.")
    return step_card(ctx, client, r, lead="Back to step 1.")


async def pause_button(ctx: Context, value: str) -> Reply:
    found = await _by_id(ctx, value)
    return found if isinstance(found, Message) else await _pause(ctx, *found)


async def resume_button(ctx: Context, value: str) -> Reply:
    found = await _by_id(ctx, value)
    return found if isinstance(found, Message) else await _resume(ctx, *found)


async def start_from_touch(ctx: Context, value: str) -> Reply:
    data = unpack(value)
    client_id, touch_id = _id(data.get("client")), _id(data.get("touch"))
    client = await ctx.uow.clients.get(client_id) if client_id is not None else None
    if client is None:
        return error("That client is no longer there.", USAGE)
    touch = await ctx.uow.touches.get(touch_id) if touch_id is not None else None
    note = touch.note.replace("#repair", " ") if touch is not None else ""
    reason = " ".join(note.split()) or "Trouble noted in a touch."
    return await start_repair(ctx, client, reason)


# --- forms ------------------------------------------------------------------------------------


def task_form(r: Repair, today: date) -> Form:
    due = r.task_due_on or add_business_days(today, 3)
    return Form(
        form_id=TASK_FORM,
        title="Put it right",
        submit_label="Save",
        private_value=str(r.id),
        inputs=(
            FormInput(
                "task",
                "What must be finished or corrected?",
                InputKind.MULTILINE,
                required=True,
                initial=r.task,
                placeholder="e.g. refile the return with the corrected figures",
            ),
            FormInput("due", "By when?", InputKind.DATE, required=True, initial=due.isoformat()),
        ),
    )


def breathe_form(r: Repair) -> Form:
    return Form(
        form_id=BREATHE_FORM,
        title="Breathing period",
        submit_label="Save",
        private_value=str(r.id),
        inputs=(
            FormInput(
                "days",
                f"How many days? (1 to {rules.MAX_BREATHING_DAYS})",
                required=True,
                initial=str(r.breathing_days),
            ),
        ),
    )


def checklist_form(r: Repair) -> Form:
    ticked = set(r.checklist.get("ticked") or ())
    boxes = tuple(
        FormInput(key, text, InputKind.CHECKBOX, initial="yes" if key in ticked else None)
        for key, text in rules.CHECKLIST
    )
    return Form(
        form_id=CHECKLIST_FORM,
        title="Breaking the ice",
        submit_label="Save",
        private_value=str(r.id),
        inputs=(
            *boxes,
            FormInput(
                "heard",
                "What did they tell you? (seen only by the owner, principals and admins)",
                InputKind.MULTILINE,
            ),
        ),
    )


def cancel_form(r: Repair) -> Form:
    return Form(
        form_id=CANCEL_FORM,
        title="Cancel the repair",
        submit_label="Cancel the repair",
        private_value=str(r.id),
        inputs=(
            FormInput(
                "reason",
                "Why? (seen only by the owner, principals and admins)",
                InputKind.MULTILINE,
                required=True,
            ),
        ),
    )


async def open_task_form(ctx: Context, value: str) -> Reply:
    found = await _by_id(ctx, value)
    if isinstance(found, Message):
        return found
    client, r = found
    if r.step is not Step.FINISH:
        return _stale(ctx, client, r, rules.RepairError("The task is already behind you."))
    return task_form(r, ctx.today())


async def open_breathe_form(ctx: Context, value: str) -> Reply:
    found = await _by_id(ctx, value)
    return found if isinstance(found, Message) else breathe_form(found[1])


async def open_checklist_form(ctx: Context, value: str) -> Reply:
    found = await _by_id(ctx, value)
    return found if isinstance(found, Message) else checklist_form(found[1])


async def open_cancel_form(ctx: Context, value: str) -> Reply:
    found = await _by_id(ctx, value)
    return found if isinstance(found, Message) else cancel_form(found[1])


async def submit_task(ctx: Context, values: Mapping[str, str], private: str) -> Reply:
    found = await _by_id(ctx, private)
    if isinstance(found, Message):
        return found
    client, r = found
    errors: dict[str, str] = {}
    task = _plain(values.get("task", ""))
    if not task:
        errors["task"] = "Say what must be finished or corrected."
    try:
        due = date.fromisoformat(values.get("due", "").strip())
    except ValueError:
        errors["due"] = "Use a date like 2026-11-27."
        due = ctx.today()
    if not errors and due < ctx.today():
        errors["due"] = "Pick today or a later date."
    if errors:
        return FormErrors(errors)
    try:
        r = rules.set_task(r, task, due, ctx.today(), ctx.clock.now())
    except rules.RepairError as exc:
        return _stale(ctx, client, r, exc)
    r = await ctx.uow.repairs.save(r)
    await _event(ctx, r, "repair_task", f"Repair task: {task}, by {_day(due)}.", private=True)
    return step_card(
        ctx, client, r, lead=f"Noted. I'll remind you each workday until it's done ({_day(due)})."
    )


async def submit_breathe(ctx: Context, values: Mapping[str, str], private: str) -> Reply:
    found = await _by_id(ctx, private)
    if isinstance(found, Message):
        return found
    client, r = found
    raw = values.get("days", "").strip()
    days = _id(raw)
    if days is None or not 1 <= days <= rules.MAX_BREATHING_DAYS:
        return FormErrors({"days": f"A whole number of days, 1 to {rules.MAX_BREATHING_DAYS}."})
    return await _breathe(ctx, client, r, days)


async def submit_checklist(ctx: Context, values: Mapping[str, str], private: str) -> Reply:
    found = await _by_id(ctx, private)
    if isinstance(found, Message):
        return found
    client, r = found
    keys = [
        key
        for key, _ in rules.CHECKLIST
        if values.get(key, "").strip().lower() in (*_TRUE, key.lower())
    ]
    try:
        r = rules.tick(r, keys, ctx.clock.now())
    except rules.RepairError as exc:
        return _stale(ctx, client, r, exc)
    r = await ctx.uow.repairs.save(r)
    heard = _plain(values.get("heard", ""))
    if heard:
        await _event(
            ctx, r, "repair_heard", f"What they told us: {clip(heard, 1000)}", private=True
        )
    return step_card(ctx, client, r, lead="Saved.")


async def submit_cancel(ctx: Context, values: Mapping[str, str], private: str) -> Reply:
    found = await _by_id(ctx, private)
    if isinstance(found, Message):
        return found
    client, r = found
    why = _plain(values.get("reason", ""))
    if not why:
        return FormErrors({"reason": "Say briefly why the repair is being cancelled."})
    return await _cancel(ctx, client, r, why)


# --- extensions: the client card and the touch confirmation -----------------------------------


async def on_card(ctx: Context, client: Client) -> tuple[Section, ...]:
    r = await ctx.uow.repairs.open_for(client.id)
    if r is None:
        return ()
    r = await _up_to_date(ctx, client, r)
    if not r.is_open:
        return ()
    extra = breathing_line(r, client)
    if r.status is Status.ACTIVE and r.step is Step.FORWARD and r.forward_until:
        usual, tighter = _halved(ctx, client)
        extra = (
            f"Contact every {plural(tighter, 'day')} instead of {usual} "
            f"until {_day(r.forward_until)}, after the repair."
        )
    if not rules.may_steer(ctx.person, client, r):
        return (Section(heading="Repair", text="A repair is under way.", context=extra),)
    state = rules.describe_step(r) + (" (paused)" if r.status is Status.PAUSED else "")
    fields = [Field("Where it stands", state), Field("What went wrong", r.reason)]
    if r.step is Step.FINISH and r.task and r.task_due_on:
        fields.append(Field("To finish", f"{r.task} (by {_day(r.task_due_on)})"))
    return (
        Section(
            heading="Repair under way",
            fields=tuple(fields),
            context=extra,
            actions=(Action("repair_status", "Open the repair", str(client.id)),),
        ),
    )


async def after_touch(ctx: Context, touch: Touch) -> tuple[Action, ...]:
    r = await ctx.uow.repairs.open_for(touch.client_id)
    if r is None and not rules.reads_as_trouble(touch.note):
        return ()  # the common case: one query
    client = await ctx.uow.clients.get(touch.client_id)
    if client is None:
        return ()
    if r is not None:
        before = r.step
        r = await _up_to_date(ctx, client, r)
        if before is not r.step and r.step in (Step.FORWARD, Step.DONE):
            return (
                Action(
                    "repair_status",
                    "Repair: on to step 4, go forward",
                    str(client.id),
                    Style.PRIMARY,
                ),
            )
        return ()
    if rules.reads_as_trouble(touch.note) and rules.may_steer(ctx.person, client):
        return (
            Action("repair_start_touch", "Start a repair", pack(client=client.id, touch=touch.id)),
        )
    return ()


def register(r: Registry) -> None:
    r.command("repair")(repair_command)
    r.action("repair_status")(open_status)
    r.action("repair_put_right")(put_right)
    r.action("repair_talked")(talked)
    r.action("repair_pause")(pause_button)
    r.action("repair_restart")(restart_button)
    r.action("repair_resume")(resume_button)
    r.action("repair_start_touch")(start_from_touch)
    r.action("repair_task_open")(open_task_form)
    r.action("repair_breathe_open")(open_breathe_form)
    r.action("repair_checklist_open")(open_checklist_form)
    r.action("repair_cancel_open")(open_cancel_form)
    r.form(TASK_FORM)(submit_task)
    r.form(BREATHE_FORM)(submit_breathe)
    r.form(CHECKLIST_FORM)(submit_checklist)
    r.form(CANCEL_FORM)(submit_cancel)
    r.card_extensions.append(on_card)
    r.touch_extensions.append(after_touch)
