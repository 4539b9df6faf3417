"""/client: a client's card and history; /client add."""

from __future__ import annotations

import re
from datetime import date

from bot.app import Context, Registry, Reply
from bot.domain import Client, Role, TouchKind
from bot.messages import Action, Field, Message, Section, Style, Tone, error
from bot.parsing import lookup_client
from bot.rules import effective_cadence, next_due
from bot.text import clip, plural, row_id, when

from . import profile
from .touch import client_names

USAGE = "Try: /client Acme, or /client add Acme Corp, ACME (a name, then any aliases)"
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
    match = lookup_client(text, client_names(await ctx.uow.clients.list()))
    if match.status == "matched" and match.client is not None:
        client = await ctx.uow.clients.get(match.client.id)
        assert client is not None
        return await client_card(ctx, client)
    if match.status == "ambiguous":
        return Message(
            text=f"More than one client matches {text!r}. Which one?",
            actions=tuple(
                Action("client_open", clip(c.name, 60), str(c.id)) for c in match.candidates[:5]
            ),
            tone=Tone.WARNING,
        )
    suggestions = tuple(
        Action("client_open", clip(c.name, 60), str(c.id)) for c in match.candidates[:3]
    )
    return Message(
        text=f"I don't know a client called {text!r}.",
        sections=(Section(text=f"To add it: /client add {clip(text, 80)}"),),
        actions=suggestions,
        tone=Tone.WARNING,
    )


async def add_client(ctx: Context, text: str) -> Reply:
    name, aliases = parse_new_client(text)
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
    client = await ctx.uow.clients.add(name, aliases=aliases, owner_id=ctx.person.id)
    await ctx.uow.history.add_owner_change(client.id, None, ctx.person.id, ctx.person.id)
    also = f" (also known as {', '.join(aliases)})" if aliases else ""
    return Message(
        text=f"Added {client.name}{also}. You are its owner.",
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
    touches = await ctx.uow.touches.for_client(client.id, limit=8)
    events = await ctx.uow.history.events(client.id, limit=8)
    last = (await ctx.uow.clients.last_touch_on([client.id])).get(client.id)
    cadence = effective_cadence(client, ctx.config.default_cadence_days)
    created = client.created_at.date() if client.created_at else today
    due = next_due(last, cadence, created)
    status = "overdue" if due < today else ("due today" if due == today else "on schedule")
    fields = [
        Field("Owner", owner.display_name if owner else "nobody yet"),
        Field("Cadence", f"every {plural(cadence, 'day')}"),
        Field("Last touch", when(last, today)),
        Field("Next due", f"{when(due, today)} ({status})"),
    ]
    if client.aliases:
        fields.append(Field("Also known as", ", ".join(client.aliases)))
    if client.segment:
        fields.append(Field("Segment", client.segment))
    people = {p.id: p.display_name for p in await ctx.uow.people.list()}
    lines: list[tuple[date, str]] = []
    for t in touches:
        what = t.kind.value if t.kind is not TouchKind.OTHER else "touch"
        with_whom = f" with {t.contact}" if t.contact else ""
        waiting = " (awaiting reply)" if t.awaiting_reply and t.replied_at is None else ""
        who = people.get(t.person_id, "someone")
        said = clip(t.note, 80) if t.note else f"{what}{with_whom}"
        lines.append((t.occurred_on, f"{when(t.occurred_on, today)}: {who}, {said}{waiting}"))
    show_private = can_see_private(ctx, client)
    for e in events:
        summary = e.summary if (show_private or not e.private) else e.kind.replace("_", " ")
        lines.append((e.at.date(), f"{when(e.at.date(), today)}: {summary}"))
    lines.sort(key=lambda item: item[0], reverse=True)
    history = "\n".join(line for _, line in lines[:8]) or "Nothing logged yet."
    extra: tuple[Section, ...] = ()
    for extend in ctx.registry.card_extensions if ctx.registry else ():
        extra += await extend(ctx, client)
    return Message(
        text=f"{client.name}: {status}, last touch {when(last, today)}.",
        title=client.name,
        sections=(
            Section(fields=tuple(fields)),
            *extra,
            Section(heading="Recent history", text=history),
        ),
        actions=(Action("log_touch_open", "Log touch", str(client.id), Style.PRIMARY),),
        tone=Tone.WARNING if due < today else Tone.INFO,
    )


def register(r: Registry) -> None:
    r.command("client")(client_command)
    r.action("client_open")(open_client)
