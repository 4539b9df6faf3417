"""The core's privacy rule and its outsider refusal (bot/privacy.py), on both engines."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.app import Touchbase
from bot.domain import Platform, Role
from bot.inbound import ActionIn, CommandIn, FormIn, Identity
from bot.messages import Message
from bot.privacy import (
    COULD_NOT_DM,
    REFUSAL,
    SENT_PRIVATELY,
    Capabilities,
    Conversation,
    ConversationKind,
    Membership,
    Mentioned,
    MentionStatus,
    Route,
    route_reply,
)
from store.repositories import SqlStore

EPHEMERAL = Capabilities(can_reply_privately_in_channel=True)
NO_EPHEMERAL = Capabilities(can_reply_privately_in_channel=False)
CARD = Message(text="Acme Corp", title="Acme Corp")  # private by default: it may hold notes
NEWS = replace(Message(text="Acme Corp has a new owner."), private=False)

MEMBER = Identity(Platform.SLACK, "T0HOST", "U0JANE", "Jane")
GUEST = replace(MEMBER, user_id="U0GUEST", display_name="Gus", membership=Membership.GUEST)
EXTERNAL = replace(MEMBER, user_id="U0OTHER", display_name="Olga", membership=Membership.EXTERNAL)


# --- where a reply goes ----------------------------------------------------------------------------


@pytest.mark.parametrize("caps", [EPHEMERAL, NO_EPHEMERAL])
def test_a_personal_chat_gets_every_reply_in_place(caps: Capabilities) -> None:
    for reply in (CARD, NEWS):
        delivery = route_reply(reply, Conversation(ConversationKind.PERSONAL), caps)
        assert (delivery.route, delivery.message, delivery.pointer) == (Route.HERE, reply, None)


@pytest.mark.parametrize("kind", [ConversationKind.GROUP, ConversationKind.CHANNEL])
def test_a_private_reply_in_a_shared_conversation_is_shown_to_the_asker_alone(
    kind: ConversationKind,
) -> None:
    delivery = route_reply(CARD, Conversation(kind), EPHEMERAL)
    assert (delivery.route, delivery.message, delivery.pointer) == (
        Route.ONLY_TO_ASKER,
        CARD,
        None,
    )


@pytest.mark.parametrize("kind", [ConversationKind.GROUP, ConversationKind.CHANNEL])
def test_without_ephemeral_messages_a_private_reply_goes_to_the_personal_chat(
    kind: ConversationKind,
) -> None:
    delivery = route_reply(CARD, Conversation(kind), NO_EPHEMERAL)
    assert delivery.route is Route.PERSONAL_CHAT
    assert delivery.message == CARD
    assert delivery.pointer is not None
    assert delivery.pointer.text == SENT_PRIVATELY
    assert not delivery.pointer.private  # the pointer is what the conversation may read
    assert not delivery.pointer.sections and not delivery.pointer.all_actions()


def test_a_shared_channel_is_shared_even_when_called_personal() -> None:
    assert route_reply(CARD, Conversation(shared=True), NO_EPHEMERAL).route is Route.PERSONAL_CHAT


def test_a_public_reply_stays_where_it_was_asked() -> None:
    delivery = route_reply(NEWS, Conversation(ConversationKind.CHANNEL), NO_EPHEMERAL)
    assert delivery.route is Route.HERE


def test_the_fallback_line_carries_no_reply() -> None:
    assert "DM" not in REFUSAL and "chat" in COULD_NOT_DM


# --- outsiders -------------------------------------------------------------------------------------


async def _people(store: SqlStore) -> list[tuple[str, Role]]:
    rows = []
    for ws in await store.workspaces():
        async with store.unit(ws.id) as uow:
            rows += [(p.platform_user_id, p.role) for p in await uow.people.list()]
    return rows


@pytest.mark.parametrize("outsider", [GUEST, EXTERNAL], ids=["guest", "external"])
async def test_an_outsider_is_refused_and_nothing_of_theirs_is_stored(
    app: Touchbase, store: SqlStore, outsider: Identity
) -> None:
    for reply in (
        await app.command(outsider, CommandIn("clients")),
        await app.command(outsider, CommandIn("touch", "Acme lunch", source_id="s1")),
        await app.action(outsider, ActionIn("undo_touch", "1")),
        await app.submit(outsider, FormIn("touch", {"client": "Acme", "note": "lunch"})),
    ):
        assert isinstance(reply, Message)
        assert reply.text == REFUSAL and reply.private
        assert not reply.sections and not reply.all_actions()
    assert await store.workspaces() == []  # not even the host's workspace was made for them
    assert await _people(store) == []

    # The first member to speak is the admin, not the outsider who spoke first.
    await app.command(MEMBER, CommandIn("clients"))
    assert await _people(store) == [("U0JANE", Role.ADMIN)]


async def test_an_outsider_gets_nothing_of_the_firms_clients(app: Touchbase) -> None:
    await app.command(MEMBER, CommandIn("client", "add Acme Corp"))
    reply = await app.command(EXTERNAL, CommandIn("client", "Acme Corp"))
    assert isinstance(reply, Message)
    assert "Acme" not in repr(reply)


# --- /touchbase channel ----------------------------------------------------------------------------

CHANNEL_ADDRESS = {"channel": "C0REL", "team": "T0HOST"}


@pytest.mark.parametrize(
    ("where", "says"),
    [
        (Conversation(ConversationKind.PERSONAL), "not a direct or group message"),
        (Conversation(ConversationKind.GROUP), "not a direct or group message"),
        (Conversation(ConversationKind.CHANNEL, shared=True), "shared with another organisation"),
    ],
    ids=["dm", "group-dm", "shared-channel"],
)
async def test_the_relationships_channel_is_a_channel_of_the_firm_only(
    app: Touchbase, store: SqlStore, where: Conversation, says: str
) -> None:
    reply = await app.command(
        MEMBER,
        CommandIn("touchbase", "channel", channel=CHANNEL_ADDRESS, conversation=where),
    )
    assert isinstance(reply, Message) and says in reply.text
    [ws] = await store.workspaces()
    assert ws.channel is None


async def test_a_firm_channel_can_be_the_relationships_channel(
    app: Touchbase, store: SqlStore
) -> None:
    reply = await app.command(
        MEMBER,
        CommandIn(
            "touchbase",
            "channel",
            channel=CHANNEL_ADDRESS,
            conversation=Conversation(ConversationKind.CHANNEL),
        ),
    )
    assert isinstance(reply, Message) and "now the relationships channel" in reply.text
    [ws] = await store.workspaces()
    assert ws.channel == CHANNEL_ADDRESS


# --- owners named with @ ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (MentionStatus.BOT, "is a bot"),
        (MentionStatus.DEACTIVATED, "deactivated"),
        (MentionStatus.OUTSIDER, "isn't part of the firm"),
        (MentionStatus.UNKNOWN, "I don't know Bob yet"),
    ],
)
async def test_only_a_member_can_be_made_an_owner(
    app: Touchbase, store: SqlStore, status: MentionStatus, says: str
) -> None:
    await app.command(MEMBER, CommandIn("client", "add Acme Corp"))
    reply = await app.command(
        MEMBER,
        CommandIn(
            "owner",
            "Acme <@U0BOB>",
            mentions={"U0BOB": "Bob"},
            mentioned={"U0BOB": Mentioned("U0BOB", "Bob", status)},
        ),
    )
    assert isinstance(reply, Message) and says in reply.text
    assert await _people(store) == [("U0JANE", Role.ADMIN)]  # no phantom Bob


async def test_a_member_named_with_at_becomes_the_owner_with_the_platforms_email(
    app: Touchbase, store: SqlStore
) -> None:
    await app.command(MEMBER, CommandIn("client", "add Acme Corp"))
    reply = await app.command(
        MEMBER,
        CommandIn(
            "owner",
            "Acme <@U0BOB>",
            mentions={"U0BOB": "bob"},
            mentioned={"U0BOB": Mentioned("U0BOB", "Bob Brown", email="bob@firm.example")},
        ),
    )
    assert isinstance(reply, Message) and "Bob Brown" in reply.text
    [ws] = await store.workspaces()
    async with store.unit(ws.id) as uow:
        bob = await uow.people.by_platform_id("U0BOB")
    assert bob is not None and bob.email == "bob@firm.example"
