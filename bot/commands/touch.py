"""/touch: log a touchpoint in free text, or through the log-touch form."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from bot.app import Context, Registry, Reply
from bot.domain import Client, NewTouch, Touch, TouchKind
from bot.messages import (
    Action,
    Field,
    Form,
    FormErrors,
    FormInput,
    InputKind,
    Message,
    Option,
    Section,
    Style,
    Tone,
    error,
)
from bot.parsing import ClientName, ParsedTouch, ParseProblem, lookup_client, parse_touch
from bot.text import clip, pack, row_id, unpack, when

USAGE = "Try: /touch Acme lunch with the CFO yesterday"
FORM_ID = "log_touch"


def client_names(clients: list[Client]) -> list[ClientName]:
    return [ClientName(c.id, c.name, c.aliases) for c in clients]


def search_clients(query: str, clients: list[Client], limit: int = 100) -> list[Client]:
    """Clients for a type-ahead: prefix matches, then substring matches, then fuzzy ones."""
    q = " ".join(query.casefold().split())
    ordered = sorted(clients, key=lambda c: c.name.casefold())
    if not q:
        return ordered[:limit]
    names = {c.id: [c.name.casefold(), *(a.casefold() for a in c.aliases)] for c in clients}
    prefix = [c for c in ordered if any(n.startswith(q) for n in names[c.id])]
    contains = [c for c in ordered if c not in prefix and any(q in n for n in names[c.id])]
    found = prefix + contains
    by_id = {c.id: c for c in clients}
    match = lookup_client(query, client_names(clients))
    for candidate in ([match.client] if match.client else []) + list(match.candidates):
        chosen = by_id.get(candidate.id)
        if chosen is not None and chosen not in found:
            found.append(chosen)
    return found[:limit]


MAX_TEXT = 1000  # a touch is a line or two; longer text belongs in the client's file


async def log_touch(ctx: Context, text: str) -> Reply:
    if not text.strip():
        return error("Tell me which client and what happened.", USAGE)
    if len(text) > MAX_TEXT:
        return error(
            f"That is longer than a touch can be ({MAX_TEXT:,} characters). Shorten it and send "
            "it again; here is what you typed, so you can copy it:",
            f"/touch {text}",
        )
    clients = await ctx.uow.clients.list()
    result = parse_touch(text, client_names(clients), ctx.today())
    if isinstance(result, ParseProblem):
        return problem_reply(result, text)
    return await store_and_confirm(ctx, result)


def problem_reply(problem: ParseProblem, text: str) -> Message:
    actions: list[Action] = []
    match = problem.match
    # Buttons carry what was typed, so choosing one logs it without typing it again. A "name"
    # too long to be a client's gets no button: the message says what to do instead.
    if match is not None and len(match.matched_text) <= 200:
        if problem.code == "unknown_client":
            name = match.matched_text.strip("\"'“”‘’ ") or text.split()[0]
            actions.append(
                Action(
                    "touch_add_client",
                    f"Add {clip(name, 40)} and log it",
                    pack(name=name, text=text),
                )
            )
            actions.extend(_pick(c, match.matched_text, text) for c in match.candidates[:3])
        elif problem.code == "ambiguous_client":
            actions.extend(_pick(c, match.matched_text, text) for c in match.candidates[:5])
    return Message(
        text=problem.message,
        sections=(Section(context=f"You typed: /touch {clip(text, 300)}"),),
        actions=tuple(actions),
        tone=Tone.WARNING if actions else Tone.ERROR,
    )


def _pick(candidate: ClientName, typed: str, text: str) -> Action:
    return Action(
        "touch_pick_client",
        f"Log it for {clip(candidate.name, 40)}",
        pack(id=candidate.id, typed=typed, text=text),
    )


async def store_and_confirm(ctx: Context, parsed: ParsedTouch) -> Reply:
    touch, _created = await ctx.uow.touches.add(
        NewTouch(
            client_id=parsed.client.id,
            person_id=ctx.person.id,
            kind=parsed.kind,
            occurred_on=parsed.occurred_on,
            note=parsed.note,
            contact=parsed.contact,
            awaiting_reply=parsed.awaiting_reply,
            source_id=ctx.source_id,
        )
    )
    return await confirm(ctx, touch, parsed.client.name)


async def confirm(ctx: Context, touch: Touch, client_name: str) -> Message:
    """The confirmation, with any buttons features add (e.g. a repair after trouble)."""
    message = confirmation(touch, client_name, ctx.today())
    extra: tuple[Action, ...] = ()
    for extend in ctx.registry.touch_extensions if ctx.registry else ():
        extra += await extend(ctx, touch)
    return replace(message, actions=message.actions + extra) if extra else message


def confirmation(touch: Touch, client_name: str, today: date) -> Message:
    what = touch.kind.value if touch.kind is not TouchKind.OTHER else "touch"
    with_whom = f" with {touch.contact}" if touch.contact else ""
    fields = [
        Field("Client", client_name),
        Field("Kind", what),
        Field("When", when(touch.occurred_on, today)),
    ]
    if touch.contact:
        fields.append(Field("With", touch.contact))
    if touch.awaiting_reply:
        fields.append(Field("Awaiting reply", "yes: I'll remind you to follow up"))
    sections = [Section(fields=tuple(fields))]
    if touch.note:
        sections.append(Section(heading="Note", text=touch.note))
    return Message(
        text=f"Logged {what}{with_whom} at {client_name}, {when(touch.occurred_on, today)}.",
        sections=tuple(sections),
        actions=(
            Action("touch_undo", "Undo", str(touch.id), Style.DANGER),
            Action("log_touch_open", "Log another", str(touch.client_id)),
            Action("client_open", "Open client", str(touch.client_id)),
        ),
        tone=Tone.SUCCESS,
    )


async def pick_client(ctx: Context, value: str) -> Reply:
    data = unpack(value)
    client = await ctx.uow.clients.get(cid) if (cid := row_id(data.get("id"))) else None
    if client is None:
        return error("That client is no longer there.", USAGE)
    return await _log_for(ctx, client, str(data.get("typed", "")), str(data.get("text", "")))


async def add_client_and_log(ctx: Context, value: str) -> Reply:
    data = unpack(value)
    name = " ".join(str(data.get("name", "")).split())
    if not name:
        return error("I lost track of that client's name.", USAGE)
    if len(name) > 200:
        return error("That client name is too long: keep it under 200 characters.", USAGE)
    client = await ctx.uow.clients.by_name(name) or await ctx.uow.clients.add(
        name, owner_id=ctx.person.id
    )
    return await _log_for(ctx, client, name, str(data.get("text", "")))


async def _log_for(ctx: Context, client: Client, typed: str, text: str) -> Reply:
    """Parse again with the chosen client standing for what was typed."""
    only = ClientName(client.id, client.name, (*client.aliases, typed) if typed else client.aliases)
    result = parse_touch(text, [only], ctx.today())
    if isinstance(result, ParseProblem):
        return problem_reply(result, text)
    # Keyed on what was typed, so a double click on the button logs it once.
    digest = hashlib.sha256(
        f"{ctx.person.id}:{client.id}:{ctx.today()}:{text}".encode()
    ).hexdigest()
    ctx.source_id = f"pick:{digest[:32]}"
    return await store_and_confirm(ctx, replace(result, client=ClientName(client.id, client.name)))


async def undo(ctx: Context, value: str) -> Reply:
    touch = await ctx.uow.touches.get(tid) if (tid := row_id(value)) else None
    if touch is None:
        return Message(text="That touch was already removed.", tone=Tone.INFO)
    if touch.person_id != ctx.person.id and ctx.person.role.value != "admin":
        return error("Only the person who logged a touch can undo it.")
    await ctx.uow.touches.delete(touch.id)
    return Message(text="Removed. That touch is no longer in the history.", tone=Tone.SUCCESS)


# --- the form ------------------------------------------------------------------------------------

KIND_OPTIONS = tuple(Option(k.value, k.value.capitalize()) for k in TouchKind)


def touch_form(
    client: Client | None = None, *, note: str | None = None, today: date | None = None
) -> Form:
    return Form(
        form_id=FORM_ID,
        title="Log a touch",
        submit_label="Log it",
        inputs=(
            FormInput(
                "client",
                "Client",
                InputKind.CLIENT,
                required=True,
                initial=client.name if client else None,
                placeholder="Start typing a client",
            ),
            FormInput(
                "kind",
                "Kind",
                InputKind.SELECT,
                required=True,
                initial="call",
                options=KIND_OPTIONS,
            ),
            FormInput("contact", "With whom", placeholder="e.g. the CFO, Dana"),
            FormInput(
                "date",
                "When",
                InputKind.DATE,
                required=True,
                initial=today.isoformat() if today else None,
            ),
            FormInput("note", "Note", InputKind.MULTILINE, initial=note),
            FormInput("awaiting", "Waiting for their reply", InputKind.CHECKBOX),
        ),
    )


async def open_form(ctx: Context, value: str) -> Reply:
    client = await ctx.uow.clients.get(cid) if (cid := row_id(value)) else None
    return touch_form(client, today=ctx.today())


async def submit_form(ctx: Context, values: Mapping[str, str], _private: str) -> Reply:
    errors: dict[str, str] = {}
    client = await _client_from_input(ctx, values.get("client", ""))
    if client is None:
        typed = values.get("client", "").strip()
        errors["client"] = (
            f"No client called {typed!r}. Add it first with /client add {typed}."
            if typed
            else "Choose a client."
        )
    kind_text = values.get("kind", "").strip() or TouchKind.OTHER.value
    try:
        kind = TouchKind(kind_text)
    except ValueError:
        errors["kind"] = "Choose one of the kinds in the list."
        kind = TouchKind.OTHER
    day = _date_input(values.get("date", ""), ctx.today())
    if day is None:
        errors["date"] = "Use a date like 2026-11-03."
    elif day > ctx.today():
        errors["date"] = "That date is in the future. Log a touch once it has happened."
    if errors or client is None or day is None:
        return FormErrors(errors)
    awaiting = values.get("awaiting", "").strip().lower() in ("1", "true", "yes", "on", "awaiting")
    touch, _ = await ctx.uow.touches.add(
        NewTouch(
            client_id=client.id,
            person_id=ctx.person.id,
            kind=kind,
            occurred_on=day,
            note=values.get("note", "").strip(),
            contact=values.get("contact", "").strip() or None,
            awaiting_reply=awaiting,
            source_id=ctx.source_id,
        )
    )
    return await confirm(ctx, touch, client.name)


async def _client_from_input(ctx: Context, raw: str) -> Client | None:
    raw = raw.strip()
    if raw.isdigit():
        return await ctx.uow.clients.get(cid) if (cid := row_id(raw)) else None
    if not raw:
        return None
    match = lookup_client(raw, client_names(await ctx.uow.clients.list()))
    if match.status == "matched" and match.client is not None:
        return await ctx.uow.clients.get(match.client.id)
    return None


def _date_input(raw: str, today: date) -> date | None:
    raw = raw.strip()
    if not raw:
        return today
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def register(r: Registry) -> None:
    r.command("touch")(log_touch)
    r.action("touch_pick_client")(pick_client)
    r.action("touch_add_client")(add_client_and_log)
    r.action("touch_undo")(undo)
    r.action("log_touch_open")(open_form)
    r.form(FORM_ID)(submit_form)
