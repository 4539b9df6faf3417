"""/match: who at the firm suits each key person at a client; /touchbase me: your own profile.

    /match Acme                          a suggestion per key person, explained, with Accept
    /match                               clients whose relationship rests on one colleague
    /touchbase me                        your seniority, practice areas and interests (and a form)
    /touchbase me seniority partner
    /touchbase me practice tax, M&A
    /touchbase me interests golf, sailing

Nothing is applied silently: a suggestion changes nothing until someone presses Accept, which
makes that colleague the key person's relationship holder and notes it in the client's history.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from bot.app import Context, Registry, Reply
from bot.domain import Client, Person, Role
from bot.matching import (
    Colleague,
    colleagues,
    contact_label,
    explain,
    level_of,
    load_line,
    suggest,
)
from bot.matter_ports import TouchLine
from bot.messages import (
    Action,
    Field,
    Form,
    FormErrors,
    FormInput,
    Message,
    Section,
    Style,
    Tone,
    error,
)
from bot.parsing import ClientName
from bot.resolve import client_problem, find_client
from bot.rules import SINGLE_THREAD_WINDOW_DAYS, single_threaded
from bot.text import a_role, clip, pack, plural, row_id, stop, unpack

USAGE = "Try: /match Acme"
ME_USAGE = (
    "Try: /touchbase me seniority partner, /touchbase me practice tax, M&A, "
    "or /touchbase me interests golf, sailing"
)
ME_FORM = "touchbase_me"
MAX_ITEMS = 12
MAX_ITEM_CHARS = 60


# --- /match -------------------------------------------------------------------------------------


async def match_command(ctx: Context, text: str) -> Reply:
    text = " ".join(text.split())
    if not text:
        return await single_threaded_clients(ctx)
    found = await find_client(ctx.uow.clients, text)
    if found.client is None:

        def suggest(c: ClientName) -> Action:
            return Action("match_open", clip(f"Match {c.name}", 60), str(c.id))

        return client_problem(found, USAGE, button=suggest)
    return await match_card(ctx, found.client)


async def _pool(ctx: Context) -> tuple[list[Colleague], dict[int, Person]]:
    people = await ctx.uow.people.list()
    pool = colleagues(
        people,
        await ctx.uow.matching.seniorities(),
        await ctx.uow.matching.relationship_counts(),
        ctx.config.load_targets,
    )
    return pool, {p.id: p for p in people}


def _window(today: date) -> date:
    return today - timedelta(days=SINGLE_THREAD_WINDOW_DAYS)


def threads(
    client_ids: Sequence[int],
    lines: Sequence[TouchLine],
    holders: Mapping[int, set[int]],
    since: date,
) -> tuple[dict[int, set[int]], set[int]]:
    """Who is in touch with each client (touches since `since`, plus key-people holders), and
    which clients rest on one colleague alone (`bot.rules.single_threaded`)."""
    touchers: dict[int, set[int]] = {cid: set() for cid in client_ids}
    for t in lines:
        if t.occurred_on >= since and t.client_id in touchers:
            touchers[t.client_id].add(t.person_id)
    flagged = single_threaded(touchers, holders)
    people = {cid: touchers.get(cid, set()) | holders.get(cid, set()) for cid in client_ids}
    return people, flagged


async def match_card(ctx: Context, client: Client) -> Message:
    today = ctx.today()
    contacts = await ctx.uow.matching.contacts([client.id])
    pool, people = await _pool(ctx)
    year_start = date(today.year, 1, 1)
    since = _window(today)
    lines = await ctx.uow.matching.touch_lines(min(year_start, since), [client.id])
    holders = {client.id: {c.holder_id for c in contacts if c.holder_id is not None}}
    in_touch, flagged = threads([client.id], lines, holders, since)

    sections: list[Section] = []
    only: int | None = None
    if client.id in flagged:
        (only,) = in_touch[client.id]
        sections.append(single_thread_section(client, only, people))
    if not contacts:
        sections.append(
            Section(
                text=f"No key people recorded for {client.name} yet. Add them with "
                f"/client {client.name} people add Dana Scully, CFO, decision maker, "
                "loves sailing"
            )
        )
        return Message(
            text=f"I can't suggest anyone for {client.name} until its key people are recorded.",
            title=f"Who suits whom at {client.name}",
            sections=tuple(sections),
            tone=Tone.WARNING if client.id in flagged else Tone.INFO,
        )

    this_year = [t for t in lines if t.occurred_on >= year_start]
    suggestions = suggest(
        contacts, pool, this_year, client.name, owner_id=client.owner_id, spread_from=only
    )
    for s in suggestions:
        actions: tuple[Action, ...] = ()
        context = None
        if s.colleague is not None:
            context = load_line(s.colleague, s.earlier).capitalize()
            if s.keeps_holder:
                context += ". Already their person: nothing to change."
            else:
                actions = (
                    Action(
                        "match_accept",
                        clip(f"Accept {s.colleague.person.display_name}", 60),
                        pack(c=s.contact.id, p=s.colleague.person.id),
                        Style.PRIMARY,
                    ),
                )
        sections.append(Section(text=explain(s), context=context, actions=actions))
    open_ = sum(1 for s in suggestions if s.colleague is not None and not s.keeps_holder)
    summary = f"{plural(len(suggestions), 'key person', 'key people')} at {client.name}"
    summary += f"; {open_} suggestion{'s' if open_ != 1 else ''} to accept." if open_ else "."
    return Message(
        text=summary,
        title=f"Who suits whom at {client.name}",
        sections=tuple(sections),
        actions=(Action("client_open", "Open client", str(client.id)),),
        tone=Tone.WARNING if client.id in flagged else Tone.INFO,
    )


def _who(people: Mapping[int, Person], person_id: int | None) -> str:
    person = people.get(person_id or 0)
    return person.display_name if person else "one colleague"


def single_thread_section(client: Client, only: int, people: Mapping[int, Person]) -> Section:
    """Who the client rests on, and where its owner stands: the owner is one of the people
    matching brings in, so they are named when they are not the one in touch."""
    who = _who(people, only)
    window = f"in the last {SINGLE_THREAD_WINDOW_DAYS} days"
    if client.owner_id == only:
        text = (
            f"{client.name} rests on {who}, its owner, alone: nobody else has been in touch "
            f"{window} or holds one of its key people."
        )
    elif client.owner_id is not None:
        text = (
            f"{client.name} rests on {who} alone: nobody else has been in touch {window} or "
            f"holds one of its key people, not even its owner, {_who(people, client.owner_id)}."
        )
    else:
        text = (
            f"{client.name} rests on {who} alone: nobody else has been in touch {window} or "
            "holds one of its key people, and nobody owns it."
        )
    return Section(
        heading="Single-threaded",
        text=text,
        context=(
            f"So the suggestions below go to colleagues other than {who} wherever someone else "
            "has room: accepting them spreads the relationship."
        ),
    )


async def open_match(ctx: Context, value: str) -> Reply:
    client = await ctx.uow.clients.get(cid) if (cid := row_id(value)) else None
    if client is None:
        return error("That client is no longer there.", USAGE)
    return await match_card(ctx, client)


async def single_threaded_clients(ctx: Context) -> Reply:
    """Every client whose relationship rests on one colleague alone."""
    today = ctx.today()
    since = _window(today)
    clients = {c.id: c for c in await ctx.uow.clients.list()}
    lines = await ctx.uow.matching.touch_lines(since)
    holders: dict[int, set[int]] = {}
    for c in await ctx.uow.matching.contacts():
        if c.holder_id is not None:
            holders.setdefault(c.client_id, set()).add(c.holder_id)
    in_touch, flagged = threads(list(clients), lines, holders, since)
    if not flagged:
        return Message(
            text="No client rests on one colleague alone. Type /match <client> for suggestions.",
            tone=Tone.SUCCESS,
        )
    people = {p.id: p for p in await ctx.uow.people.list()}
    ordered = sorted(flagged, key=lambda cid: clients[cid].name.casefold())

    def line(cid: int) -> str:
        client, only = clients[cid], next(iter(in_touch[cid]))
        text = f"{client.name}: only {_who(people, only)}"
        if client.owner_id == only:
            return text + ", its owner"
        if client.owner_id is not None:
            return text + f" (its owner, {_who(people, client.owner_id)}, is not in touch)"
        return text + " (no owner)"

    lines_out = [line(cid) for cid in ordered[:30]]
    return Message(
        text=f"{plural(len(flagged), 'client')} rest on one colleague alone.",
        title="Single-threaded clients",
        sections=(
            Section(
                text="\n".join(lines_out),
                context=f"In touch in the last {SINGLE_THREAD_WINDOW_DAYS} days, or holding a "
                "key person. Type /match <client> for who else suits them.",
            ),
        ),
        actions=tuple(
            Action("match_open", clip(f"Match {clients[cid].name}", 60), str(cid))
            for cid in ordered[:5]
        ),
        tone=Tone.WARNING,
    )


async def accept(ctx: Context, value: str) -> Reply:
    data = unpack(value)
    contact_id, person_id = row_id(data.get("c")), row_id(data.get("p"))
    contact = await ctx.uow.matching.contact(contact_id) if contact_id else None
    person = await ctx.uow.people.get(person_id) if person_id else None
    if contact is None or person is None:
        return error("That suggestion is out of date. Type /match <client> for fresh ones.")
    client = await ctx.uow.clients.get(contact.client_id)
    if client is None:
        return error("That client is no longer there.")
    me = ctx.person
    if me.id not in (client.owner_id, person.id) and me.role not in (Role.PRINCIPAL, Role.ADMIN):
        return error(
            f"Only {client.name}'s owner, a principal, or {person.display_name} can accept this."
        )
    if contact.holder_id == person.id:
        return Message(text=stop(f"{person.display_name} already holds {contact.name}"))
    target = ctx.config.load_targets.get(person.role)
    held = (await ctx.uow.matching.relationship_counts()).get(person.id, 0)
    if target is not None and held >= target.high:
        return error(
            f"{person.display_name} holds {held} relationships, the most for "
            f"{a_role(person.role)} ({target.describe()}). Type /match {client.name} again "
            "for someone with room."
        )
    previous = await ctx.uow.people.get(contact.holder_id) if contact.holder_id else None
    await ctx.uow.matching.set_holder(contact.id, person.id)
    was = f", taking over from {previous.display_name}" if previous else ""
    await ctx.uow.history.add_event(
        client.id,
        me.id,
        "key_person_holder",
        f"{person.display_name} now holds the relationship with {contact_label(contact)}{was}; "
        f"suggested by /match, accepted by {me.display_name}",
    )
    if person.id != me.id:
        ctx.notify(
            person.address,
            Message(
                text=(
                    f"{me.display_name} asked you to be {client.name}'s person for "
                    f"{contact_label(contact)}."
                ),
                sections=(Section(text=contact.notes),) if contact.notes else (),
                actions=(Action("client_open", "Open client", str(client.id)),),
            ),
            person.id,
        )
    who = "You now hold" if person.id == me.id else f"{person.display_name} now holds"
    return Message(
        text=stop(f"{who} the relationship with {contact_label(contact)} at {client.name}"),
        actions=(
            Action("match_open", "Back to suggestions", str(client.id)),
            Action("client_open", "Open client", str(client.id)),
        ),
        tone=Tone.SUCCESS,
    )


# --- /touchbase me ------------------------------------------------------------------------------


def split_list(text: str) -> list[str]:
    """ "tax, M&A; estate planning" -> ["tax", "M&A", "estate planning"], duplicates dropped."""
    seen: dict[str, str] = {}
    for item in re.split(r"[,;\n]", text):
        item = " ".join(item.split()).strip(" .")
        if item and item.casefold() not in seen and item.casefold() not in ("none", "-"):
            seen[item.casefold()] = item[:MAX_ITEM_CHARS]
    return list(seen.values())[:MAX_ITEMS]


async def _seniority(ctx: Context) -> str | None:
    return (await ctx.uow.matching.seniorities()).get(ctx.person.id)


async def profile_card(ctx: Context, saved: str | None = None) -> Message:
    person = await ctx.uow.people.get(ctx.person.id) or ctx.person
    seniority = await _seniority(ctx)
    fields = (
        Field("Role", person.role.value),
        Field(
            "Seniority", seniority or f"not given (matching uses your role, {person.role.value})"
        ),
        Field("Practice areas", ", ".join(person.practice_areas) or "none given"),
        Field("Interests", ", ".join(person.interests) or "none given"),
    )
    return Message(
        text=saved or "Your profile, used to suggest who suits whom at each client.",
        title="Your profile",
        sections=(Section(fields=fields), Section(context=ME_USAGE)),
        actions=(Action("touchbase_me_open", "Edit", "", Style.PRIMARY),),
        tone=Tone.SUCCESS if saved else Tone.INFO,
    )


async def me_command(ctx: Context, text: str) -> Reply:
    text = " ".join(text.split())
    if not text:
        return await profile_card(ctx)
    what, _, rest = text.partition(" ")
    what = what.casefold()
    if what == "practice" and rest.casefold().startswith("areas"):
        rest = rest[5:].strip()
    rest = rest.lstrip(":").strip()
    if what == "seniority":
        return await set_seniority(ctx, rest)
    if what in ("practice", "practices", "practice-areas"):
        areas = split_list(rest)
        await ctx.uow.people.update(ctx.person.id, practice_areas=areas)
        said = ", ".join(areas) if areas else "none"
        return await profile_card(ctx, f"Saved your practice areas: {said}.")
    if what in ("interests", "interest", "hobbies"):
        interests = split_list(rest)
        await ctx.uow.people.update(ctx.person.id, interests=interests)
        said = ", ".join(interests) if interests else "none"
        return await profile_card(ctx, f"Saved your interests: {said}.")
    if what == "role":
        return Message(
            text=f"Your role is {ctx.person.role.value}. An admin changes roles with "
            "/touchbase role @person <role>. Your seniority you set yourself: "
            "/touchbase me seniority partner",
        )
    return error(f'I can\'t set "{clip(what, 40)}" on your profile.', ME_USAGE)


async def set_seniority(ctx: Context, text: str) -> Reply:
    value = " ".join(text.split())[:64]
    if value.casefold() in ("", "none", "-"):
        await ctx.uow.people.update(ctx.person.id, seniority=None)
        return await profile_card(ctx, "Cleared your seniority; matching uses your role.")
    await ctx.uow.people.update(ctx.person.id, seniority=value)
    message = await profile_card(ctx, f"Saved your seniority: {value}.")
    if level_of(value) is None:
        return Message(
            text=message.text,
            title=message.title,
            sections=(
                Section(
                    text=f'I can\'t place "{value}" on the scale matching uses, so it will go by '
                    "your role. Words like partner, principal, director, senior manager, manager "
                    "or associate work."
                ),
                *message.sections,
            ),
            actions=message.actions,
            tone=Tone.WARNING,
        )
    return message


async def open_me_form(ctx: Context, value: str) -> Reply:
    person = await ctx.uow.people.get(ctx.person.id) or ctx.person
    return Form(
        form_id=ME_FORM,
        title="Your profile",
        inputs=(
            FormInput(
                "seniority",
                "Seniority",
                initial=await _seniority(ctx),
                placeholder="e.g. partner, director, manager",
            ),
            FormInput(
                "practice",
                "Practice areas",
                initial=", ".join(person.practice_areas) or None,
                placeholder="e.g. tax, M&A",
            ),
            FormInput(
                "interests",
                "Interests",
                initial=", ".join(person.interests) or None,
                placeholder="e.g. golf, sailing",
            ),
        ),
    )


async def submit_me_form(ctx: Context, values: Mapping[str, str], _private: str) -> Reply:
    seniority = " ".join(values.get("seniority", "").split())
    if len(seniority) > 64:
        return FormErrors({"seniority": "Keep it under 64 characters."})
    await ctx.uow.people.update(
        ctx.person.id,
        seniority=seniority or None,
        practice_areas=split_list(values.get("practice", "")),
        interests=split_list(values.get("interests", "")),
    )
    return await profile_card(ctx, "Saved your profile.")


def register(r: Registry) -> None:
    r.command("match")(match_command)
    r.action("match_open")(open_match)
    r.action("match_accept")(accept)
    r.command("touchbase me")(me_command)
    r.action("touchbase_me_open")(open_me_form)
    r.form(ME_FORM)(submit_me_form)
