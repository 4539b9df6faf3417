"""A client's profile: its key people (who decides, who influences, what matters to each), its
segment, and how and how often it wants updates. Edited by command or by a form; shown on the
client card to everyone at the firm.

    /client Acme people                     the key people
    /client Acme people add Dana Scully, CFO, decision maker, cares about predictability
    /client Acme people remove Dana Scully
    /client Acme segment Manufacturing      (or: segment none)
    /client Acme prefers weekly email updates
    /client Acme profile                    the form
    /client Acme closeout [what finished]   starts the client-care check-ins
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.app import Context, Registry, Reply
from bot.domain import Client, Contact
from bot.messages import (
    Action,
    Form,
    FormErrors,
    FormInput,
    InputKind,
    Message,
    Section,
    Tone,
    error,
    notice,
)
from bot.parsing import ClientMatch, ClientName
from bot.resolve import client_names, client_problem_text, find_client
from bot.rules import effective_cadence
from bot.text import clip, pack, plural, row_id, stop, unpack

from . import book
from .capture import domain_command
from .owner import closeout

FORM_ID = "client_profile"
PEOPLE_USAGE = (
    "Try: /client Acme people add Dana Scully, CFO, decision maker, cares about predictability"
)
INFLUENCE = {
    "decision maker": "decision maker",
    "decision-maker": "decision maker",
    "decider": "decision maker",
    "influencer": "influencer",
    "influence": "influencer",
    "user": "user",
    "end user": "user",
}
_KEYWORDS = (
    r"close[- ]?out|people|key people|profile|segment|prefers|prefer"
    r"|cadence|rename|merge|archive|unarchive|delete|domain"
)
_ROUTE = re.compile(
    rf"^(?P<name>.+?)\s+(?P<kw>{_KEYWORDS})(?:\s+(?P<rest>.*))?$",
    re.IGNORECASE | re.DOTALL,
)
_KEYWORD_AT = re.compile(rf"\s+(?P<kw>{_KEYWORDS})(?=\s|$)", re.IGNORECASE)
_RHYTHM = (
    (re.compile(r"\bdaily\b|\bevery day\b", re.I), 1),
    (re.compile(r"\btwice a week\b", re.I), 3),
    (re.compile(r"\bweekly\b|\bevery week\b|\bonce a week\b", re.I), 7),
    (re.compile(r"\bfortnightly\b|\bbi-?weekly\b|\bevery (?:two|2) weeks\b", re.I), 14),
    (re.compile(r"\bmonthly\b|\bevery month\b|\bonce a month\b", re.I), 30),
    (re.compile(r"\bquarterly\b|\bevery quarter\b", re.I), 91),
)
_EVERY_N = re.compile(r"\bevery\s+(\d{1,3})\s+(day|week|month)s?\b", re.I)


# --- parsing -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyPerson:
    name: str
    title: str | None = None
    influence: str | None = None
    notes: str | None = None


def influence_of(text: str) -> str | None:
    return INFLUENCE.get(" ".join(text.casefold().split()))


def parse_key_person(text: str) -> KeyPerson | None:
    """`Dana Scully, CFO, decision maker, cares about predictability`: name, then title,
    influence (decision maker, influencer or user) and notes, each optional. Notes may hold
    commas."""
    parts = [p.strip() for p in text.split(",")]
    name = " ".join(parts[0].split()) if parts else ""
    if not name:
        return None
    title: str | None = None
    influence: str | None = None
    notes: list[str] = []
    for part in parts[1:]:
        if not part:
            continue
        if notes:
            notes.append(part)
        elif influence is None and influence_of(part):
            influence = influence_of(part)
        elif title is None and influence is None:
            title = part
        else:
            notes.append(part)
    return KeyPerson(name[:200], title and title[:200], influence, ", ".join(notes) or None)


def rhythm_days(text: str) -> int | None:
    """How often, in days, "weekly email updates" or "every 2 weeks" asks for."""
    every = _EVERY_N.search(text)
    if every:
        n = int(every.group(1))
        unit = every.group(2).lower()
        return n * {"day": 1, "week": 7, "month": 30}[unit] or None
    for pattern, days in _RHYTHM:
        if pattern.search(text):
            return days
    return None


def describe_person(c: Contact) -> str:
    head = c.name + (f", {c.title}" if c.title else "")
    if c.influence:
        head += f" ({c.influence})"
    return head + (f": {c.notes}" if c.notes else "")


def person_line(c: Contact) -> str:
    return ", ".join(x for x in (c.name, c.title, c.influence, c.notes) if x)


# --- routing /client <name> <keyword> ... --------------------------------------------------------


def _is_a_name(text: str, clients: Sequence[ClientName]) -> bool:
    """Whether the whole text is a client's name or alias ("Data Segment Co" is not the
    segment command for "Data")."""
    key = " ".join(text.split()).casefold()
    return any(
        key in {" ".join(n.split()).casefold() for n in (c.name, *c.aliases)} for c in clients
    )


def _keyword(typed: str) -> str:
    return typed.lower().replace("-", "").replace(" ", "")


async def route(ctx: Context, text: str) -> Reply | None:
    """Handle `/client <name> closeout|people|profile|segment|prefers ...`; None when the text
    is not one of these, so /client shows the card as before. A recognised keyword after a name
    that is no client gets an answer here, never an offer to add "Hooly closeout" as a client."""
    text = text.strip()
    found = _ROUTE.match(text)
    if found is None:
        return None
    clients = client_names(await ctx.uow.clients.list())
    if _is_a_name(text, clients):
        return None
    typed = " ".join(found.group("name").split())
    said = found.group("kw")
    rest = (found.group("rest") or "").strip()
    # "Data Segment Co rename Dasco": the keyword after the longest known name is the command.
    for at in _KEYWORD_AT.finditer(text):
        name = text[: at.start()]
        if at.start() > found.start("kw") and _is_a_name(name, clients):
            typed, said = " ".join(name.split()), at.group("kw")
            rest = text[at.end() :].strip()
    keyword = _keyword(said)
    named = await find_client(ctx.uow.clients, typed, source=_Known(clients))
    if named.client is None:
        return not_a_client(typed, said.lower(), keyword, rest, named.match)
    return await HANDLERS[keyword](ctx, named.client, rest)


@dataclass(frozen=True, slots=True)
class _Known:
    """The names this command has already listed, as the resolver's source."""

    names: Sequence[ClientName]

    async def candidates(self, text: str) -> Sequence[ClientName]:
        return self.names


def not_a_client(typed: str, said: str, keyword: str, rest: str, match: ClientMatch) -> Message:
    """`/client Hooly closeout`: which client, with a button for each close match that does
    what was asked for that client, and the command to type."""
    shown = clip(typed, 80)
    tail = f" {said}" + (f" {clip(rest, 200)}" if rest else "")
    candidates = match.candidates[: 5 if match.status == "ambiguous" else 3]
    buttons = []
    for c in candidates:
        try:
            value = pack(c=c.id, k=keyword, r=rest)
        except ValueError:  # too long for a button: open the client instead
            buttons.append(Action("client_open", clip(c.name, 60), str(c.id)))
            continue
        buttons.append(Action("profile_route", clip(f"{c.name}{tail}", 60), value))
    text = client_problem_text(typed, match)
    if candidates:
        how = f"Or type it: /client {candidates[0].name}{tail}"
    else:
        how = (
            f"Type /clients to see yours. If {shown} is a new client, add it first with "
            f"/client add {shown}, then: /client {shown}{tail}"
        )
    return Message(
        text=text, sections=(Section(text=how),), actions=tuple(buttons), tone=Tone.WARNING
    )


async def routed_button(ctx: Context, value: str) -> Reply:
    """A "Did you mean" button under `not_a_client`: the command, for that client."""
    data = unpack(value)
    client_id = row_id(data.get("c"))
    client = await ctx.uow.clients.get(client_id) if client_id else None
    handler = HANDLERS.get(str(data.get("k", "")))
    if client is None or handler is None:
        return error("That client is no longer there.", "Type /clients to see yours.")
    return await handler(ctx, client, str(data.get("r", "")))


async def tell_owner(ctx: Context, client: Client, what: str) -> None:
    """Someone other than its owner changed a client's profile: the owner hears it from us, as
    a segment can change how often they are asked to be in touch."""
    if client.owner_id is None or client.owner_id == ctx.person.id:
        return
    owner = await ctx.uow.people.get(client.owner_id)
    if owner is None:
        return
    ctx.notify(
        owner.address,
        Message(
            text=f"{ctx.person.display_name} {what}",
            actions=(Action("client_open", "Open client", str(client.id)),),
        ),
        owner.id,
    )


async def _cadence(ctx: Context, client: Client) -> int:
    segments = {k: v for k, v in (await ctx.uow.ownership.segments()).items() if v}
    return effective_cadence(client, ctx.config.default_cadence_days, segments)


async def people_command(ctx: Context, client: Client, text: str) -> Reply:
    verb, _, rest = text.partition(" ")
    verb = verb.lower()
    if verb in ("add", "new", "update", "set"):
        return await add_person(ctx, client, rest)
    if verb in ("remove", "delete", "drop"):
        return await remove_person(ctx, client, rest)
    if text:
        return await add_person(ctx, client, text)
    return await show_people(ctx, client)


async def show_people(ctx: Context, client: Client) -> Reply:
    people = await ctx.uow.contacts.for_client(client.id)
    if not people:
        return Message(
            text=f"No key people recorded for {client.name} yet.",
            sections=(Section(text=PEOPLE_USAGE),),
            actions=(Action("profile_open", "Edit profile", str(client.id)),),
        )
    return Message(
        text=f"{client.name}: {plural(len(people), 'key person', 'key people')}.",
        title=f"Key people at {client.name}",
        sections=(Section(text="\n".join(describe_person(c) for c in people)),),
        actions=(Action("profile_open", "Edit profile", str(client.id)),),
    )


async def add_person(ctx: Context, client: Client, text: str) -> Reply:
    person = parse_key_person(text)
    if person is None:
        return error("Who is it?", PEOPLE_USAGE)
    existing = {c.name.casefold(): c for c in await ctx.uow.contacts.for_client(client.id)}
    known = existing.get(person.name.casefold())
    if known is not None:
        changes = {
            k: v
            for k, v in (
                ("title", person.title),
                ("influence", person.influence),
                ("notes", person.notes),
            )
            if v
        }
        saved = await ctx.uow.ownership.update_key_person(known.id, **changes) or known
        verb = "Updated"
    else:
        saved = await ctx.uow.ownership.add_key_person(
            client.id,
            person.name,
            title=person.title,
            influence=person.influence,
            notes=person.notes,
        )
        verb = "Added"
    await ctx.uow.history.add_event(
        client.id, ctx.person.id, "profile", f"{verb} key person {saved.name}"
    )
    await tell_owner(
        ctx, client, f"{verb.lower()} a key person at {client.name}: {describe_person(saved)}."
    )
    return Message(
        text=stop(f"{verb} {describe_person(saved)}, at {client.name}"),
        sections=(Section(context="Key people and what matters to them are visible to the firm."),),
        tone=Tone.SUCCESS,
    )


async def remove_person(ctx: Context, client: Client, text: str) -> Reply:
    name = " ".join(text.split()).casefold()
    matches = [
        c
        for c in await ctx.uow.contacts.for_client(client.id)
        if c.name.casefold() == name or c.name.casefold().startswith(name + " ")
    ]
    if len(matches) != 1:
        return error(
            f"{'Which one?' if matches else 'Nobody by that name'} among {client.name}'s key people.",
            f"Type /client {client.name} people to see them.",
        )
    await ctx.uow.ownership.remove_key_person(matches[0].id)
    await ctx.uow.history.add_event(
        client.id, ctx.person.id, "profile", f"Removed key person {matches[0].name}"
    )
    await tell_owner(ctx, client, f"removed {matches[0].name} from {client.name}'s key people.")
    return notice(f"Removed {matches[0].name} from {client.name}'s key people.", tone=Tone.SUCCESS)


async def segment_command(ctx: Context, client: Client, text: str) -> Reply:
    name = " ".join(text.split())
    if not name:
        now = stop(f"{client.name} is in {client.segment}") if client.segment else "No segment yet."
        return notice(now + f" Set it with /client {client.name} segment Manufacturing.")
    if len(name) > 100:
        return error("Keep a segment's name under 100 characters.")
    before = await _cadence(ctx, client)
    if name.lower() in ("none", "clear", "-"):
        if client.segment is None:
            return notice(f"{client.name} has no segment.")
        updated = await ctx.uow.clients.update(client.id, segment=None)
        await ctx.uow.history.add_event(client.id, ctx.person.id, "profile", "Segment cleared")
        done = f"took {client.name} out of the {client.segment} segment."
        reply = f"{client.name} has no segment now."
    else:
        segment = await ctx.uow.ownership.ensure_segment(name)
        if segment == client.segment:
            return notice(f"{client.name} is already in the {segment} segment.")
        updated = await ctx.uow.clients.update(client.id, segment=segment)
        await ctx.uow.history.add_event(client.id, ctx.person.id, "profile", f"Segment: {segment}")
        was = f"; it was in {client.segment}" if client.segment else ""
        done = f"put {client.name} in the {segment} segment{was}."
        reply = f"{client.name} is in the {segment} segment."
    after = await _cadence(ctx, updated)
    if after != before:
        change = f" Its cadence is now every {plural(after, 'day')} (was {before})."
        done += change
        reply += change
    await tell_owner(ctx, client, done)
    return notice(reply, tone=Tone.SUCCESS)


async def prefers_command(ctx: Context, client: Client, text: str) -> Reply:
    text = " ".join(text.split())
    if not text:
        return notice(preferences_text(client) or f"No preferences noted for {client.name} yet.")
    days = rhythm_days(text)
    changes: dict[str, object] = {"preferences": text[:2000]}
    if days:
        changes["update_rhythm_days"] = days
    updated = await ctx.uow.clients.update(client.id, **changes)
    await ctx.uow.history.add_event(client.id, ctx.person.id, "profile", "Update preferences noted")
    await tell_owner(
        ctx, client, f"noted how {client.name} wants updates: {preferences_text(updated)}"
    )
    return notice(f"Noted: {preferences_text(updated)}", tone=Tone.SUCCESS)


def preferences_text(client: Client) -> str:
    parts = []
    if client.preferences:
        parts.append(f"{client.name} prefers {client.preferences}")
    if client.update_rhythm_days:
        parts.append(f"an update every {plural(client.update_rhythm_days, 'day')}")
    return " (".join(parts) + (")" if len(parts) == 2 else "") + ("." if parts else "")


# --- the form ------------------------------------------------------------------------------------


async def profile_form(ctx: Context, client: Client) -> Form:
    people = await ctx.uow.contacts.for_client(client.id)
    return Form(
        form_id=FORM_ID,
        title=clip(f"{client.name}: profile", 24),
        submit_label="Save",
        private_value=str(client.id),
        inputs=(
            FormInput(
                "segment", "Segment", initial=client.segment, placeholder="e.g. Manufacturing"
            ),
            FormInput(
                "rhythm",
                "How often they want updates (days)",
                initial=str(client.update_rhythm_days) if client.update_rhythm_days else None,
                placeholder="e.g. 7",
            ),
            FormInput(
                "preferences",
                "How they like to hear from us",
                InputKind.MULTILINE,
                initial=client.preferences,
                placeholder="e.g. a short email every Friday; calls only for decisions",
            ),
            FormInput(
                "people",
                "Key people, one a line: name, title, influence, what matters to them",
                InputKind.MULTILINE,
                initial="\n".join(person_line(c) for c in people) or None,
                placeholder="Dana Scully, CFO, decision maker, cares about predictability",
            ),
        ),
    )


async def profile_command(ctx: Context, client: Client, text: str) -> Reply:
    return await profile_form(ctx, client)


async def open_profile(ctx: Context, value: str) -> Reply:
    client_id = row_id(value)
    client = await ctx.uow.clients.get(client_id) if client_id else None
    if client is None:
        return error("That client is no longer there.")
    return await profile_form(ctx, client)


async def submit_profile(ctx: Context, values: Mapping[str, str], private: str) -> Reply:
    client_id = row_id(private)
    client = await ctx.uow.clients.get(client_id) if client_id else None
    if client is None:
        return error("That client is no longer there.")
    errors: dict[str, str] = {}
    rhythm_raw = values.get("rhythm", "").strip()
    rhythm: int | None = None
    if rhythm_raw:
        rhythm = row_id(rhythm_raw) or rhythm_days(rhythm_raw)
        if rhythm is None or not 1 <= rhythm <= 365:
            errors["rhythm"] = "A number of days from 1 to 365, e.g. 7 for weekly."
    segment = " ".join(values.get("segment", "").split())
    if len(segment) > 100:
        errors["segment"] = "Keep it under 100 characters."
    wanted: list[KeyPerson] = []
    for line in values.get("people", "").splitlines():
        if line.strip():
            person = parse_key_person(line)
            if person is not None:
                wanted.append(person)
    if errors:
        return FormErrors(errors)
    segment_name = await ctx.uow.ownership.ensure_segment(segment) if segment else None
    preferences = values.get("preferences", "").strip() or None
    await ctx.uow.clients.update(
        client.id,
        segment=segment_name,
        update_rhythm_days=rhythm,
        preferences=preferences[:2000] if preferences else None,
    )
    existing = {c.name.casefold(): c for c in await ctx.uow.contacts.for_client(client.id)}
    keep: set[int] = set()
    for person in wanted:
        known = existing.get(person.name.casefold())
        if known is None:
            await ctx.uow.ownership.add_key_person(
                client.id,
                person.name,
                title=person.title,
                influence=person.influence,
                notes=person.notes,
            )
        else:
            keep.add(known.id)
            await ctx.uow.ownership.update_key_person(
                known.id, title=person.title, influence=person.influence, notes=person.notes
            )
    for c in existing.values():
        if c.id not in keep:
            await ctx.uow.ownership.remove_key_person(c.id)
    await ctx.uow.history.add_event(client.id, ctx.person.id, "profile", "Profile updated")
    changed = [
        label
        for label, was, now in (
            ("segment", client.segment, segment_name),
            ("update rhythm", client.update_rhythm_days, rhythm),
            ("preferences", client.preferences, preferences[:2000] if preferences else None),
            (
                "key people",
                sorted(person_line(c) for c in existing.values()),
                sorted(person_line(c) for c in await ctx.uow.contacts.for_client(client.id)),
            ),
        )
        if was != now
    ]
    if changed:
        updated = await ctx.uow.clients.get(client.id) or client
        line = f"updated {client.name}'s profile: {', '.join(changed)}."
        if "segment" in changed:
            line += f" Segment: {segment_name or 'none'}"
            before, after = await _cadence(ctx, client), await _cadence(ctx, updated)
            line += (
                f"; its cadence is now every {plural(after, 'day')} (was {before})."
                if after != before
                else "."
            )
        await tell_owner(ctx, client, line)
    return Message(
        text=f"Saved {client.name}'s profile.",
        actions=(Action("client_open", "Open client", str(client.id)),),
        tone=Tone.SUCCESS,
    )


# --- on the client card --------------------------------------------------------------------------


async def profile_card(ctx: Context, client: Client) -> tuple[Section, ...]:
    people = await ctx.uow.contacts.for_client(client.id)
    edit = (Action("profile_open", "Edit profile", str(client.id)),)
    prefs = preferences_text(client)
    if not people and not prefs:
        return (
            Section(
                heading="Profile",
                text="No key people or update preferences yet.",
                actions=edit,
            ),
        )
    sections: list[Section] = []
    if people:
        sections.append(
            Section(heading="Key people", text="\n".join(describe_person(c) for c in people))
        )
    if prefs:
        sections.append(Section(heading="How they want updates", text=prefs))
    last = sections[-1]
    sections[-1] = Section(
        text=last.text, fields=last.fields, heading=last.heading, context=last.context, actions=edit
    )
    return tuple(sections)


HANDLERS: dict[str, Callable[[Context, Client, str], Awaitable[Reply]]] = {
    "closeout": closeout,
    "people": people_command,
    "keypeople": people_command,
    "profile": profile_command,
    "segment": segment_command,
    "prefers": prefers_command,
    "prefer": prefers_command,
    "domain": domain_command,
    **book.HANDLERS,
}


def register(r: Registry) -> None:
    r.action("profile_open")(open_profile)
    r.action("profile_route")(routed_button)
    r.form(FORM_ID)(submit_profile)
    r.card_extensions.append(profile_card)
