"""/matter and /update: matters for clients, and the status updates that keep the client informed.

/matter Acme Q3 audit expected Dec 12          open a matter (you lead it)
/matter Acme Q3 audit lead @dana every 2 weeks  someone else leads; its own update rhythm
/matter Q3 audit close                          close it; when it is the client's last open
                                                matter, the client-care check-ins start
/matter Acme                                    Acme's open matters
/matter                                         the matters you lead
/update Acme draft filed, estimate Jan 9        record a status update sent to the client
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date

from bot import resolve
from bot.app import Context, Registry, Reply
from bot.domain import Client, NewTouch, Person, Role, TouchKind
from bot.matter_ports import Matter
from bot.matters import (
    MatterView,
    estimate_slip,
    future_date,
    matter_views,
    short_date,
    take_date,
)
from bot.messages import (
    Action,
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
from bot.parsing import match_client
from bot.resolve import (
    Target,
    after_client,
    label_keys,
    matter_problem_text,
    people_named,
)
from bot.text import clip, pack, plural, row_id, stop, unpack, when

from .owner import closeout

USAGE = "Try: /matter Acme Q3 audit expected Dec 12, or /matter Q3 audit close"
UPDATE_USAGE = "Try: /update Acme draft filed with the regulator, estimate Dec 12"
UPDATE_FORM = "matter_update"
MAX_TITLE = 300
ESTIMATE_WORDS = ("estimate", "estimated", "eta", "est.", "est")

_CLOSE = re.compile(r"^(?:close|closed|end)\s+(?P<a>.+)$|^(?P<b>.+?)\s+(?:close|closed)$", re.I)
_LEAD = re.compile(r"(?:^|\s)(?:lead|led by|lead by)\s+(?P<who><@[^>\s]+>|@\S+)", re.I)
_RHYTHM = re.compile(
    r"(?:^|\s)(?:updates?\s+)?every\s+(?P<n>\d{1,3}|a|one|two|three|four)?\s*"
    r"(?P<unit>day|week)s?\b",
    re.I,
)
_SMALL = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4}


# --- finding people, clients and matters ---------------------------------------------------------


async def find_person(ctx: Context, token: str) -> Person | None:
    """A colleague from a mention: `<@ID>` / `<@ID|name>` from Slack and Teams, `@name` typed."""
    token = token.strip()
    if token.startswith("<@") and token.endswith(">"):
        user_id, _, label = token[2:-1].partition("|")
        if not user_id:
            return None
        found = await ctx.uow.people.by_platform_id(user_id)
        if found is None and user_id in ctx.mentions:  # a colleague the platform vouches for
            name = label or ctx.mentions[user_id]
            found = await ctx.uow.people.ensure(user_id, name or user_id)
        return found
    named = people_named(await ctx.uow.people.list(), token)
    return named[0] if len(named) == 1 else None  # several: the name is not enough to tell


async def find_target(ctx: Context, text: str, *, whole: bool = False) -> Target:
    """Read a matter or client at the start of `text` (the whole of it when `whole`)."""
    clients = await ctx.uow.clients.list()
    return await resolve.find_target(
        clients,
        await ctx.uow.matters.list(open_only=True),
        text,
        whole=whole,
        index=await ctx.uow.clients.index(),
    )


def _at(matter: Matter, clients: Mapping[int, Client]) -> str:
    client = clients.get(matter.client_id)
    return f"{matter.title} at {client.name}" if client else matter.title


def can_manage(ctx: Context, matter: Matter, client: Client | None) -> bool:
    me = ctx.person
    owner = client.owner_id if client else None
    return me.id in (matter.lead_id, owner) or me.role in (Role.PRINCIPAL, Role.ADMIN)


# --- /matter ------------------------------------------------------------------------------------


async def matter_command(ctx: Context, text: str) -> Reply:
    text = " ".join(text.split())
    if not text:
        return await my_matters(ctx)
    closing = _CLOSE.match(text)
    if closing:
        return await close_by_name(ctx, (closing.group("a") or closing.group("b")).strip())
    return await open_matter(ctx, text)


async def open_matter(ctx: Context, text: str) -> Reply:
    today = ctx.today()
    match = match_client(text, await ctx.uow.clients.index())
    if match.status != "matched" or match.client is None:
        # `/matter series b`: an open matter named without its client, found as /update does.
        target = await find_target(ctx, text, whole=True)
        if target.matter is not None and not target.rest:
            return await matter_card(ctx, target.matter)
        return error(matter_problem_text(text, match.candidates), USAGE)
    client = await ctx.uow.clients.get(match.client.id)
    assert client is not None
    rest = after_client(text, client, match.rest)
    if not rest:
        return await client_matters(ctx, client)

    lead = ctx.person
    who = _LEAD.search(rest)
    if who is not None:
        found = await find_person(ctx, who.group("who"))
        if found is None:
            return error(
                f"I don't know who {who.group('who')} is here.",
                "Mention a colleague who has used Touchbase, e.g. lead @dana.",
            )
        lead = found
        rest = (rest[: who.start()] + " " + rest[who.end() :]).strip()

    rhythm: int | None = None
    every = _RHYTHM.search(rest)
    if every is not None:
        n_text = (every.group("n") or "1").lower()
        n = int(n_text) if n_text.isdigit() else _SMALL[n_text]
        rhythm = n * (7 if every.group("unit").lower() == "week" else 1)
        if not 1 <= rhythm <= 365:
            return error("An update rhythm runs from every day to once a year.", USAGE)
        rest = (rest[: every.start()] + " " + rest[every.end() :]).strip()

    expected = take_date(rest, ("expected", "expected on", "expected by"), today)
    if expected.problem:
        return error(expected.problem, USAGE)
    title = expected.text.strip(" ,;:-–—\"'“”")
    if not title:
        return error(f"What is the matter for {client.name}?", USAGE)
    if len(title) > MAX_TITLE:
        return error(f"Keep the title under {MAX_TITLE} characters.")
    for existing in await ctx.uow.matters.list(client_ids=[client.id]):
        if label_keys(existing.title) == label_keys(title):
            return Message(
                text=stop(f"{client.name} already has an open matter called {existing.title}"),
                actions=(Action("matter_open", "Open matter", str(existing.id)),),
                tone=Tone.WARNING,
            )

    matter = await ctx.uow.matters.add(
        client.id, title, lead_id=lead.id, expected_on=expected.on, rhythm_days=rhythm
    )
    led = "you lead it" if lead.id == ctx.person.id else f"led by {lead.display_name}"
    summary = f"{ctx.person.display_name} opened the matter {title}, led by {lead.display_name}"
    if expected.on:
        summary += f", expected {short_date(expected.on, today)}"
    await ctx.uow.history.add_event(client.id, ctx.person.id, "matter_opened", summary)
    v = (await matter_views(ctx.uow, [matter], {lead.id: lead.tz}))[0]
    if lead.id != ctx.person.id:
        ctx.notify(
            lead.address,
            Message(
                text=(
                    f"{ctx.person.display_name} opened the matter {title} for {client.name} "
                    f"with you as its lead. {client.name} expects a status update "
                    f"{_every(v.rhythm)}; I'll remind you when one is due."
                ),
                actions=(Action("matter_open", "Open matter", str(matter.id)),),
            ),
            lead.id,
        )
    return Message(
        text=(
            f"Opened {title} for {client.name}, {led}. The first status update is due "
            f"{when(v.next_update, today)}, then {_every(v.rhythm)}."
        ),
        sections=(Section(fields=_fields(v, lead, today)),),
        actions=(
            Action("matter_open", "Open matter", str(matter.id)),
            Action("client_open", "Open client", str(client.id)),
        ),
        tone=Tone.SUCCESS,
    )


def _every(rhythm: int) -> str:
    if rhythm == 7:
        return "every week"
    if rhythm % 7 == 0:
        return f"every {plural(rhythm // 7, 'week')}"
    return f"every {plural(rhythm, 'day')}"


def _fields(v: MatterView, lead: Person | None, today: date) -> tuple[Field, ...]:
    m = v.matter
    fields = [
        Field("Client", v.client_name),
        Field("Lead", lead.display_name if lead else "nobody"),
        Field("Updates", _every(v.rhythm) + (" (this matter's own)" if m.rhythm_days else "")),
    ]
    if m.expected_on:
        fields.append(Field("Expected", short_date(m.expected_on, today)))
    if v.estimates:
        fields.append(Field("Latest estimate", short_date(v.estimates[-1], today)))
    fields.append(Field("Last update", when(v.last_update, today)))
    if m.is_open:
        late = v.next_update < today
        fields.append(
            Field("Next update", when(v.next_update, today) + (" (late)" if late else ""))
        )
    else:
        assert m.closed_at is not None
        fields.append(Field("Closed", when(m.closed_at.date(), today)))
    return tuple(fields)


async def my_matters(ctx: Context) -> Reply:
    today = ctx.today()
    mine = await ctx.uow.matters.list(lead_ids=[ctx.person.id])
    if not mine:
        return Message(
            text="You don't lead any open matters.",
            sections=(Section(text=USAGE),),
        )
    views = await matter_views(ctx.uow, mine, {ctx.person.id: ctx.person.tz})
    views.sort(key=lambda v: (v.next_update, v.client_name.casefold(), v.matter.id))
    late = sum(1 for v in views if v.next_update <= today)
    return Message(
        text=f"You lead {plural(len(views), 'open matter')}"
        + (f"; {late} due for a status update." if late else ", all updated on time."),
        title="Your matters",
        sections=(Section(text="\n".join(_line(v, today, with_client=True) for v in views[:30])),),
        actions=tuple(
            Action("matter_open", clip(f"{v.client_name}: {v.matter.title}", 60), str(v.matter.id))
            for v in views[:5]
        ),
        tone=Tone.WARNING if late else Tone.INFO,
    )


def _line(v: MatterView, today: date, *, with_client: bool = False) -> str:
    name = f"{v.client_name}: {v.matter.title}" if with_client else v.matter.title
    due = v.next_update
    status = (
        f"update due {when(due, today)}"
        if due > today
        else ("update due today" if due == today else f"update late since {when(due, today)}")
    )
    line = f"{name}: {status}"
    if v.estimates:
        line += f", estimate {short_date(v.estimates[-1], today)}"
    slip = estimate_slip(v.estimates, v.matter.expected_on, today)
    if slip:
        line += f" ({slip})"
    return line


async def client_matters(ctx: Context, client: Client) -> Reply:
    today = ctx.today()
    matters = await ctx.uow.matters.list(client_ids=[client.id])
    if not matters:
        return Message(
            text=f"{client.name} has no open matters.",
            sections=(Section(text=f"Open one with /matter {client.name} <title>"),),
        )
    views = await matter_views(ctx.uow, matters)
    return Message(
        text=f"{client.name}: {plural(len(views), 'open matter')}.",
        sections=(Section(text="\n".join(_line(v, today) for v in views)),),
        actions=tuple(
            Action("matter_open", clip(v.matter.title, 60), str(v.matter.id)) for v in views[:5]
        ),
    )


async def matter_card(ctx: Context, matter: Matter) -> Message:
    today = ctx.today()
    lead = await ctx.uow.people.get(matter.lead_id) if matter.lead_id else None
    v = (await matter_views(ctx.uow, [matter], {lead.id: lead.tz} if lead else None))[0]
    sections = [Section(fields=_fields(v, lead, today))]
    slip = estimate_slip(v.estimates, matter.expected_on, today)
    if slip:
        sections.append(Section(text=slip[0].upper() + slip[1:] + "."))
    updates = [
        u
        for u in await ctx.uow.matters.status_updates([matter.client_id])
        if u.matter_id == matter.id
    ]
    if updates:
        lines = []
        for u in reversed(updates[-6:]):
            estimate = f", estimate {short_date(u.estimate_on, today)}" if u.estimate_on else ""
            touch = await ctx.uow.touches.get(u.touch_id)
            said = f": {clip(touch.note, 100)}" if touch is not None and touch.note else ""
            lines.append(f"{when(u.occurred_on, today)}{estimate}{said}")
        sections.append(Section(heading="Status updates", text="\n".join(lines)))
    actions: list[Action] = []
    if matter.is_open:
        actions.append(
            Action("matter_update_open", "Record an update", str(matter.id), Style.PRIMARY)
        )
        actions.append(Action("matter_close", "Close matter", str(matter.id), Style.DANGER))
    actions.append(Action("client_open", "Open client", str(matter.client_id)))
    state = "open" if matter.is_open else "closed"
    return Message(
        text=f"{matter.title} for {v.client_name}: {state}.",
        title=f"{v.client_name}: {matter.title}",
        sections=tuple(sections),
        actions=tuple(actions),
        tone=Tone.WARNING if (matter.is_open and (slip or v.next_update < today)) else Tone.INFO,
    )


async def open_matter_card(ctx: Context, value: str) -> Reply:
    matter = await ctx.uow.matters.get(mid) if (mid := row_id(value)) else None
    if matter is None:
        return error("That matter is no longer there.", USAGE)
    return await matter_card(ctx, matter)


# --- closing ------------------------------------------------------------------------------------


async def close_by_name(ctx: Context, name: str) -> Reply:
    target = await find_target(ctx, name, whole=True)
    if target.matter is not None and not target.rest:
        return await close_matter(ctx, target.matter)
    if target.choices and target.client is None:  # one title at several clients
        clients = {c.id: c for c in await ctx.uow.clients.list()}
        return Message(
            text=f'"{clip(name, 60)}" is open at {len(target.choices)} clients. Which one is done?',
            actions=tuple(
                Action("matter_close", clip(f"Close {_at(m, clients)}", 60), str(m.id))
                for m in target.choices[:5]
            ),
            tone=Tone.WARNING,
        )
    if target.choices:
        return Message(
            text=f"{target.client.name if target.client else 'That client'} has "
            f"{len(target.choices)} open matters. Which one is done?",
            actions=tuple(
                Action("matter_close", clip(f"Close {m.title}", 60), str(m.id))
                for m in target.choices[:5]
            ),
            tone=Tone.WARNING,
        )
    closed = [
        m
        for m in await ctx.uow.matters.list(open_only=False)
        if not m.is_open
        and (target.client is None or m.client_id == target.client.id)
        and label_keys(m.title)[: len(label_keys(target.rest or name))]
        == label_keys(target.rest or name)
    ]
    if closed and label_keys(target.rest or name):
        return Message(text=f"{closed[-1].title} is already closed.")
    if target.client is not None:
        return error(f"{target.client.name} has no open matter by that name.", USAGE)
    return error(target.problem or "Which matter?", USAGE)


async def close_button(ctx: Context, value: str) -> Reply:
    matter = await ctx.uow.matters.get(mid) if (mid := row_id(value)) else None
    if matter is None:
        return error("That matter is no longer there.", USAGE)
    if not matter.is_open:
        return Message(text=f"{matter.title} is already closed.")
    return await close_matter(ctx, matter)


async def close_matter(ctx: Context, matter: Matter) -> Reply:
    """Close the matter, then the ownership work's closeout: it records the engagement's end and
    plans the client-care check-ins (at the firm's `care_checkin_days`) for the client's owner."""
    client = await ctx.uow.clients.get(matter.client_id)
    if not can_manage(ctx, matter, client):
        return error(
            "Only the matter's lead, the client's owner or a principal can close it.",
        )
    await ctx.uow.matters.close(matter.id, ctx.clock.now())
    await ctx.uow.history.add_event(
        matter.client_id,
        ctx.person.id,
        "matter_closed",
        f"{ctx.person.display_name} closed the matter {matter.title}",
    )
    if client is None:
        return Message(text=stop(f"Closed {matter.title}"), tone=Tone.SUCCESS)
    done = stop(f"Closed {matter.title} for {client.name}")
    still = [m for m in await ctx.uow.matters.list(open_only=True) if m.client_id == client.id]
    if still:
        # The care check-ins are for a client with no work under way: they wait for the last.
        names = ", ".join(m.title for m in still[:3]) + (", …" if len(still) > 3 else "")
        return Message(
            text=(
                f"{done} {client.name} still has {plural(len(still), 'open matter')} "
                f"({clip(names, 120)}), so the client-care check-ins start when the last one "
                "closes."
            ),
            sections=(Section(text=f"To start them now: /client {client.name} closeout"),),
            actions=(Action("client_open", "Open client", str(client.id)),),
            tone=Tone.SUCCESS,
        )
    care = await closeout(ctx, client, f"the matter {matter.title}")
    if not isinstance(care, Message):
        return Message(text=done, tone=Tone.SUCCESS)
    return Message(
        text=f"{done} {care.text}",
        sections=care.sections,
        actions=care.actions,
        tone=Tone.SUCCESS,
    )


# --- /update ------------------------------------------------------------------------------------


async def update_command(ctx: Context, text: str) -> Reply:
    text = " ".join(text.split())
    if not text:
        return error("Which client or matter did you update?", UPDATE_USAGE)
    target = await find_target(ctx, text)
    if target.client is None and target.choices:  # one title at several clients
        clients = {c.id: c for c in await ctx.uow.clients.list()}
        try:
            return Message(
                text=f"That matter is open at {len(target.choices)} clients. "
                "Which one was this update about?",
                actions=tuple(
                    Action(
                        "matter_update_for",
                        clip(_at(m, clients), 60),
                        pack(m=m.id, t=target.rest),
                    )
                    for m in target.choices[:5]
                ),
                tone=Tone.WARNING,
            )
        except ValueError:
            return error(
                "That update is too long to carry over a button. Start it with the client's "
                "name, e.g. /update Acme Q3 audit draft filed.",
            )
    if target.client is None:
        return error(target.problem or "Which client or matter?", UPDATE_USAGE)
    if target.matter is None and target.choices:
        try:
            return Message(
                text=f"{target.client.name} has {len(target.choices)} open matters. "
                "Which one was this update about?",
                actions=tuple(
                    Action("matter_update_for", clip(m.title, 60), pack(m=m.id, t=target.rest))
                    for m in target.choices[:5]
                ),
                tone=Tone.WARNING,
            )
        except ValueError:
            return error(
                "That update is too long to carry over a button. Start it with the matter's "
                "title, e.g. /update Acme Q3 audit draft filed.",
            )
    return await record_update(ctx, target.client, target.matter, target.rest)


async def update_for(ctx: Context, value: str) -> Reply:
    data = unpack(value)
    matter = await ctx.uow.matters.get(mid) if (mid := row_id(data.get("m"))) else None
    if matter is None:
        return error("That matter is no longer there.", UPDATE_USAGE)
    client = await ctx.uow.clients.get(matter.client_id)
    if client is None:
        return error("That client is no longer there.", UPDATE_USAGE)
    text = str(data.get("t", ""))
    digest = hashlib.sha256(f"{ctx.person.id}:{matter.id}:{ctx.today()}:{text}".encode())
    ctx.source_id = f"update:{digest.hexdigest()[:32]}"
    return await record_update(ctx, client, matter, text)


async def record_update(
    ctx: Context,
    client: Client,
    matter: Matter | None,
    text: str,
    *,
    estimate_on: date | None = None,
) -> Reply:
    """Store the status update, then say so: what was recorded, and when the next one is due."""
    today = ctx.today()
    note = text.strip(" ,;:-–—")
    if estimate_on is None:
        taken = take_date(note, ESTIMATE_WORDS, today)
        if taken.problem:
            return error(taken.problem, UPDATE_USAGE)
        note, estimate_on = taken.text, taken.on
    touch, _created = await ctx.uow.touches.add(
        NewTouch(
            client_id=client.id,
            person_id=ctx.person.id,
            kind=TouchKind.STATUS_UPDATE,
            occurred_on=today,
            note=note,
            source_id=ctx.source_id,
            matter_id=matter.id if matter else None,
            estimate_on=estimate_on,
        )
    )
    actions = [Action("touch_undo", "Undo", str(touch.id), Style.DANGER)]
    sections: list[Section] = []
    if matter is None:
        text_out = f"Recorded a status update to {client.name}, {when(today, today)}."
        if estimate_on:
            text_out += f" Estimate: {short_date(estimate_on, today)}."
        sections.append(
            Section(
                text=f"{client.name} has no open matter, so it counts for the client as a whole. "
                f"Open one with /matter {client.name} <title>."
            )
        )
        return Message(
            text=text_out, sections=tuple(sections), actions=tuple(actions), tone=Tone.SUCCESS
        )
    lead = await ctx.uow.people.get(matter.lead_id) if matter.lead_id else None
    v = (await matter_views(ctx.uow, [matter], {lead.id: lead.tz} if lead else None))[0]
    text_out = f"Recorded a status update to {client.name} on {matter.title}"
    text_out += f", estimate {short_date(estimate_on, today)}." if estimate_on else "."
    if matter.is_open:
        text_out += f" The next one is due {when(v.next_update, today)}."
    tone = Tone.SUCCESS
    slip = estimate_slip(v.estimates, matter.expected_on, today) if estimate_on else None
    if slip:
        tone = Tone.WARNING
        sections.append(
            Section(
                text=slip[0].upper() + slip[1:] + ".",
                context="It shows on the matter. Tell them what changed and why.",
            )
        )
    elif not estimate_on:
        sections.append(
            Section(
                context="No estimate this time. Clients want to know when: add one with "
                "estimate <date> next time."
            )
        )
    actions.append(Action("matter_open", "Open matter", str(matter.id)))
    return Message(text=text_out, sections=tuple(sections), actions=tuple(actions), tone=tone)


def update_form(matter: Matter, title: str) -> Form:
    return Form(
        form_id=UPDATE_FORM,
        title=clip(f"Status update: {title}", 24),
        submit_label="Record it",
        private_value=str(matter.id),
        inputs=(
            FormInput("note", "What you told them", InputKind.MULTILINE),
            FormInput(
                "estimate",
                "Your estimate of completion",
                InputKind.DATE,
                placeholder="e.g. 2026-12-12",
            ),
        ),
    )


async def open_update_form(ctx: Context, value: str) -> Reply:
    matter = await ctx.uow.matters.get(mid) if (mid := row_id(value)) else None
    if matter is None:
        return error("That matter is no longer there.", UPDATE_USAGE)
    return update_form(matter, matter.title)


async def submit_update_form(ctx: Context, values: Mapping[str, str], private: str) -> Reply:
    matter = await ctx.uow.matters.get(mid) if (mid := row_id(private)) else None
    if matter is None:
        return error("That matter is no longer there.", UPDATE_USAGE)
    client = await ctx.uow.clients.get(matter.client_id)
    if client is None:
        return error("That client is no longer there.", UPDATE_USAGE)
    raw = values.get("estimate", "").strip()
    estimate: date | None = None
    if raw:
        estimate = future_date(raw, ctx.today())
        if estimate is None:
            return FormErrors({"estimate": "Give a date still to come, like 2026-12-12."})
    return await record_update(
        ctx, client, matter, values.get("note", "").strip(), estimate_on=estimate
    )


# --- the client card ---------------------------------------------------------------------------


async def matters_on_card(ctx: Context, client: Client) -> tuple[Section, ...]:
    """The client's open matters on its card, with when each is next due an update."""
    matters = await ctx.uow.matters.list(client_ids=[client.id])
    if not matters:
        return ()
    today = ctx.today()
    views = await matter_views(ctx.uow, matters)
    return (
        Section(
            heading="Matters",
            text="\n".join(_line(v, today) for v in views[:8]),
            actions=tuple(
                Action("matter_open", clip(v.matter.title, 60), str(v.matter.id)) for v in views[:3]
            ),
        ),
    )


def register(r: Registry) -> None:
    r.command("matter")(matter_command)
    r.command("update")(update_command)
    r.action("matter_open")(open_matter_card)
    r.action("matter_close")(close_button)
    r.action("matter_update_for")(update_for)
    r.action("matter_update_open")(open_update_form)
    r.form(UPDATE_FORM)(submit_update_form)
    r.card_extensions.append(matters_on_card)
