"""Who may use Touchbase, and where a reply may be shown. One rule for every platform.

Two questions every adapter asks the core, and the answers it must follow:

**Where does this reply go?** ``route_reply(reply, conversation, capabilities)`` returns a
``Delivery``. The core marks each reply (``Message.private``); the adapter says what kind of
conversation the request came from (``Conversation``: personal, group or channel, and whether
people of another organisation are in it) and what its platform can do (``Capabilities``):

- in a personal chat, or a reply the core made public: ``Route.HERE``, post it where asked;
- a private reply asked for in a group or channel, on a platform that can show a message to one
  person inside a shared conversation (Slack's ephemeral messages): ``Route.ONLY_TO_ASKER``;
- the same where it cannot (Teams): ``Route.PERSONAL_CHAT``: send ``delivery.message`` to the
  person's personal chat (proactively), and post only ``delivery.pointer`` ("I've sent you a
  DM") in the shared conversation. If the personal chat cannot be reached, post
  ``COULD_NOT_DM`` there instead, never the reply.

So nothing marked private, such as note text, is ever posted where others can read it.

**May this person use Touchbase at all?** Adapters decide from what the platform says
(Slack Connect's ``user_team``, ``users.info`` ``is_stranger``, Teams ``from.tenantId`` ...) and
set ``Identity.membership``. ``is_outsider(identity)`` is true for people of another
organisation and for guests; the core's entry points (``Touchbase.command``, ``.action``,
``.submit``) answer them ``refusal()`` before anything is looked up or stored: no workspace,
no person row, so an outsider never becomes a workspace's admin or a client's owner. Adapters
answer outsiders the same way where they do not call the core (type-ahead options: none; the
Home tab: the refusal).

**Who is a mentioned person?** ``Mentioned`` is what the adapter found out about a person named
with @ (``CommandIn.mentioned``): a member of the firm, a bot, a deactivated account, an
outsider, or someone the platform would not tell us about. ``mention_problem`` turns anything
but a member into the answer to give instead of making them an owner.

Example (an adapter):

    delivery = route_reply(reply, Conversation(ConversationKind.CHANNEL), SLACK_LIKE)
    if delivery.route is Route.ONLY_TO_ASKER: post_ephemeral(delivery.message)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.messages import Message, Tone


class ConversationKind(enum.StrEnum):
    PERSONAL = "personal"  # a direct message with the bot: only the person reads it
    GROUP = "group"  # a group DM or group chat: several people read it
    CHANNEL = "channel"  # a channel (or a team's channel thread)


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where a request was made, as far as privacy goes."""

    kind: ConversationKind = ConversationKind.PERSONAL
    # people of another organisation can read it (Slack Connect, a shared Teams channel)
    shared: bool = False

    @property
    def is_shared(self) -> bool:
        """Read by others than the person who asked: a group, a channel, a shared channel."""
        return self.kind is not ConversationKind.PERSONAL or self.shared


PERSONAL = Conversation(ConversationKind.PERSONAL)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform can do with a reply, declared by its adapter."""

    # show a message to one person inside a shared conversation (Slack ephemeral: yes; Teams: no)
    can_reply_privately_in_channel: bool = False


class Route(enum.StrEnum):
    HERE = "here"  # post in the conversation the request came from
    ONLY_TO_ASKER = "only_to_asker"  # in that conversation, visible to the asker alone
    PERSONAL_CHAT = "personal_chat"  # to the asker's personal chat; the conversation gets `pointer`


SENT_PRIVATELY = "I've sent you a DM."
COULD_NOT_DM = (
    "That answer is just for you, but I couldn't reach you in a direct chat. "
    "Open a chat with Touchbase, say hi, and ask again there."
)


@dataclass(frozen=True, slots=True)
class Delivery:
    route: Route
    message: Message  # the reply, for wherever `route` says
    pointer: Message | None = None  # the only thing posted in the conversation (PERSONAL_CHAT)


def pointer(text: str = SENT_PRIVATELY) -> Message:
    """The short public line that replaces a private reply in a shared conversation."""
    return Message(text=text, private=False)


def route_reply(reply: Message, conversation: Conversation, capabilities: Capabilities) -> Delivery:
    """Where a reply may go; see the module's docstring."""
    if not reply.private or not conversation.is_shared:
        return Delivery(Route.HERE, reply)
    if capabilities.can_reply_privately_in_channel:
        return Delivery(Route.ONLY_TO_ASKER, reply)
    return Delivery(Route.PERSONAL_CHAT, reply, pointer())


# --- who may use Touchbase --------------------------------------------------------------------------


class Membership(enum.StrEnum):
    MEMBER = "member"  # a person of the firm that installed Touchbase
    EXTERNAL = "external"  # another organisation: Slack Connect, another Teams tenant
    GUEST = "guest"  # a guest account in the firm's own workspace or tenant
    # The platform could not say who this is (its lookup failed) and Touchbase has not met them
    # before: treated as an outsider until it can, and asked to try again.
    UNVERIFIED = "unverified"


def is_outsider(identity: object) -> bool:
    """True for anyone who is not a member of the firm (an Identity, or anything with
    `membership`)."""
    return getattr(identity, "membership", Membership.MEMBER) is not Membership.MEMBER


REFUSAL = (
    "Sorry, Touchbase is only for people at the firm that installed it, so I can't help you here."
)


UNVERIFIED_REFUSAL = (
    "I couldn't confirm your account with the chat service just now, so I haven't done or "
    "saved anything. Please try again in a minute."
)


def refusal(who: object = None) -> Message:
    """The one short, polite answer an outsider gets: nothing of the firm's, nothing stored.
    Someone the platform would not describe is asked to try again instead."""
    if getattr(who, "membership", None) is Membership.UNVERIFIED:
        return Message(text=UNVERIFIED_REFUSAL, tone=Tone.WARNING, private=True)
    return Message(text=REFUSAL, tone=Tone.WARNING, private=True)


# --- people named with @ ----------------------------------------------------------------------------


class MentionStatus(enum.StrEnum):
    MEMBER = "member"
    BOT = "bot"
    DEACTIVATED = "deactivated"
    OUTSIDER = "outsider"  # another organisation, or a guest
    UNKNOWN = "unknown"  # the platform would not say who this is


@dataclass(frozen=True, slots=True)
class Mentioned:
    """What the platform says about a person named with @ in a request."""

    user_id: str
    name: str = ""
    status: MentionStatus = MentionStatus.MEMBER
    email: str | None = None  # verified by the platform (never typed by someone)
    tz: str | None = None


def mention_problem(who: Mentioned) -> Message | None:
    """Why this person cannot be made an owner (or given anything of the firm's), or None."""
    name = who.name or "them"
    texts = {
        MentionStatus.BOT: f"{name} is a bot: a client's owner must be a person at the firm.",
        MentionStatus.DEACTIVATED: f"{name}'s account is deactivated, so they can't own a client.",
        MentionStatus.OUTSIDER: (
            f"{name} isn't part of the firm (a guest or someone from another organisation), "
            "so they can't own a client."
        ),
        MentionStatus.UNKNOWN: (
            f"I don't know {name} yet: ask them to say hi to Touchbase once, then try again."
        ),
    }
    text = texts.get(who.status)
    if text is None:
        return None
    return Message(text=text, tone=Tone.WARNING)


__all__ = [
    "COULD_NOT_DM",
    "PERSONAL",
    "REFUSAL",
    "SENT_PRIVATELY",
    "Capabilities",
    "Conversation",
    "ConversationKind",
    "Delivery",
    "Membership",
    "MentionStatus",
    "Mentioned",
    "Route",
    "is_outsider",
    "mention_problem",
    "pointer",
    "refusal",
    "route_reply",
]
