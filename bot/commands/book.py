"""Keeping the client book right: a client's cadence, its name, merging two records of one
client, archiving one that is no longer worked with, and erasing one for good.

    /client Acme cadence 14 [days] | weekly | every 2 weeks | monthly | quarterly | default
    /client Acme rename Acme Corporation     (the old name stays an alias)
    /client Acme Crop merge into Acme Corp   (asks first)
    /client Acme archive | unarchive
    /client Acme delete                      (admins; asks first; erases everything of it)
"""

from __future__ import annotations

import re

from bot.app import Context, Registry, Reply
from bot.domain import Client, ClientStatus, Contact, Role
from bot.messages import Action, Message, Section, Style, Tone, error, notice
from bot.parsing import ClientName, label_key
from bot.resolve import client_problem, find_client
from bot.rules import contact_key
from bot.text import clip, pack, plural, row_id, stop, unpack

CADENCE_USAGE = (
    "Try: /client Acme cadence 14 days, or weekly, every 2 weeks, monthly, quarterly, "
    "or default (back to its segment's or the firm's)"
)
MAX_CADENCE = 365
_NAMED = {
    "daily": 1,
    "weekly": 7,
    "fortnightly": 14,
    "biweekly": 14,
    "monthly": 30,
    "quarterly": 91,
    "yearly": 365,
    "annually": 365,
}
_UNITS = {"day": 1, "week": 7, "month": 30, "quarter": 91, "year": 365}
_EVERY = re.compile(
    r"^(?:every\s+)?(?P<n>\d{1,4}|a|one|two|three|four|six)?\s*"
    r"(?P<unit>days?|weeks?|months?|quarters?|years?|d|w)?$",
    re.IGNORECASE,
)
_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "six": 6}
DEFAULT_WORDS = ("default", "none", "reset", "clear", "off")


class CadenceError(ValueError):
    pass


def parse_cadence(text: str) -> int | None:
    """Days between contacts from `14`, `14 days`, `every 2 weeks`, `monthly`...; None for
    `default`. Raises CadenceError for anything else, or outside 1 to 365 days."""
    said = " ".join(text.casefold().split()).removeprefix("every ").strip()
    if not said:
        raise CadenceError("How often?")
    if said in DEFAULT_WORDS:
        return None
    if said in _NAMED:
        return _NAMED[said]
    if said in ("week", "month", "quarter", "year", "day", "fortnight"):
        return 14 if said == "fortnight" else _UNITS[said]
    found = _EVERY.match(said)
    if found is None or not (found.group("n") or found.group("unit")):
        raise CadenceError(f'I didn\'t understand "{clip(text, 40)}" as a cadence.')
    n_text = found.group("n") or "1"
    n = int(n_text) if n_text.isdigit() else _WORDS[n_text]
    unit = (found.group("unit") or "day").rstrip("s")
    unit = {"d": "day", "w": "week"}.get(unit, unit)
    days = n * _UNITS[unit]
    if not 1 <= days <= MAX_CADENCE:
        raise CadenceError(f"A cadence is 1 to {MAX_CADENCE} days; {days} is outside that.")
    return days


def may_edit(ctx: Context, client: Client) -> bool:
    """The owner, a principal or an admin; anyone for a client nobody owns yet."""
    return (
        client.owner_id is None
        or client.owner_id == ctx.person.id
        or ctx.person.role in (Role.PRINCIPAL, Role.ADMIN)
    )


def _refused(client: Client, what: str) -> Message:
    return error(
        f"Only {client.name}'s owner, a principal or an admin can {what}.",
        f"Ask its owner, or type /client {client.name} to see who that is.",
    )


def _open(client: Client) -> Action:
    return Action("client_open", "Open client", str(client.id))


async def _tell_owner(ctx: Context, client: Client, what: str) -> None:
    if client.owner_id is None or client.owner_id == ctx.person.id:
        return
    owner = await ctx.uow.people.get(client.owner_id)
    if owner is not None:
        ctx.notify(
            owner.address,
            Message(text=f"{ctx.person.display_name} {what}", actions=(_open(client),)),
            owner.id,
        )


async def name_clash(
    ctx: Context, labels: list[str], *, apart_from: int = 0
) -> tuple[str, Client] | None:
    """The first of `labels` that is already another client's name or alias, and that client."""
    wanted = {label_key(label): label for label in labels if label_key(label)}
    for client in await ctx.uow.clients.list():
        if client.id == apart_from:
            continue
        for own in (client.name, *client.aliases):
            key = label_key(own)
            if key in wanted:
                return wanted[key], client
    return None


# --- cadence -------------------------------------------------------------------------------------


async def cadence_command(ctx: Context, client: Client, text: str) -> Reply:
    if not text.strip():
        return error(f"How often should {client.name} hear from us?", CADENCE_USAGE)
    try:
        days = parse_cadence(text)
    except CadenceError as exc:
        return error(str(exc), CADENCE_USAGE)
    if not may_edit(ctx, client):
        return _refused(client, "change its cadence")
    if days == client.cadence_days:
        said = f"every {plural(days, 'day')}" if days else "the default"
        return notice(f"{client.name}'s cadence is already {said}.", _open(client))
    await ctx.uow.clients.update(client.id, cadence_days=days)
    if days is None:
        said = "back to the default (its segment's, else the firm's)"
        summary = f"{ctx.person.display_name} set the cadence back to the default"
    else:
        said = f"every {plural(days, 'day')}"
        summary = f"{ctx.person.display_name} set the cadence to every {plural(days, 'day')}"
    await ctx.uow.history.add_event(client.id, ctx.person.id, "cadence", summary)
    await _tell_owner(ctx, client, f"set {client.name}'s contact cadence {said}.")
    if days is None:
        text = f"{client.name} is back on the default cadence (its segment's, else the firm's)."
    else:
        text = f"{client.name} is now to be contacted {said}."
    return Message(
        text=text,
        actions=(_open(client),),
        tone=Tone.SUCCESS,
    )


# --- rename --------------------------------------------------------------------------------------


async def rename_command(ctx: Context, client: Client, text: str) -> Reply:
    new = " ".join(text.strip().strip("\"“”'").split())
    new = re.sub(r"^(?:to|as)\s+", "", new, flags=re.IGNORECASE)
    if not new:
        return error(
            f"What should {client.name} be called?", f"Try: /client {client.name} rename New Name"
        )
    if len(new) > 200:
        return error("That name is too long: keep it under 200 characters.")
    if not may_edit(ctx, client):
        return _refused(client, "rename it")
    if new == client.name:
        return notice(f"{client.name} is already called that.", _open(client))
    clash = await name_clash(ctx, [new], apart_from=client.id)
    if clash is not None:
        _, other = clash
        return Message(
            text=(
                f'"{clip(new, 80)}" is already {other.name}. If they are one client, merge them: '
                f"/client {client.name} merge into {other.name}"
            ),
            actions=(Action("client_open", clip(f"Open {other.name}", 60), str(other.id)),),
            tone=Tone.WARNING,
        )
    old = client.name
    aliases = [a for a in client.aliases if label_key(a) != label_key(new)]
    if label_key(old) != label_key(new) and all(label_key(a) != label_key(old) for a in aliases):
        aliases.append(old)
    renamed = await ctx.uow.clients.update(client.id, name=new, aliases=aliases)
    await ctx.uow.history.add_event(
        client.id, ctx.person.id, "renamed", f'{ctx.person.display_name} renamed "{old}" to "{new}"'
    )
    await _tell_owner(ctx, renamed, f'renamed "{old}" to "{new}".')
    return Message(
        text=f'Renamed "{old}" to "{new}". "{old}" still finds it.',
        actions=(_open(renamed),),
        tone=Tone.SUCCESS,
    )


# --- merge ---------------------------------------------------------------------------------------


async def merge_command(ctx: Context, client: Client, text: str) -> Reply:
    typed = re.sub(r"^(?:into|in to|with|to)\s+", "", text.strip(), flags=re.IGNORECASE)
    typed = typed.strip("\"“”'").strip()
    usage = f"Try: /client {client.name} merge into <the client to keep>"
    if not typed:
        return error(f"Merge {client.name} into which client?", usage)
    found = await find_client(ctx.uow.clients, typed)
    if found.client is None:

        def into(c: ClientName) -> Action | None:
            if c.id == client.id:
                return None
            return Action("client_merge_ask", clip(f"Into {c.name}", 60), pack(a=client.id, b=c.id))

        return client_problem(found, usage, button=into)
    return await ask_merge(ctx, client, found.client)


async def ask_merge(ctx: Context, client: Client, other: Client) -> Reply:
    if other.id == client.id:
        return error(f"{client.name} can't be merged into itself.")
    if not (may_edit(ctx, client) and may_edit(ctx, other)):
        return error(
            "Only the owners of both clients, a principal or an admin can merge them.",
            "Ask a principal or an admin.",
        )
    touches = len(await ctx.uow.touches.for_client(client.id, limit=10_000))
    return Message(
        text=(
            f"Merge {client.name} into {other.name}? Its {plural(touches, 'touch', 'touches')}, "
            f"key people, matters, repairs and history move to {other.name}, and "
            f'"{client.name}" becomes one of its names. This cannot be undone.'
        ),
        actions=(
            Action(
                "client_merge",
                clip(f"Merge into {other.name}", 60),
                pack(a=client.id, b=other.id),
                Style.PRIMARY,
            ),
            Action("client_book_cancel", "Cancel", str(client.id)),
        ),
        tone=Tone.WARNING,
    )


async def merge_ask_button(ctx: Context, value: str) -> Reply:
    data = unpack(value)
    a, b = row_id(data.get("a")), row_id(data.get("b"))
    client = await ctx.uow.clients.get(a) if a else None
    other = await ctx.uow.clients.get(b) if b else None
    if client is None or other is None:
        return error("One of those clients is no longer there.")
    return await ask_merge(ctx, client, other)


def same_person(a: Contact, b: Contact) -> bool:
    """Whether two key people are one, for a merge: the same e-mail; or the same name (case,
    accents and spacing aside) where at most one of them has an e-mail."""
    mail_a, mail_b = (a.email or "").strip().casefold(), (b.email or "").strip().casefold()
    if mail_a and mail_b:
        return mail_a == mail_b
    return (contact_key(a.name) or "") == (contact_key(b.name) or "")


async def _one_of_each(ctx: Context, client_id: int) -> int:
    """After a merge, a key person both clients knew is kept once: the older row, filled in
    from the other. Returns how many rows went."""
    kept: list[Contact] = []
    gone = 0
    for c in await ctx.uow.contacts.for_client(client_id):
        at = next((i for i, k in enumerate(kept) if same_person(k, c)), None)
        if at is None:
            kept.append(c)
            continue
        first = kept[at]
        fill = {
            f: getattr(c, f)
            for f in ("title", "email", "phone", "influence", "seniority", "notes", "holder_id")
            if getattr(first, f) in (None, "") and getattr(c, f) not in (None, "")
        }
        if fill:
            kept[at] = await ctx.uow.contacts.update(first.id, **fill)
        await ctx.uow.contacts.delete(c.id)
        gone += 1
    return gone


async def merge_button(ctx: Context, value: str) -> Reply:
    data = unpack(value)
    a, b = row_id(data.get("a")), row_id(data.get("b"))
    client = await ctx.uow.clients.get(a) if a else None
    other = await ctx.uow.clients.get(b) if b else None
    if client is None or other is None:
        return error("One of those clients is no longer there: perhaps it was merged already.")
    if other.id == client.id:
        return error(f"{client.name} can't be merged into itself.")
    if not (may_edit(ctx, client) and may_edit(ctx, other)):
        return error("Only the owners of both clients, a principal or an admin can merge them.")
    open_a = await ctx.uow.repairs.open_for(client.id)
    open_b = await ctx.uow.repairs.open_for(other.id)
    if open_a is not None and open_b is not None:
        return error(
            f"Both {client.name} and {other.name} have a repair under way, and a client has one "
            "at a time. Finish or cancel one of them, then merge.",
            f"/repair {client.name} cancel",
        )
    names = [n for n in (client.name, *client.aliases)]
    aliases = list(other.aliases)
    for n in names:
        if label_key(n) != label_key(other.name) and all(
            label_key(x) != label_key(n) for x in aliases
        ):
            aliases.append(n)
    await ctx.uow.capture.move_client(client.id, other.id)
    moved = await ctx.uow.clients.merge(client.id, other.id)
    moved["contact"] = max(0, moved.get("contact", 0) - await _one_of_each(ctx, other.id))
    changes: dict[str, object] = {"aliases": aliases}
    if other.owner_id is None and client.owner_id is not None:
        changes["owner_id"] = client.owner_id
    if other.cadence_days is None and client.cadence_days is not None:
        changes["cadence_days"] = client.cadence_days
    if other.segment is None and client.segment is not None:
        changes["segment"] = client.segment
    merged = await ctx.uow.clients.update(other.id, **changes)
    what = ", ".join(
        plural(n, label)
        for n, label in (
            (moved.get("touch", 0), "touch"),
            (moved.get("contact", 0), "key person"),
            (moved.get("matter", 0), "matter"),
            (moved.get("repair", 0), "repair"),
        )
        if n
    )
    await ctx.uow.history.add_event(
        other.id,
        ctx.person.id,
        "merged",
        f"{ctx.person.display_name} merged {client.name} into {other.name}"
        + (f" ({what})" if what else ""),
    )
    for owner_id in {client.owner_id, other.owner_id} - {None, ctx.person.id}:
        owner = await ctx.uow.people.get(owner_id) if owner_id else None
        if owner is not None:
            ctx.notify(
                owner.address,
                Message(
                    text=stop(f"{ctx.person.display_name} merged {client.name} into {other.name}"),
                    actions=(_open(merged),),
                ),
                owner.id,
            )
    return Message(
        text=(
            f"Merged {client.name} into {other.name}"
            + (f": {what} moved" if what else "")
            + f'. "{client.name}" now finds {other.name}.'
        ),
        actions=(_open(merged),),
        tone=Tone.SUCCESS,
    )


async def cancel_button(ctx: Context, value: str) -> Reply:
    client = await ctx.uow.clients.get(cid) if (cid := row_id(value)) else None
    return notice("Nothing changed.", *((_open(client),) if client else ()))


# --- archive -------------------------------------------------------------------------------------


async def archive_command(ctx: Context, client: Client, text: str) -> Reply:
    if not may_edit(ctx, client):
        return _refused(client, "archive it")
    if client.status is ClientStatus.ARCHIVED:
        return notice(f"{client.name} is already archived.", _open(client))
    await ctx.uow.clients.update(client.id, status=ClientStatus.ARCHIVED)
    await ctx.uow.history.add_event(
        client.id, ctx.person.id, "archived", f"{ctx.person.display_name} archived the client"
    )
    await _tell_owner(ctx, client, stop(f"archived {client.name}"))
    return Message(
        text=(
            f"Archived {client.name}: no more reminders for it, and it is out of the lists and "
            "the dashboard. Its history is kept, and in the export."
        ),
        sections=(Section(text=f"To bring it back: /client {client.name} unarchive"),),
        actions=(Action("client_unarchive", "Undo", str(client.id)),),
        tone=Tone.SUCCESS,
    )


async def unarchive_command(ctx: Context, client: Client, text: str) -> Reply:
    if not may_edit(ctx, client):
        return _refused(client, "bring it back")
    if client.status is not ClientStatus.ARCHIVED:
        return notice(f"{client.name} isn't archived.", _open(client))
    await ctx.uow.clients.update(client.id, status=ClientStatus.ACTIVE)
    await ctx.uow.history.add_event(
        client.id, ctx.person.id, "unarchived", f"{ctx.person.display_name} brought the client back"
    )
    await _tell_owner(ctx, client, f"brought {client.name} back from the archive.")
    return Message(
        text=f"{client.name} is back: reminders and lists include it again.",
        actions=(_open(client),),
        tone=Tone.SUCCESS,
    )


async def unarchive_button(ctx: Context, value: str) -> Reply:
    client = await ctx.uow.clients.get(cid) if (cid := row_id(value)) else None
    if client is None:
        return error("That client is no longer there.")
    return await unarchive_command(ctx, client, "")


# --- delete (erasure) ----------------------------------------------------------------------------


async def delete_command(ctx: Context, client: Client, text: str) -> Reply:
    if ctx.person.role is not Role.ADMIN:
        return error(
            "Only an admin can delete a client.",
            f"To stop its reminders and keep its history: /client {client.name} archive",
        )
    touches = len(await ctx.uow.touches.for_client(client.id, limit=10_000))
    return Message(
        text=(
            f"Delete {client.name} for good? Its {plural(touches, 'touch', 'touches')}, key "
            "people, matters, repairs and history are erased, and cannot be brought back. "
            "This is for a data-protection request; to stop its reminders, archive it instead."
        ),
        actions=(
            Action("client_erase", clip(f"Delete {client.name}", 60), str(client.id), Style.DANGER),
            Action("client_book_cancel", "Cancel", str(client.id)),
        ),
        tone=Tone.WARNING,
    )


async def erase_button(ctx: Context, value: str) -> Reply:
    if ctx.person.role is not Role.ADMIN:
        return error("Only an admin can delete a client.")
    client = await ctx.uow.clients.get(cid) if (cid := row_id(value)) else None
    if client is None:
        return notice("That client is already gone.")
    await ctx.uow.capture.move_client(client.id, None)
    gone = await ctx.uow.clients.erase(client.id)
    counts = ", ".join(f"{table} {n}" for table, n in sorted(gone.items()) if n)
    await ctx.uow.history.audit(
        ctx.person.id,
        "client_erased",
        f"client #{client.id} erased" + (f": {counts}" if counts else ""),
    )
    return Message(
        text=f"Deleted {client.name} and everything recorded about it.",
        sections=(Section(text="The audit log notes that a client was erased, not which."),),
        tone=Tone.SUCCESS,
    )


HANDLERS = {
    "cadence": cadence_command,
    "rename": rename_command,
    "merge": merge_command,
    "mergeinto": merge_command,
    "archive": archive_command,
    "unarchive": unarchive_command,
    "delete": delete_command,
}


def register(r: Registry) -> None:
    r.action("client_merge_ask")(merge_ask_button)
    r.action("client_merge")(merge_button)
    r.action("client_book_cancel")(cancel_button)
    r.action("client_unarchive")(unarchive_button)
    r.action("client_erase")(erase_button)
