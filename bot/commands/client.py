"""/client: a client's card and history; /client add."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime

from bot.app import Context, Registry, Reply
from bot.domain import Client, ClientStatus, Role, Touch, TouchKind
from bot.messages import Action, Field, Message, Section, Style, Tone, error
from bot.parsing import label_key
from bot.resolve import client_problem, find_client
from bot.rules import effective_cadence, next_due, open_follow_ups
from bot.text import clip, pack, plural, row_id, stop, unpack, when

from . import profile
from .book import name_clash

USAGE = "Try: /client Acme, or /client add Acme Corp, ACME (a name, then any aliases)"
CARD_LINES = 8  # history lines on the card
FULL_LINES = 50  # history lines behind the "Full history" button
_FETCH = 200  # touches and events read to count what the card leaves out
_ADD = re.compile(r"^(?:add|new|create)\b\s*", re.IGNORECASE)
_AKA = re.compile(r"\s+(?:aka|a\.k\.a\.|alias(?:es)?)\s+", re.IGNORECASE)


def parse_new_client(text: str) -> tuple[str, list[str]]:
    """`"Smith & Sons" S&S; Smiths` or `Acme Corp, ACME` or `Acme Corp aka ACME`."""
    text = text.strip()
    quoted = re.match(r"^[\"“']([^\"”']+)[\"”']\s*(.*)$", text)
    if quoted:
        name, rest = quoted.group(1), quoted.group(2)
    else:
        parts = re.split(r"[,;]|" + _AKA.pattern, text, maxsplit=1, flags=re.IGNORECASE)
        name, rest = parts[0], (parts[1] if len(parts) > 1 else "")
    aliases = [a.strip(" \"'“”") for a in re.split(r"[,;]|" + _AKA.pattern, rest, flags=re.I)]
    name = " ".join(name.split())
    return name, [a for a in aliases if a and a.casefold() != name.casefold()]


async def client_command(ctx: Context, text: str) -> Reply:
    if not text:
        return error("Which client?", USAGE)
    if _ADD.match(text):
        return await add_client(ctx, _ADD.sub("", text, count=1))
    routed = await profile.route(ctx, text)  # <name> closeout|people|profile|segment|prefers
    if routed is not None:
        return routed
    found = await find_client(ctx.uow.clients, text)
    if found.client is not None:
        return await client_card(ctx, found.client)
    if found.match.status == "ambiguous":
        return client_problem(found)
    problem = client_problem(found)
    if len(text) <= 200:  # the "add it" offer first, then the close matches
        add = Action("client_add", f"Add {clip(text, 40)}", pack(text=text))
        problem = replace(problem, actions=(add, *problem.actions))
    return problem


async def add_from_button(ctx: Context, value: str) -> Reply:
    """The "Add Hooli" button under an unknown client: the same as /client add Hooli."""
    name = " ".join(str(unpack(value).get("text", "")).split())
    if not name:
        return error("I lost track of that client's name.", USAGE)
    return await create_client(ctx, name, [])  # as typed: a comma in it is not an alias


async def add_client(ctx: Context, text: str) -> Reply:
    name, aliases = parse_new_client(text)
    return await create_client(ctx, name, aliases)


async def create_client(ctx: Context, name: str, aliases: list[str]) -> Reply:
    """Add a client owned by the person asking, unless its name or an alias is taken."""
    if not name:
        return error("What is the client called?", USAGE)
    if len(name) > 200:
        return error("That name is too long: keep it under 200 characters.")
    existing = await ctx.uow.clients.by_name(name)
    if existing is not None:
        return Message(
            text=f"{existing.name} is already a client.",
            actions=(Action("client_open", "Open client", str(existing.id)),),
        )
    clash = await name_clash(ctx, [name, *aliases])
    if clash is not None:
        label, other = clash
        which = "the name" if label_key(other.name) == label_key(label) else "an alias"
        return Message(
            text=(
                f'"{clip(label, 80)}" is already {which} of {other.name}, so I didn\'t add '
                f"{clip(name, 80)}: two clients answering to one name couldn't be told apart."
            ),
            sections=(
                Section(
                    text="Choose another name for the new client."
                    if label == name
                    else "Leave that alias out, or choose another, and add it again."
                ),
            ),
            actions=(Action("client_open", clip(f"Open {other.name}", 60), str(other.id)),),
            tone=Tone.WARNING,
        )
    client = await ctx.uow.clients.add(name, aliases=aliases, owner_id=ctx.person.id)
    await ctx.uow.history.add_owner_change(client.id, None, ctx.person.id, ctx.person.id)
    also = f" (also known as {', '.join(aliases)})" if aliases else ""
    return Message(
        text=stop(f"Added {client.name}{also}") + " You are its owner.",
        actions=(
            Action("log_touch_open", "Log a touch", str(client.id), Style.PRIMARY),
            Action("client_open", "Open client", str(client.id)),
        ),
        tone=Tone.SUCCESS,
    )


async def open_client(ctx: Context, value: str) -> Reply:
    client = await ctx.uow.clients.get(cid) if (cid := row_id(value)) else None
    if client is None:
        return error("That client is no longer there.", USAGE)
    return await client_card(ctx, client)


def can_see_private(ctx: Context, client: Client) -> bool:
    return ctx.person.id == client.owner_id or ctx.person.role in (Role.PRINCIPAL, Role.ADMIN)


async def client_card(ctx: Context, client: Client) -> Message:
    today = ctx.today()
    owner = await ctx.uow.people.get(client.owner_id) if client.owner_id else None
    last = (await ctx.uow.clients.last_touch_on([client.id])).get(client.id)
    segments = {k: v for k, v in (await ctx.uow.ownership.segments()).items() if v}
    cadence = effective_cadence(client, ctx.config.default_cadence_days, segments)
    created = client.created_at.date() if client.created_at else today
    due = next_due(last, cadence, created, client.id)
    status = "overdue" if due < today else ("due today" if due == today else "on schedule")
    if client.status is ClientStatus.ARCHIVED:
        status = "archived"
    elif last is None:
        status = "never contacted"
    fields = [
        Field("Owner", owner.display_name if owner else "nobody yet"),
        Field("Cadence", cadence_label(client, cadence, segments)),
        Field("Last touch", when(last, today)),
    ]
    if client.status is ClientStatus.ARCHIVED:
        fields.append(Field("Status", "archived: no reminders (/client … unarchive)"))
    elif last is None:
        fields.append(Field("First contact due", f"{when(due, today)} (never contacted)"))
    else:
        fields.append(Field("Next due", f"{when(due, today)} ({status})"))
    touches = await ctx.uow.touches.for_client(client.id, limit=_FETCH)
    waiting = open_follow_ups(touches)
    if waiting:
        fields.append(
            Field(
                "Awaiting reply",
                "; ".join(
                    f"{_what(t)}, {when(t.occurred_on, today)}" for t in touches if t.id in waiting
                )[:300],
            )
        )
    if client.aliases:
        fields.append(Field("Also known as", ", ".join(client.aliases)))
    if client.segment:
        fields.append(Field("Segment", client.segment))
    lines, more, complete = await history_lines(ctx, client, CARD_LINES)
    history = "\n".join(lines) or "Nothing logged yet."
    history_actions: tuple[Action, ...] = ()
    context = None
    if more:
        context = f"and {more} more" if complete else f"and more than {more} more"
        history_actions = (Action("client_history", "Full history", str(client.id)),)
    extra: tuple[Section, ...] = ()
    for extend in ctx.registry.card_extensions if ctx.registry else ():
        extra += await extend(ctx, client)
    return Message(
        text=f"{client.name}: {status}, last touch {when(last, today)}.",
        title=client.name,
        sections=(
            Section(fields=tuple(fields)),
            *extra,
            Section(
                heading="Recent history", text=history, context=context, actions=history_actions
            ),
        ),
        actions=(Action("log_touch_open", "Log touch", str(client.id), Style.PRIMARY),),
        tone=Tone.WARNING if due < today and status != "archived" else Tone.INFO,
    )


def cadence_label(client: Client, cadence: int, segments: dict[str, int]) -> str:
    every = f"every {plural(cadence, 'day')}"
    if client.cadence_days:
        return every
    if client.segment and segments.get(client.segment):
        return f"{every} ({client.segment}'s)"
    return f"{every} (the firm's default)"


def _what(t: Touch) -> str:
    what = t.kind.value if t.kind is not TouchKind.OTHER else "touch"
    return what + (f" to {t.contact}" if t.contact else "")


def _stamp(at: datetime | None) -> float:
    if at is None:
        return 0.0
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


async def history_lines(ctx: Context, client: Client, limit: int) -> tuple[list[str], int, bool]:
    """The client's `limit` most recent history lines, newest first, always with the latest
    owner change; how many more there are; and whether that count is exact."""
    today = ctx.today()
    touches = await ctx.uow.touches.for_client(client.id, limit=_FETCH)
    events = await ctx.uow.history.events(client.id, limit=_FETCH)
    complete = len(touches) < _FETCH and len(events) < _FETCH
    people = {p.id: p.display_name for p in await ctx.uow.people.list()}
    waiting_ids = open_follow_ups(touches)
    # (day, when it was recorded, is an owner change, line): same-day lines in recorded order.
    lines: list[tuple[date, float, bool, str]] = []
    for t in touches:
        what = t.kind.value if t.kind is not TouchKind.OTHER else "touch"
        with_whom = f" with {t.contact}" if t.contact else ""
        waiting = " (awaiting reply)" if t.id in waiting_ids else ""
        who = people.get(t.person_id, "someone")
        said = clip(t.note, 80) if t.note else f"{what}{with_whom}"
        line = f"{when(t.occurred_on, today)}: {who}, {said}{waiting}"
        lines.append((t.occurred_on, _stamp(t.created_at), False, line))
    show_private = can_see_private(ctx, client)
    for e in events:
        summary = e.summary if (show_private or not e.private) else e.kind.replace("_", " ")
        day = e.at.date()
        lines.append(
            (day, _stamp(e.at), e.kind == "owner_change", f"{when(day, today)}: {summary}")
        )
    lines.sort(key=lambda item: (item[0], item[1]), reverse=True)
    shown = lines[:limit]
    owner_line = next((item for item in lines if item[2]), None)
    if owner_line is not None and owner_line not in shown:
        shown = sorted([*shown, owner_line], key=lambda item: (item[0], item[1]), reverse=True)
    more = max(0, len(lines) - len(shown))
    return [item[3] for item in shown], more, complete


async def full_history(ctx: Context, value: str) -> Reply:
    client = await ctx.uow.clients.get(cid) if (cid := row_id(value)) else None
    if client is None:
        return error("That client is no longer there.", USAGE)
    lines, more, complete = await history_lines(ctx, client, FULL_LINES)
    context = None
    if more:
        count = f"{more}" if complete else f"more than {more}"
        context = f"The {FULL_LINES} most recent lines; {count} older ones are not shown."
    return Message(
        text=f"{client.name}: history, newest first.",
        title=f"{client.name}: history",
        sections=(Section(text="\n".join(lines) or "Nothing logged yet.", context=context),),
        actions=(Action("client_open", "Open client", str(client.id)),),
    )


def register(r: Registry) -> None:
    r.command("client")(client_command)
    r.action("client_open")(open_client)
    r.action("client_add")(add_from_button)
    r.action("client_history")(full_history)
