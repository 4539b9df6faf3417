"""Teams on botbuilder: the SDK's turn → :class:`adapters.teams.turn.TeamsTurns`. Translation only.

What an activity means (commands, mentions, card submits, who may act, where a reply may go) is
decided from the activity's JSON by :mod:`adapters.teams.activity` and :mod:`adapters.teams.turn`,
the same code the Agents SDK adapter runs. Here: the activity as JSON, replies as activities
whose Adaptive Cards use Universal Actions (:mod:`adapters.teams.universal`), the roster through
``TeamsInfo.get_member``, and the invoke response.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationReference,
)

from adapters.teams import activity as read
from adapters.teams import cards, limits
from adapters.teams.turn import CardSender, Json, TeamsTurns
from adapters.teams.universal import universal
from bot.app import Touchbase
from bot.directory import Directory
from bot.messages import Message
from bot.ports import Address

log = logging.getLogger(__name__)

PERSONAL = read.PERSONAL
CHANNEL = read.CHANNEL
GROUP_CHAT = read.GROUP_CHAT


RAW_ACTIVITY = "touchbase.raw_activity"  # turn_state key: the activity's JSON as received


def as_json(turn_context: TurnContext) -> dict[str, Any]:
    """The activity as the JSON Teams sent. botbuilder's models drop what they do not declare
    (``from.tenantId``, a mention's ``mentioned``), so the route keeps the body it received in
    the turn state; ``serialize()`` is only the fallback."""
    raw = turn_context.turn_state.get(RAW_ACTIVITY)
    if isinstance(raw, dict):
        return raw
    data: dict[str, Any] = turn_context.activity.serialize()
    return data


def reference_from_address(address: Address) -> ConversationReference:
    reference = ConversationReference().deserialize(read.reference_json(address))
    if reference.conversation is None or not reference.service_url:
        raise ValueError("not a Teams address: incomplete conversation reference")
    return reference


# --- replies -------------------------------------------------------------------------------------


def reply_activity(card: cards.Card, summary: str, user_id: str | None = None) -> Activity:
    """A message with the card (Universal Actions; refreshed for ``user_id``, its reader)."""
    return Activity(
        type=ActivityTypes.message,
        summary=cards.plain(summary)[:200] or None,
        attachments=[Attachment(content_type=cards.CONTENT_TYPE, content=universal(card, user_id))],
    )


def message_activity(message: Message) -> Activity:
    return reply_activity(cards.message_card(message), message.text)


class _Turn:
    """:class:`adapters.teams.turn.TurnIO` over a botbuilder turn."""

    def __init__(self, turn_context: TurnContext) -> None:
        self.turn_context = turn_context
        self.unreachable = False  # the connector did not answer once: do not wait on it again

    async def reply(self, card: cards.Card, summary: str) -> None:
        if self.unreachable:
            raise ConnectionError("the Teams connector did not answer")
        sender = self.turn_context.activity.from_property
        await self.turn_context.send_activity(
            reply_activity(card, summary, sender.id if sender is not None else None)
        )

    async def member(self, member_id: str) -> Json | None:
        try:
            member = await TeamsInfo.get_member(self.turn_context, member_id)
        except Exception as error:  # not a member here (404), or the connector did not answer
            log.info("no roster entry for a Teams member: %s", type(error).__name__)
            self.unreachable = limits.unreachable(error)
            return None
        found: dict[str, Any] = member.serialize() if member is not None else {}
        return found or None


class TouchbaseTeamsBot(ActivityHandler):  # type: ignore[misc]
    """One instance per server; holds no per-conversation state."""

    def __init__(
        self,
        app: Touchbase,
        directory: Directory,
        sender: CardSender,
        *,
        development: bool = False,
    ) -> None:
        super().__init__()
        self.turns = TeamsTurns(app, directory, sender, development=development)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self.turns.message(as_json(turn_context), _Turn(turn_context))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        status, body = await self.turns.invoke(as_json(turn_context), _Turn(turn_context))
        return InvokeResponse(status=status, body=body)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        await self.turns.members_added(as_json(turn_context), _Turn(turn_context))

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self.turns.installation_added(as_json(turn_context), _Turn(turn_context))
