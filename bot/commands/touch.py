"""/touch: log a touchpoint in free text, or through the log-touch form."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta

from bot.app import Context, Registry, Reply
from bot.domain import Client, ClientStatus, NewTouch, Touch, TouchKind
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
from bot.parsing import (
    ClientName,
    ParsedTouch,
    ParseProblem,
    Reading,
    lookup_client,
    parse_touch,
)
from bot.resolve import client_names, find_client
from bot.text import clip, pack, row_id, unpack, when

USAGE = "Try: /touch Acme lunch with the CFO yesterday"
FORM_ID = "log_touch"
EDIT_FORM_ID = "edit_touch"


def offered(clients: list[Client]) -> list[Client]:
    """The clients a picker offers: every one but the archived."""
    return [c for c in clients if c.status is not ClientStatus.ARCHIVED]


def search_clients(query: str, clients: list[Client], limit: int = 100) -> list[Client]:
    """Clients for a type-ahead: prefix matches, then substring matches, then fuzzy ones.
    Archived clients are not offered (unarchive one to log touches against it again)."""
    clients = offered(clients)
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
    index = await ctx.uow.clients.index()
    result = parse_touch(text, index, ctx.today(), date_order=ctx.date_order())
    if isinstance(result, ParseProblem):
        return problem_reply(result, text, ctx.today())
    return await store_and_confirm(ctx, result, readings=result.readings)


def problem_reply(
    problem: ParseProblem, text: str, today: date | None = None, *, new_client: bool = False
) -> Message:
    actions: list[Action] = []
    match = problem.match
    if problem.code == "unclear_date" and problem.draft is not None and today is not None:
        return _ask_for_the_day(problem, problem.draft, text, today, new_client=new_client)
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


def _ask_for_the_day(
    problem: ParseProblem, draft: ParsedTouch, text: str, today: date, *, new_client: bool
) -> Message:
    """The line had a date Touchbase couldn't place: nothing is stored until the person
    chooses the day. Each button carries the text, so nothing has to be typed again."""
    typed = problem.match.matched_text if problem.match is not None else ""
    base = {"id": draft.client.id, "typed": typed, "text": text}
    if new_client:
        base["new"] = 1
    days: list[tuple[str, date]] = []
    if problem.suggestion is not None and problem.suggestion <= today:
        days.append((f"{problem.suggestion:%A} {problem.suggestion.day} {problem.suggestion:%b}",
                     problem.suggestion))  # fmt: skip
    for label, day in (("Today", today), ("Yesterday", today - timedelta(days=1))):
        if all(day != chosen for _label, chosen in days):
            days.append((label, day))
    actions = [
        Action(
            "touch_on_day",
            label,
            pack(**base, on=day.isoformat()),
            Style.PRIMARY if n == 0 and problem.suggestion is not None else Style.DEFAULT,
        )
        for n, (label, day) in enumerate(days)
    ]
    actions.append(Action("touch_pick_day", "Pick a date…", pack(**base)))
    return Message(
        text=problem.message,
        sections=(Section(context=f"You typed: /touch {clip(text, 300)}"),),
        actions=tuple(actions),
        tone=Tone.WARNING,
    )


async def store_and_confirm(
    ctx: Context,
    parsed: ParsedTouch,
    *,
    readings: tuple[Reading, ...] = (),
    new_client: bool = False,
) -> Reply:
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
    return await confirm(ctx, touch, parsed.client.name, readings=readings, new_client=new_client)


async def confirm(
    ctx: Context,
    touch: Touch,
    client_name: str,
    *,
    readings: tuple[Reading, ...] = (),
    new_client: bool = False,
    edited: bool = False,
) -> Message:
    """The confirmation, with any buttons features add (e.g. a repair after trouble)."""
    message = confirmation(
        touch, client_name, ctx.today(), readings=readings, new_client=new_client, edited=edited
    )
    extra: tuple[Action, ...] = ()
    for extend in ctx.registry.touch_extensions if ctx.registry else ():
        extra += await extend(ctx, touch)
    return replace(message, actions=message.actions + extra) if extra else message


def _what(touch: Touch) -> str:
    return touch.kind.value if touch.kind is not TouchKind.OTHER else "touch"


_READ_AS = {
    "Client": "the client",
    "When": "the day",
    "Kind": "the kind",
    "With": "who",
    "Awaiting reply": "waiting for a reply",
}


def read_from(readings: tuple[Reading, ...]) -> str:
    """Which words each field was read from: 'I read "saint marys" as the client, ...'."""
    parts = [
        f'"{clip(r.words, 60)}" as {_READ_AS.get(r.field, r.field.lower())}'
        for r in readings
        if r.words
    ]
    return f"I read {', '.join(parts)}. Not right? Use Edit." if parts else ""


def confirmation(
    touch: Touch,
    client_name: str,
    today: date,
    *,
    readings: tuple[Reading, ...] = (),
    new_client: bool = False,
    edited: bool = False,
) -> Message:
    what = _what(touch)
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
    if readings and (how := read_from(readings)):
        sections.append(Section(context=how))
    undo = pack(id=touch.id, rev=touch.revision, **({"new": 1} if new_client else {}))
    verb = "Updated" if edited else "Logged"
    return Message(
        text=f"{verb} {what}{with_whom} at {client_name}, {when(touch.occurred_on, today)}.",
        sections=tuple(sections),
        actions=(
            Action("touch_undo", "Undo", undo, Style.DANGER),
            Action("log_touch_open", "Log another", str(touch.client_id)),
            Action("client_open", "Open client", str(touch.client_id)),
            Action("touch_edit", "Edit", pack(id=touch.id, rev=touch.revision)),
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
    client = await ctx.uow.clients.by_name(name)
    new_client = client is None
    if client is None:
        client = await ctx.uow.clients.add(name, owner_id=ctx.person.id)
    return await _log_for(ctx, client, name, str(data.get("text", "")), new_client=new_client)


async def log_on_day(ctx: Context, value: str) -> Reply:
    """Today, Yesterday or the likely day, chosen after Touchbase asked which day it was."""
    data = unpack(value)
    client = await ctx.uow.clients.get(cid) if (cid := row_id(data.get("id"))) else None
    if client is None:
        return error("That client is no longer there.", USAGE)
    try:
        day = date.fromisoformat(str(data.get("on", "")))
    except ValueError:
        return error("I lost track of that day. Pick the date instead.", USAGE)
    if day > ctx.today():
        return error("That day is still to come. Log the touch once it has happened.")
    return await _log_for(
        ctx,
        client,
        str(data.get("typed", "")),
        str(data.get("text", "")),
        on=day,
        new_client=bool(data.get("new")),
    )


async def pick_day(ctx: Context, value: str) -> Reply:
    """ "Pick a date…": the log-touch form, filled in from the line, with the date to choose."""
    data = unpack(value)
    client = await ctx.uow.clients.get(cid) if (cid := row_id(data.get("id"))) else None
    if client is None:
        return error("That client is no longer there.", USAGE)
    typed, text = str(data.get("typed", "")), str(data.get("text", ""))
    only = ClientName(client.id, client.name, (*client.aliases, typed) if typed else client.aliases)
    draft = parse_touch(text, [only], ctx.today(), date_order=ctx.date_order(), on=ctx.today())
    if isinstance(draft, ParseProblem):
        return touch_form(client, note=text)
    return touch_form(
        client,
        kind=draft.kind,
        contact=draft.contact,
        note=draft.note,
        awaiting=draft.awaiting_reply,
        day=None,
        private_value=pack(new=1) if data.get("new") else "",
    )


async def _log_for(
    ctx: Context,
    client: Client,
    typed: str,
    text: str,
    *,
    on: date | None = None,
    new_client: bool = False,
) -> Reply:
    """Parse again with the chosen client standing for what was typed."""
    only = ClientName(client.id, client.name, (*client.aliases, typed) if typed else client.aliases)
    result = parse_touch(text, [only], ctx.today(), date_order=ctx.date_order(), on=on)
    if isinstance(result, ParseProblem):
        return problem_reply(result, text, ctx.today(), new_client=new_client)
    # Keyed on what was typed, so a double click on the button logs it once.
    digest = hashlib.sha256(
        f"{ctx.person.id}:{client.id}:{ctx.today()}:{on}:{text}".encode()
    ).hexdigest()
    ctx.source_id = f"pick:{digest[:32]}"
    return await store_and_confirm(
        ctx,
        replace(result, client=ClientName(client.id, client.name)),
        readings=result.readings,
        new_client=new_client,
    )


def _button(value: str) -> tuple[int | None, int | None, bool]:
    """(touch id, revision, whether its client was added for it) from an Edit or Undo value.
    A bare id is a button from before revisions were kept: it stands for the first one."""
    if (plain := row_id(value)) is not None:
        return plain, 0, False
    data = unpack(value)
    rev = data.get("rev")
    revision = rev if isinstance(rev, int) and not isinstance(rev, bool) and rev >= 0 else None
    return row_id(data.get("id")), revision, bool(data.get("new"))


def _described(touch: Touch, client_name: str, today: date) -> str:
    with_whom = f" with {touch.contact}" if touch.contact else ""
    return f"the {_what(touch)}{with_whom} at {client_name} ({when(touch.occurred_on, today)})"


async def undo(ctx: Context, value: str) -> Reply:
    touch_id, revision, new_client = _button(value)
    touch = await ctx.uow.touches.get(touch_id) if touch_id else None
    if touch is None:
        return Message(text="That touch was already removed.", tone=Tone.INFO)
    if touch.person_id != ctx.person.id and ctx.person.role.value != "admin":
        return error("Only the person who logged a touch can undo it.")
    if revision is None or revision != touch.revision:
        return Message(
            text="That touch was edited after this message, so this Undo no longer applies "
            "and nothing was removed. Use Undo on the newer confirmation, or open the client.",
            actions=(Action("client_open", "Open client", str(touch.client_id)),),
            tone=Tone.WARNING,
        )
    client = await ctx.uow.clients.get(touch.client_id)
    name = client.name if client else "the client"
    what = _described(touch, name, ctx.today())
    await ctx.uow.touches.delete(touch.id)
    if client is not None and new_client and await _only_for_that_touch(ctx, client):
        await ctx.uow.clients.erase(client.id)
        return Message(
            text=f"Removed {what}, and {name}, which was added just for it.",
            tone=Tone.SUCCESS,
        )
    return Message(text=f"Removed {what}. It is no longer in the history.", tone=Tone.SUCCESS)


async def _only_for_that_touch(ctx: Context, client: Client) -> bool:
    """A client added by "Add it and log it" that nothing else has used since: no other
    touch, no key people, no other owner, no history beyond its creation."""
    if client.owner_id not in (None, ctx.person.id):
        return False
    if await ctx.uow.touches.for_client(client.id, limit=1):
        return False
    if await ctx.uow.contacts.for_client(client.id):
        return False
    return not await ctx.uow.history.events(client.id, limit=1)


async def edit(ctx: Context, value: str) -> Reply:
    """The Edit button: the touch in a form, every field as it is now."""
    touch_id, _revision, _new = _button(value)
    touch = await ctx.uow.touches.get(touch_id) if touch_id else None
    if touch is None:
        return Message(text="That touch was removed, so there is nothing to edit.", tone=Tone.INFO)
    if touch.person_id != ctx.person.id and ctx.person.role.value != "admin":
        return error("Only the person who logged a touch can edit it.")
    client = await ctx.uow.clients.get(touch.client_id)
    form = touch_form(
        client,
        kind=touch.kind,
        contact=touch.contact,
        note=touch.note,
        awaiting=touch.awaiting_reply,
        day=touch.occurred_on,
        private_value=pack(id=touch.id, rev=touch.revision),
    )
    return replace(form, form_id=EDIT_FORM_ID, title="Edit the touch", submit_label="Save")


async def submit_edit(ctx: Context, values: Mapping[str, str], private: str) -> Reply:
    touch_id, revision, _new = _button(private)
    touch = await ctx.uow.touches.get(touch_id) if touch_id else None
    if touch is None:
        return error("That touch was removed while the form was open; nothing was saved.")
    if touch.person_id != ctx.person.id and ctx.person.role.value != "admin":
        return error("Only the person who logged a touch can edit it.")
    if revision != touch.revision:
        return error(
            "That touch was changed while the form was open, so nothing was saved. "
            "Open Edit again to see it as it is now."
        )
    checked = await _checked(ctx, values)
    if isinstance(checked, FormErrors):
        return checked
    client, kind, day, awaiting = checked
    updated = await ctx.uow.touches.update(
        touch.id,
        client_id=client.id,
        kind=kind,
        occurred_on=day,
        note=values.get("note", "").strip(),
        contact=values.get("contact", "").strip() or None,
        awaiting_reply=awaiting,
        replied_at=touch.replied_at if awaiting == touch.awaiting_reply else None,
    )
    if updated is None:
        return error("That touch was removed while the form was open; nothing was saved.")
    return await confirm(ctx, updated, client.name, edited=True)


# --- the form ------------------------------------------------------------------------------------

KIND_OPTIONS = tuple(Option(k.value, k.value.capitalize()) for k in TouchKind)


def touch_form(
    client: Client | None = None,
    *,
    note: str | None = None,
    today: date | None = None,
    kind: TouchKind | None = None,
    contact: str | None = None,
    awaiting: bool = False,
    day: date | None = None,
    private_value: str = "",
) -> Form:
    """The log-touch form; prefilled, it is also the Edit form and the date picker."""
    when_initial = day or today
    return Form(
        form_id=FORM_ID,
        title="Log a touch",
        submit_label="Log it",
        private_value=private_value,
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
                initial=kind.value if kind else "call",
                options=KIND_OPTIONS,
            ),
            FormInput("contact", "With whom", placeholder="e.g. the CFO, Dana", initial=contact),
            FormInput(
                "date",
                "When",
                InputKind.DATE,
                required=True,
                initial=when_initial.isoformat() if when_initial else None,
            ),
            FormInput("note", "Note", InputKind.MULTILINE, initial=note),
            FormInput(
                "awaiting",
                "Waiting for their reply",
                InputKind.CHECKBOX,
                initial="true" if awaiting else None,
            ),
        ),
    )


async def open_form(ctx: Context, value: str) -> Reply:
    client = await ctx.uow.clients.get(cid) if (cid := row_id(value)) else None
    return touch_form(client, today=ctx.today())


async def _checked(
    ctx: Context, values: Mapping[str, str]
) -> tuple[Client, TouchKind, date, bool] | FormErrors:
    """The form's values, checked: the client, kind, day and awaiting reply, or the errors."""
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
    raw_day = values.get("date", "")
    day = _date_input(raw_day, ctx.today())
    if day is None:
        errors["date"] = "Use a date like 2026-11-03."
    elif day > ctx.today():
        errors["date"] = "That date is in the future. Log a touch once it has happened."
    if errors or client is None or day is None:
        return FormErrors(errors)
    awaiting = values.get("awaiting", "").strip().lower() in ("1", "true", "yes", "on", "awaiting")
    return client, kind, day, awaiting


async def submit_form(ctx: Context, values: Mapping[str, str], private: str) -> Reply:
    checked = await _checked(ctx, values)
    if isinstance(checked, FormErrors):
        return checked
    client, kind, day, awaiting = checked
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
    new_client = bool(unpack(private).get("new"))  # the date picker after "Add it and log it"
    return await confirm(ctx, touch, client.name, new_client=new_client)


async def _client_from_input(ctx: Context, raw: str) -> Client | None:
    raw = raw.strip()
    if raw.isdigit():
        return await ctx.uow.clients.get(cid) if (cid := row_id(raw)) else None
    if not raw:
        return None
    return (await find_client(ctx.uow.clients, raw)).client


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
    r.action("touch_edit")(edit)
    r.action("touch_on_day")(log_on_day)
    r.action("touch_pick_day")(pick_day)
    r.form(EDIT_FORM_ID)(submit_edit)
    r.action("log_touch_open")(open_form)
    r.form(FORM_ID)(submit_form)
