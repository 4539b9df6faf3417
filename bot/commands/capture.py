"""Capture's commands and buttons (the rules are in bot/capture.py).

    /client Globex domain globex.com globex.co.uk    mail domains that mean Globex
    /client Globex domain remove globex.co.uk
    /touchbase capture auto|suggest|off              what happens to captured meetings
    /touchbase calendar <secret iCal address>        read my calendar from that feed (off: stop)

The buttons under a captured meeting: Log it, Not client work, Always log <client>.
"""

from __future__ import annotations

from dataclasses import replace

from bot.app import Context, Registry, Reply
from bot.capture import (
    FORGET_WORDS,
    feed_problem,
    firm_domains,
    is_public,
    learned_domains,
    log_suggestion,
    normal_domain,
)
from bot.capture_ports import CaptureMode, SecretUnavailable, Suggestion, SuggestionState
from bot.domain import Client
from bot.messages import Field, Message, Section, Tone, error, notice
from bot.text import clip, row_id, stop

DOMAIN_USAGE = "Try: /client Globex domain globex.com globex.co.uk"
MODE_USAGE = "Try: /touchbase capture suggest (or auto, or off)"
CALENDAR_USAGE = (
    "Try: /touchbase calendar https://… with your calendar's secret address in iCal format "
    '(Outlook: "Publish a calendar"; Google: "Secret address in iCal format"), or '
    "/touchbase calendar off"
)
STALE = "That suggestion is no longer waiting. Type /due to see what is."
_REMOVE = {"remove", "delete", "drop", "unset"}
MODES = {
    CaptureMode.AUTO: "I log client meetings from your calendar as touches by myself",
    CaptureMode.SUGGEST: "I suggest client meetings from your calendar in /due and your "
    "morning message, and log them when you say so",
    CaptureMode.OFF: "I don't look at your calendar or mail",
}


# --- /client <name> domain ... -------------------------------------------------------------------


async def client_domains(ctx: Context, client: Client) -> tuple[list[str], list[str]]:
    """The client's domains: set by hand, and learned from its key people's addresses."""
    set_here = sorted(d for d, c in (await ctx.uow.capture.domains()).items() if c == client.id)
    own = firm_domains(await ctx.uow.people.list())
    contacts = await ctx.uow.contacts.for_client(client.id)
    learned = sorted(
        d for d, c in learned_domains(contacts, own).items() if c == client.id and d not in set_here
    )
    return set_here, learned


async def domain_command(ctx: Context, client: Client, rest: str) -> Reply:
    words = rest.replace(",", " ").replace(";", " ").split()
    if not words:
        return await _show_domains(ctx, client)
    remove = words[0].lower() in _REMOVE
    if remove:
        words = words[1:]
        if not words:
            return error("Which domain should I remove?", DOMAIN_USAGE)
    domains: list[str] = []
    for word in words[:20]:
        d = normal_domain(word)
        if d is None:
            return error(f'"{clip(word, 60)}" isn\'t a mail domain.', DOMAIN_USAGE)
        if is_public(d) and not remove:
            return error(
                f"{d} is a public mail service: anyone can have an address there, so it can't "
                f"tell me who works at {client.name}. Key people's own addresses still count."
            )
        domains.append(d)
    if remove:
        await ctx.uow.capture.remove_domains(client.id, domains)
        return await _show_domains(ctx, client, f"Removed {', '.join(domains)} from {client.name}.")
    own = firm_domains(await ctx.uow.people.list())
    ours = [d for d in domains if d in own]
    if ours:
        return error(
            f"{ours[0]} is the firm's own domain (your colleagues' addresses are there), so it "
            "can't mean a client."
        )
    taken = await ctx.uow.capture.domains()
    elsewhere = [(d, taken[d]) for d in domains if d in taken and taken[d] != client.id]
    if elsewhere:
        other = await ctx.uow.clients.get(elsewhere[0][1])
        name = other.name if other else "another client"
        return error(
            f"{elsewhere[0][0]} already means {name}. Remove it there first: "
            f"/client {name} domain remove {elsewhere[0][0]}"
        )
    await ctx.uow.capture.set_domains(client.id, domains)
    return await _show_domains(ctx, client, stop(f"Saved {', '.join(domains)} for {client.name}"))


async def _show_domains(ctx: Context, client: Client, said: str | None = None) -> Message:
    set_here, learned = await client_domains(ctx, client)
    fields = []
    if set_here:
        fields.append(Field("Domains", ", ".join(set_here)))
    if learned:
        fields.append(Field("From key people's addresses", ", ".join(learned)))
    text = said or f"{client.name}'s mail domains."
    if not fields:
        text = said or f"{client.name} has no mail domains yet."
        return Message(
            text=text,
            sections=(Section(text=DOMAIN_USAGE),),
            tone=Tone.INFO,
        )
    return Message(
        text=text,
        sections=(
            Section(
                fields=tuple(fields),
                context="Meetings and e-mails with addresses at these domains count as "
                f"{client.name}'s. Public mail services never do.",
            ),
        ),
        tone=Tone.SUCCESS if said else Tone.INFO,
    )


async def domains_on_card(ctx: Context, client: Client) -> tuple[Section, ...]:
    set_here, learned = await client_domains(ctx, client)
    shown = set_here + learned
    if not shown:
        return ()
    return (Section(fields=(Field("Domains", ", ".join(shown[:10])),)),)


# --- /touchbase capture, /touchbase calendar -------------------------------------------------------


async def capture_command(ctx: Context, text: str) -> Reply:
    setup = await ctx.uow.capture.setup(ctx.person.id)
    word = text.strip().lower()
    if not word:
        feed = "set" if setup.feed_url else "not set (/touchbase calendar …)"
        return Message(
            text=f"Capture is {setup.mode.value}: {MODES[setup.mode]}.",
            sections=(Section(fields=(Field("Calendar feed", feed),), context=MODE_USAGE),),
        )
    try:
        mode = CaptureMode(word)
    except ValueError:
        return error(f'"{clip(text, 40)}" isn\'t a capture mode.', MODE_USAGE)
    await ctx.uow.capture.save_setup(replace(setup, mode=mode))
    return notice(
        f"Capture is now {mode.value}: {MODES[mode]}. Only who, when and what kind are read: "
        "never a subject or a message's text.",
        tone=Tone.SUCCESS,
    )


async def calendar_command(ctx: Context, text: str) -> Reply:
    url = text.strip().strip("<>")
    setup = await ctx.uow.capture.setup(ctx.person.id)
    if url.lower() in FORGET_WORDS:
        await ctx.uow.capture.save_setup(replace(setup, feed_url=None))
        return notice("I've forgotten your calendar address.", tone=Tone.SUCCESS)
    if not url:
        return error("Which calendar?", CALENDAR_USAGE)
    if ctx.conversation is not None and ctx.conversation.is_shared:
        return error(
            "I didn't save that: a calendar's secret address belongs in a direct message with "
            "me, where nobody else reads it.",
            "If others could see what you typed, reset the address first (Outlook: stop and "
            "publish the calendar again; Google: Reset next to the secret address), then send "
            "me the new one in a direct message.",
        )
    problem = feed_problem(url, allow_local=ctx.config.capture_allow_local_feeds)
    if problem is not None:
        return error(problem, CALENDAR_USAGE)
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://") :]
    try:
        await ctx.uow.capture.save_setup(replace(setup, feed_url=url))
    except SecretUnavailable:
        return error(
            "I didn't save that: calendar addresses are kept encrypted, and this Touchbase has "
            "no key to encrypt them with yet.",
            "Ask whoever runs Touchbase to set TOUCHBASE_SECRET_KEYS (touchbase db new-key "
            "makes one), then send me the address again.",
        )
    mode = "off" if setup.mode is CaptureMode.OFF else setup.mode.value
    return notice(
        "Saved your calendar's address; I'll read it every hour (capture is "
        f"{mode}). I keep who, when and what kind, never titles. Anyone with that address can "
        "read your calendar: keep it secret.",
        tone=Tone.SUCCESS,
    )


# --- buttons ---------------------------------------------------------------------------------------


async def _waiting(ctx: Context, value: str) -> Suggestion | None:
    sid = row_id(value)
    s = await ctx.uow.capture.get(sid) if sid else None
    if s is None or s.person_id != ctx.person.id or s.state is not SuggestionState.PENDING:
        return None
    return s


async def log_it(ctx: Context, value: str) -> Reply:
    from .touch import confirm

    s = await _waiting(ctx, value)
    client = await ctx.uow.clients.get(s.client_id) if s else None
    if s is None or client is None:
        return error(STALE)
    touch_id = await log_suggestion(ctx.uow, s, ctx.person)
    touch = await ctx.uow.touches.get(touch_id)
    assert touch is not None
    return await confirm(ctx, touch, client.name)


async def not_client_work(ctx: Context, value: str) -> Reply:
    s = await _waiting(ctx, value)
    if s is None:
        return error(STALE)
    await ctx.uow.capture.update(s.id, state=SuggestionState.DISMISSED)
    return notice("Noted: not client work. I won't suggest it again.", tone=Tone.SUCCESS)


async def always_log(ctx: Context, value: str) -> Reply:
    s = await _waiting(ctx, value)
    client = await ctx.uow.clients.get(s.client_id) if s else None
    if s is None or client is None:
        return error(STALE)
    setup = await ctx.uow.capture.setup(ctx.person.id)
    if client.id not in setup.always_clients:
        setup = replace(setup, always_clients=(*setup.always_clients, client.id))
        await ctx.uow.capture.save_setup(setup)
    now = ctx.clock.now()
    logged = 0
    for item in await ctx.uow.capture.pending([ctx.person.id]):
        if item.client_id == client.id and item.occurred_at <= now:
            await log_suggestion(ctx.uow, item, ctx.person)
            logged += 1
    return notice(
        f"Logged {logged} {'meeting' if logged == 1 else 'meetings'} with {client.name}. From "
        f"now on I log your meetings with {client.name} by myself.",
        tone=Tone.SUCCESS,
    )


def register(r: Registry) -> None:
    r.command("touchbase capture")(capture_command)
    r.command("touchbase calendar")(calendar_command)
    r.action("capture_log")(log_it)
    r.action("capture_dismiss")(not_client_work)
    r.action("capture_always")(always_log)
    r.card_extensions.append(domains_on_card)
