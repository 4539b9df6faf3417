"""/owner: hand a client to a new owner, personally. /touchbase role and /touchbase channel.
The handoff checklist's buttons, and the client-care plan a closeout starts.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from bot import resolve
from bot.app import Context, Registry, Reply
from bot.domain import Client, Person, Role, Touch
from bot.matching import PRINCIPAL, SENIOR, STAFF, level_of
from bot.messages import Action, Message, Section, Style, Tone, error, notice
from bot.ownership import (
    can_change_owner,
    can_mark_handoff,
    care_plan,
    handoff_section,
    step_text,
)
from bot.ownership_ports import HANDOFF_STEPS, Handoff
from bot.parsing import lookup_client
from bot.privacy import ConversationKind, mention_problem
from bot.resolve import client_problem, people_named
from bot.text import a_role, clip, find_mentions, row_id, stop, unpack, when

USAGE = "Try: /owner Acme @jane (or /owner Acme jane)"
ROLE_USAGE = "Try: /touchbase role @jane senior (staff, senior, principal or admin)"
NO_CHANNEL = (
    "No relationships channel is set yet, so nothing was posted. An admin can type "
    "/touchbase channel in the channel where ownership news and the weekly summary should go."
)
_AT = re.compile(r"(?:^|\s)@")


# --- finding people and clients ------------------------------------------------------------------


def split_at_person(text: str) -> tuple[str, list[tuple[str, str]], str]:
    """`Acme Corp <@U1|jane>` or `Acme Corp @Jane Doe` -> (before, mentions, typed name)."""
    mentions, rest = find_mentions(text)
    if mentions:
        return rest, mentions, ""
    found = _AT.search(rest)
    if found is None:
        return rest.strip(), [], ""
    return rest[: found.start()].strip(), [], rest[found.end() :].strip()


def people_called(people: list[Person], typed: str) -> list[Person]:
    """Who a typed name means (the one rule: `bot.resolve.people_named`)."""
    return people_named(people, typed)


async def resolve_person(
    ctx: Context, mentions: list[tuple[str, str]], typed: str
) -> Person | Message:
    """The person named by a mention (created if they have never used Touchbase) or by a typed
    name, with or without @, matched on display names; a message asking again when unclear."""
    if len(mentions) > 1:
        return error("Name one person, please.", USAGE)
    if mentions:
        user_id, label = mentions[0]
        seen = ctx.mentioned.get(user_id)  # what the platform says: a bot, an outsider...
        problem = mention_problem(seen) if seen is not None else None
        if problem is not None:
            return problem
        known = await ctx.uow.people.by_platform_id(user_id)
        if known is not None:
            return known
        name = (seen.name if seen else "") or ctx.mentions.get(user_id) or label or user_id
        return await ctx.uow.people.ensure(
            user_id, name, email=seen.email if seen else None, tz=seen.tz if seen else None
        )
    shown = clip(" ".join(typed.strip().strip("\"'“”").split()), 60)
    if not shown:
        return error("Who should it be? Mention them with @.", USAGE)
    if shown.casefold() in ("me", "myself"):
        return ctx.person
    matches = people_called(await ctx.uow.people.list(), typed)
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = ", ".join(sorted(p.display_name for p in matches))
        return Message(
            text=f'More than one person here matches "{shown}": {names}. Which one?',
            sections=(Section(text="Mention the one you mean with @ so I can be sure."),),
            tone=Tone.WARNING,
        )
    return Message(
        text=f'I don\'t know anyone called "{shown}" here yet.',
        sections=(
            Section(text="Mention them with @ (pick their name from the list) and I'll find them."),
        ),
        tone=Tone.WARNING,
    )


async def find_client(ctx: Context, typed: str, usage: str = USAGE) -> Client | Message:
    if not typed:
        return error("Which client?", usage)
    found = await resolve.find_client(ctx.uow.clients, typed)
    if found.client is not None:
        return found.client
    return client_problem(found, usage)


async def split_plain_name(ctx: Context, text: str) -> tuple[str, str]:
    """`Globex Corporation Jane Doe` without an @: the client, then a person's name in the last
    one to three words. The split where both the client and the person are known wins (the
    longest name first); else the last word is taken as the name, so an unknown one is
    reported as such."""
    words = text.split()
    if len(words) < 2:
        return text.strip(), ""
    people = await ctx.uow.people.list()
    names = await ctx.uow.clients.index()
    for n in range(min(3, len(words) - 1), 0, -1):
        before, name = " ".join(words[:-n]), " ".join(words[-n:])
        known = name.casefold() in ("me", "myself") or len(people_called(people, name)) == 1
        if known and lookup_client(before, names).status == "matched":
            return before, name
    if lookup_client(text, names).status == "matched":
        return text.strip(), ""  # `/owner Acme Corp`: the client, and nobody named
    return " ".join(words[:-1]), words[-1]


def _name(people: dict[int, Person], person_id: int | None, fallback: str = "nobody") -> str:
    person = people.get(person_id or 0)
    return person.display_name if person else fallback


# --- /owner --------------------------------------------------------------------------------------


async def owner_command(ctx: Context, text: str) -> Reply:
    if not text.strip():
        return error("Which client, and who should own it?", USAGE)
    client_text, mentions, typed = split_at_person(text)
    if not mentions and not typed:
        client_text, typed = await split_plain_name(ctx, client_text)
        if not typed:
            return error("Who should own it? Name them after the client.", USAGE)
    client = await find_client(ctx, client_text)
    if isinstance(client, Message):
        return client
    person = await resolve_person(ctx, mentions, typed)
    if isinstance(person, Message):
        return person
    return await change_owner(ctx, client, person)


async def change_owner(ctx: Context, client: Client, new: Person) -> Reply:
    """Move a client to a new owner: owner history, client history, a handoff checklist for both
    owners, one post to the relationships channel and a message to each owner."""
    people = {p.id: p for p in await ctx.uow.people.list()}
    people[new.id] = new
    old = people.get(client.owner_id or 0)
    actor = ctx.person
    if client.owner_id == new.id:
        return notice(stop(f"{new.display_name} already owns {client.name}"))
    if not can_change_owner(actor, client, new):
        owner = old.display_name if old else "its owner"
        return error(
            f"Only {owner}, a principal or an admin can hand {client.name} to someone else. "
            "Nothing changed.",
            stop(f"If you think {client.name} should move, talk to {owner}"),
        )
    await ctx.uow.clients.update(client.id, owner_id=new.id)
    await ctx.uow.history.add_owner_change(client.id, client.owner_id, new.id, actor.id)
    moved = (
        f"{new.display_name} took over from {old.display_name}"
        if old
        else f"{new.display_name} became the owner"
    )
    by = "" if actor.id in (new.id, client.owner_id) else f" (set by {actor.display_name})"
    await ctx.uow.history.add_event(client.id, actor.id, "owner_change", moved + by)

    handoff = await ctx.uow.ownership.start_handoff(client.id, old.id, new.id) if old else None
    today = ctx.today()
    channel = await ctx.uow.ownership.channel()
    if channel is not None:
        ctx.notify(channel, channel_post(client, old, new))
    # Both owners get their part of the handoff in a direct message, to keep and act on.
    ctx.notify(new.address, new_owner_message(client, old, new, actor, handoff, today), new.id)
    if old is not None:
        ctx.notify(old.address, old_owner_message(client, old, new, actor, handoff, today), old.id)

    sections: list[Section] = []
    if handoff is not None and old is not None:
        sections.append(
            handoff_section(handoff, client.name, old.display_name, new.display_name, today)
        )
    others = [p for p in (old, new) if p is not None and p.id != actor.id]
    # only people a message can reach now are "let know"; the others are told when first seen
    told = [p.display_name for p in others if p.address is not None]
    later = [p.display_name for p in others if p.address is None]
    if told:
        sections.append(Section(text=f"I've let {' and '.join(told)} know."))
    if later:
        sections.append(
            Section(text=f"I'll tell {' and '.join(later)} when they first use Touchbase.")
        )
    if channel is None:
        sections.append(Section(context=NO_CHANNEL))
    else:
        sections.append(Section(context="Posted to the relationships channel."))
    return Message(
        text=f"{client.name} is now {new.display_name}'s client.",
        sections=tuple(sections),
        actions=(Action("client_open", "Open client", str(client.id)),),
        tone=Tone.SUCCESS,
    )


def channel_post(client: Client, old: Person | None, new: Person) -> Message:
    if old is None:
        return Message(
            text=stop(f"{client.name} has an owner: {new.display_name}"),
            private=False,
        )
    return Message(
        text=stop(f"{client.name}: {new.display_name} takes over from {old.display_name}"),
        sections=(
            Section(
                context=(
                    f"{old.display_name} will introduce {new.display_name} in person, share "
                    f"what they know, and tell {client.name}'s key people."
                )
            ),
        ),
        private=False,
    )


def new_owner_message(
    client: Client,
    old: Person | None,
    new: Person,
    actor: Person,
    handoff: Handoff | None,
    today: date,
) -> Message:
    if actor.id == new.id:
        who = "You took"
    elif old is not None and actor.id == old.id:
        who = f"{old.display_name} handed you"
    else:
        who = f"{actor.display_name} gave you"
    if old is None or handoff is None:
        return Message(
            text=f"{who} {client.name}. Nobody owned it before you.",
            title=f"{client.name} is yours now",
            sections=(
                Section(
                    text=(
                        "Start with its key people: a call to say you are their person at the "
                        "firm goes a long way."
                    )
                ),
            ),
            actions=(Action("client_open", "Open client", str(client.id)),),
        )
    return Message(
        text=(
            stop(f"{who} {client.name}")
            if actor.id == old.id
            else f"{who} {client.name}, which {old.display_name} owned."
        ),
        title=f"{client.name} is yours now",
        sections=(
            Section(
                text=(
                    f"{client.name}'s people know {old.display_name}, not the firm. Meet them "
                    f"together, so nobody there feels passed along."
                )
            ),
            handoff_section(handoff, client.name, old.display_name, new.display_name, today),
        ),
        actions=(Action("client_open", "Open client", str(client.id)),),
    )


def old_owner_message(
    client: Client,
    old: Person,
    new: Person,
    actor: Person,
    handoff: Handoff | None,
    today: date,
) -> Message:
    who = "You handed" if actor.id == old.id else f"{actor.display_name} handed"
    sections: list[Section] = [
        Section(
            text=(
                f"{client.name} trusts you. Introduce {new.display_name} in person, so the move "
                "feels like care rather than a transfer."
            )
        )
    ]
    if handoff is not None:
        sections.append(
            handoff_section(handoff, client.name, old.display_name, new.display_name, today)
        )
    return Message(
        text=stop(f"{who} {client.name} to {new.display_name}"),
        title=f"{client.name} moves to {new.display_name}",
        sections=tuple(sections),
        actions=(Action("client_open", "Open client", str(client.id)),),
    )


# --- the handoff checklist -----------------------------------------------------------------------


async def handoff_step(ctx: Context, value: str) -> Reply:
    data = unpack(value)
    step = str(data.get("s", ""))
    handoff_id = row_id(data.get("h"))
    handoff = await ctx.uow.ownership.handoff(handoff_id) if handoff_id else None
    if handoff is None or step not in HANDOFF_STEPS:
        return error("That handoff is no longer there.")
    if not can_mark_handoff(ctx.person, handoff):
        return error("Only the two owners, a principal or an admin can tick off a handoff.")
    client = await ctx.uow.clients.get(handoff.client_id)
    if client is None:
        return error("That client is no longer there.")
    people = {p.id: p for p in await ctx.uow.people.list()}
    old = _name(people, handoff.from_person_id, "the previous owner")
    new = _name(people, handoff.to_person_id, "the new owner")
    if handoff.done_at is not None:
        return notice(f"The handoff of {client.name} to {new} is already settled.")
    if step not in handoff.steps_done:
        marked = await ctx.uow.ownership.mark_handoff_step(handoff.id, step, ctx.person.id)
        assert marked is not None
        handoff = marked
        await ctx.uow.history.add_event(
            client.id,
            ctx.person.id,
            "handoff",
            "Handoff: " + step_text(step, client.name, old, new),
        )
        if handoff.checklist_done:
            await ctx.uow.ownership.close_handoff(handoff.id, "checklist")
            await ctx.uow.history.add_event(
                client.id, ctx.person.id, "handoff", f"Handoff to {new} complete"
            )
            return Message(
                text=f"Handoff of {client.name} complete. {client.name} is in {new}'s hands.",
                tone=Tone.SUCCESS,
                actions=(Action("client_open", "Open client", str(client.id)),),
            )
    return Message(
        text=f"Ticked off. {client.name}'s handoff so far:",
        sections=(handoff_section(handoff, client.name, old, new, ctx.today()),),
        tone=Tone.SUCCESS,
    )


async def handoff_card(ctx: Context, client: Client) -> tuple[Section, ...]:
    handoffs = [h for h in await ctx.uow.ownership.open_handoffs([client.id]) if h.under_way]
    if not handoffs:
        return ()
    people = {p.id: p for p in await ctx.uow.people.list()}
    return tuple(
        handoff_section(
            h,
            client.name,
            _name(people, h.from_person_id, "the previous owner"),
            _name(people, h.to_person_id, "the new owner"),
            ctx.today(),
            buttons=can_mark_handoff(ctx.person, h),
        )
        for h in handoffs
    )


async def settle_on_touch(ctx: Context, touch: Touch) -> tuple[Action, ...]:
    """The new owner's first touch with the client settles a handoff under way."""
    for h in await ctx.uow.ownership.open_handoffs([touch.client_id]):
        if h.to_person_id == touch.person_id and h.new_owner_touched_on is not None:
            await ctx.uow.ownership.close_handoff(h.id, "touched")
            await ctx.uow.history.add_event(
                touch.client_id,
                touch.person_id,
                "handoff",
                f"Handoff settled: {ctx.person.display_name} has been in touch",
            )
    return ()


# --- closeout and client care --------------------------------------------------------------------


async def closeout(ctx: Context, client: Client, what: str) -> Reply:
    """A finished engagement: record it, and plan check-ins at which the client hears from us
    while nothing is being sold."""
    people = {p.id: p for p in await ctx.uow.people.list()}
    owner = people.get(client.owner_id or 0) or ctx.person
    today = ctx.today()
    plan = care_plan(today, ctx.config.care_checkin_days, owner.workdays)
    planned = {c.due_on for c in await ctx.uow.ownership.open_checkins(client.id)}
    if plan and all(due in planned for _, due in plan):
        return notice(f"{client.name} is already closed out, with its check-ins planned.")
    await ctx.uow.ownership.add_checkins(client.id, owner.id, plan)
    dates = " and ".join(_on(due, today) for _, due in plan)
    what = " ".join(what.split())
    await ctx.uow.history.add_event(
        client.id,
        ctx.person.id,
        "closeout",
        (f"Closed out: {clip(what, 200)}" if what else "Engagement closed out")
        + (f". Care check-ins {dates}" if plan else ""),
    )
    whose = "You" if owner.id == ctx.person.id else owner.display_name
    if owner.id != ctx.person.id:
        ctx.notify(
            owner.address,
            Message(
                text=(
                    f"{ctx.person.display_name} closed out the work for {client.name}. "
                    f"I'll remind you to check in {dates}."
                ),
                sections=(Section(text=CARE_WHY.format(client=client.name)),),
            ),
            owner.id,
        )
    return Message(
        text=f"Closed out {client.name}. {whose} will check in {dates}.",
        sections=(Section(text=CARE_WHY.format(client=client.name)),),
        actions=(Action("client_open", "Open client", str(client.id)),),
        tone=Tone.SUCCESS,
    )


def _on(day: date, today: date) -> str:
    """ "on Mon 7 Dec", "on 22 Feb 2027", "tomorrow": `bot.text.when`, as the card shows it."""
    said = when(day, today)
    return said if said in ("today", "tomorrow") else f"on {said}"


CARE_WHY = (
    "These are care calls, not sales calls: {client} hears from us when we have nothing to sell, "
    "so they know we'll be there the next time they need us."
)


async def care_done(ctx: Context, value: str) -> Reply:
    checkin_id = row_id(value)
    checkin = await ctx.uow.ownership.checkin(checkin_id) if checkin_id else None
    if checkin is None:
        return error("That check-in is no longer there.")
    client = await ctx.uow.clients.get(checkin.client_id)
    if checkin.done_at is not None:
        return notice("That check-in is already done.")
    await ctx.uow.ownership.finish_checkin(checkin.id)
    name = client.name if client else "the client"
    await ctx.uow.history.add_event(
        checkin.client_id, ctx.person.id, "care", f"{checkin.label} care check-in done"
    )
    return Message(
        text=f"Noted: the {checkin.label} check-in with {name} is done.",
        sections=(Section(context="Log what you talked about with /touch, if you haven't."),),
        actions=(Action("log_touch_open", "Log touch", str(checkin.client_id), Style.PRIMARY),),
        tone=Tone.SUCCESS,
    )


async def care_card(ctx: Context, client: Client) -> tuple[Section, ...]:
    checkins = await ctx.uow.ownership.open_checkins(client.id)
    if not checkins:
        return ()
    today = ctx.today()
    lines = [f"{c.label} check-in: {when(c.due_on, today)}" for c in checkins]
    return (
        Section(
            heading="Client care after the project",
            text="\n".join(lines),
            actions=tuple(
                Action("care_done", f"{c.label} check-in done", str(c.id))
                for c in checkins
                if c.due_on <= today
            ),
        ),
    )


# --- /touchbase role and /touchbase channel ------------------------------------------------------


ROLE_NAMES = "staff, senior, principal or admin"


def nearest_role(word: str) -> Role | None:
    """The role that usually goes with a title ("partner" -> principal), if it names a level."""
    level = level_of(word)
    return {PRINCIPAL: Role.PRINCIPAL, SENIOR: Role.SENIOR, STAFF: Role.STAFF}.get(level or 0)


def not_a_role(typed: str, who: str) -> Message:
    """`/touchbase role @bob partner`: say the word isn't a role, and which one fits it."""
    word = clip(typed, 40)
    nearest = nearest_role(word)
    text = f'"{word}" isn\'t one of the roles: {ROLE_NAMES}.'
    if nearest is not None:
        text += f" For a {word.lower()}, {nearest.value} is the usual one."
    return error(
        text,
        f"Try: /touchbase role {clip(who, 60)} {(nearest or Role.SENIOR).value}. A title such as "
        f'"{word.lower()}" is for matching, and each person sets their own: '
        f"/touchbase me seniority {word.lower()}",
    )


async def role_command(ctx: Context, text: str) -> Reply:
    if ctx.person.role is not Role.ADMIN:
        return error("Only an admin can change roles.", "Ask an admin of your firm's Touchbase.")
    words = text.split()
    if not words:
        return error("Whose role, and which?", ROLE_USAGE)
    try:
        role = Role(words[-1].lower())
    except ValueError:
        if len(words) == 1:
            return error(f"Which role? {ROLE_NAMES.capitalize()}.", ROLE_USAGE)
        found, rest = find_mentions(" ".join(words[:-1]))
        who = [f"@{ctx.mentions.get(uid) or label or uid}" for uid, label in found]
        return not_a_role(words[-1], " ".join([*who, rest]).strip())
    _, mentions, typed = split_at_person(" ".join(words[:-1]))
    if not mentions and not typed:
        if not words[:-1]:
            return error("Whose role?", ROLE_USAGE)
        typed = " ".join(words[:-1])
    person = await resolve_person(ctx, mentions, typed)
    if isinstance(person, Message):
        return person
    if person.role is role:
        return notice(f"{person.display_name} is already {a_role(role)}.")
    if person.role is Role.ADMIN:
        admins = [p for p in await ctx.uow.people.list() if p.role is Role.ADMIN]
        if len(admins) <= 1:
            return error(
                f"{person.display_name} is the only admin.", "Make someone else an admin first."
            )
    await ctx.uow.people.update(person.id, role=role)
    target = ctx.config.load_targets.get(role)
    their = f" Their target: {target.describe()} clients." if target else ""
    your = f" Your target: {target.describe()} clients." if target else ""
    if person.id != ctx.person.id:
        ctx.notify(
            person.address,
            Message(text=f"{ctx.person.display_name} made you {a_role(role)} in Touchbase.{your}"),
            person.id,
        )
        return Message(
            text=f"{person.display_name} is now {a_role(role)}.{their}", tone=Tone.SUCCESS
        )
    return Message(text=f"You are now {a_role(role)}.{your}", tone=Tone.SUCCESS)


async def channel_command(ctx: Context, text: str) -> Reply:
    if ctx.person.role is not Role.ADMIN:
        return error("Only an admin can choose the relationships channel.")
    if text.strip().lower() in ("off", "none", "clear", "stop"):
        await ctx.uow.ownership.set_channel(None)
        return notice("No relationships channel now: nothing will be posted to a channel.")
    where = ctx.conversation
    if where is not None and where.kind is not ConversationKind.CHANNEL:
        return error(
            "The relationships channel has to be a channel, not a direct or group message.",
            "Type /touchbase channel in the channel where the firm should see ownership news.",
        )
    if where is not None and where.shared:
        return error(
            "This channel is shared with another organisation, so it can't be the "
            "relationships channel.",
            "Pick a channel only people at the firm are in, and type /touchbase channel there.",
        )
    if ctx.channel is None:
        return error(
            "Type /touchbase channel in the channel itself, so I know where to post.",
            "Ownership changes and the weekly summary go there.",
        )
    await ctx.uow.ownership.set_channel(dict(ctx.channel))
    return replace(
        notice(
            "This is now the relationships channel: ownership changes and the weekly summary "
            "will be posted here. To stop posting here: /touchbase channel off",
            tone=Tone.SUCCESS,
        ),
        private=False,
    )


def register(r: Registry) -> None:
    r.command("owner")(owner_command)
    r.command("touchbase role")(role_command)
    r.command("touchbase channel")(channel_command)
    r.action("handoff_step")(handoff_step)
    r.action("care_done")(care_done)
    r.card_extensions.append(handoff_card)
    r.card_extensions.append(care_card)
    r.touch_extensions.append(settle_on_touch)
