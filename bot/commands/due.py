"""/due, and the buttons on digest items: snooze, they replied. (Log touch and open client are
the touch and client modules' own buttons.)"""

from __future__ import annotations

from datetime import timedelta

from bot.app import Context, Registry, Reply
from bot.digest import compose_digest
from bot.messages import Action, Message, Section, Tone, error
from bot.nudges import Agenda, load_note
from bot.sources import all_agendas

SNOOZE_CHOICES = ((1, "1 day"), (3, "3 days"), (7, "1 week"))
STALE = "That button is out of date. Type /due to see what is due now."


def row_id(text: str) -> int | None:
    """A database id from a button value: plain digits within a 32-bit integer, else None."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    number = int(text)
    return number if 0 < number < 2**31 else None


async def show_due(ctx: Context, text: str) -> Reply:
    now = ctx.clock.now()
    limit = ctx.config.digest_max_items
    nudges = await all_agendas(ctx.uow, [ctx.person.id], now, ctx.config, limit=limit)
    owned = await ctx.uow.nudges.owned_counts([ctx.person.id])
    load = load_note(ctx.person.role, owned.get(ctx.person.id, 0), ctx.config.load_targets)
    message = compose_digest(
        nudges.get(ctx.person.id, Agenda(())),
        ctx.today(),
        max_items=limit,
        load=load,
        greeting="Right now",
    )
    if message is None and not owned.get(ctx.person.id, 0):
        return Message(
            text="Nothing is due: you don't own any clients yet.",
            sections=(
                Section(
                    text="Add one with /client add Acme Corp, then log each call, lunch and "
                    "email with /touch Acme lunch with the CFO."
                ),
            ),
            tone=Tone.INFO,
        )
    if message is None:
        text = "Nothing is due: every client you own is on schedule and no reply is overdue."
        return Message(text=text + (f" {load}" if load else ""), tone=Tone.SUCCESS)
    return message


async def ask_snooze(ctx: Context, value: str) -> Reply:
    key = value.strip()
    if not key or len(key) > 120:
        return error(STALE)
    return Message(
        text="Snooze this for how long? It comes back in your digest after that.",
        actions=tuple(
            Action("nudge_snooze_for", label, f"{days}|{key}") for days, label in SNOOZE_CHOICES
        ),
    )


async def snooze_for(ctx: Context, value: str) -> Reply:
    days_text, _, key = value.partition("|")
    # Only the offered choices: a forged value must not push a date past year 9999.
    days = next((d for d, _ in SNOOZE_CHOICES if str(d) == days_text), None)
    if days is None or not key or len(key) > 120:
        return error(STALE)
    client_id = _client_of(key)
    if client_id is not None and await ctx.uow.clients.get(client_id) is None:
        return error("That client is no longer in Touchbase.")
    until = ctx.clock.now() + timedelta(days=days)
    await ctx.uow.nudges.snooze(ctx.person.id, until, client_id=client_id, nudge_key=key)
    label = next(lbl for d, lbl in SNOOZE_CHOICES if d == days)
    return Message(
        text=f"Snoozed for {label}. It stays out of your digest until then.", tone=Tone.SUCCESS
    )


def _client_of(key: str) -> int | None:
    """The client a routine key names ("due:client:12"); other keys carry none."""
    parts = key.split(":")
    if len(parts) == 3 and parts[:2] == ["due", "client"]:
        return row_id(parts[2])
    return None


async def they_replied(ctx: Context, value: str) -> Reply:
    touch_id = row_id(value)
    touch = await ctx.uow.touches.get(touch_id) if touch_id is not None else None
    if touch is None:
        return error("That touch is no longer in the history.")
    if touch.replied_at is not None:
        return Message(text="Already marked as answered.", tone=Tone.INFO)
    await ctx.uow.touches.mark_replied(touch.id, ctx.clock.now())
    client = await ctx.uow.clients.get(touch.client_id)
    name = client.name if client else "The client"
    return Message(
        text=f"Good. {name} replied, so no more follow-up reminders for it.",
        tone=Tone.SUCCESS,
        actions=(Action("log_touch_open", "Log the reply as a touch", str(touch.client_id)),),
    )


def register(r: Registry) -> None:
    r.command("due")(show_due)
    r.action("nudge_snooze")(ask_snooze)
    r.action("nudge_snooze_for")(snooze_for)
    r.action("nudge_replied")(they_replied)
