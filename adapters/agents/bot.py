"""Teams on the Microsoft 365 Agents SDK: the SDK's turn → :class:`adapters.teams.turn.TeamsTurns`.

Translation only. What an activity means (commands, mentions, card submits, who may act, where
a reply may go) is decided from the activity's JSON by :mod:`adapters.teams.activity` and
:mod:`adapters.teams.turn`, the same code the botbuilder adapter runs. Here: the activity as
JSON, replies as activities whose Adaptive Cards use Universal Actions
(:mod:`adapters.teams.universal`), the roster through the SDK's connector client, and the
invoke response.
"""

from __future__ import annotations

import logging
from typing import Any

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    InvokeResponse,
    TurnContextProtocol,
)
from microsoft_agents.hosting.core import ActivityHandler

from adapters.teams import activity as read
from adapters.teams import cards, limits
from adapters.teams.turn import CardSender, Json, TeamsTurns
from adapters.teams.universal import universal
from bot.app import Touchbase
from bot.directory import Directory
from bot.messages import Message

log = logging.getLogger(__name__)

Context = TurnContextProtocol[Any]
CONNECTOR_CLIENT = "ConnectorClient"  # where the SDK keeps the turn's connector client


def as_json(activity: Activity) -> dict[str, Any]:
    """The activity as the JSON Teams sent (camelCase keys)."""
    data: dict[str, Any] = activity.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


def card_activity(card: cards.Card, summary: str, user_id: str | None = None) -> Activity:
    """A message with the card (Universal Actions; refreshed for ``user_id``, its reader)."""
    activity = Activity(
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=cards.CONTENT_TYPE, content=universal(card, user_id))],
    )
    if cards.plain(summary).strip():
        activity.summary = cards.plain(summary)[:200]
    return activity


def message_activity(message: Message) -> Activity:
    return card_activity(cards.message_card(message), message.text)


class _Turn:
    """:class:`adapters.teams.turn.TurnIO` over an Agents SDK turn."""

    def __init__(self, turn_context: Context) -> None:
        self.turn_context = turn_context
        self.unreachable = False  # the connector did not answer once: do not wait on it again

    async def reply(self, card: cards.Card, summary: str) -> None:
        if self.unreachable:
            raise ConnectionError("the Teams connector did not answer")
        sender = self.turn_context.activity.from_property
        await self.turn_context.send_activity(
            card_activity(card, summary, sender.id if sender is not None else None)
        )

    async def member(self, member_id: str) -> Json | None:
        roster = read.roster_of(as_json(self.turn_context.activity))
        client = self.turn_context.turn_state.get(CONNECTOR_CLIENT)
        if roster is None or client is None:
            return None
        try:
            member = await client.conversations.get_conversation_member(roster, member_id)
        except Exception as error:  # not a member here (404), or the connector did not answer
            log.info("no roster entry for a Teams member: %s", type(error).__name__)
            self.unreachable = limits.unreachable(error)
            return None
        if not isinstance(member, ChannelAccount):
            return None
        found: dict[str, Any] = member.model_dump(mode="json", by_alias=True, exclude_none=True)
        return found or None


class TouchbaseAgent(ActivityHandler):
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

    async def on_message_activity(self, turn_context: Context) -> None:
        await self.turns.message(as_json(turn_context.activity), _Turn(turn_context))

    async def on_invoke_activity(self, turn_context: Context) -> InvokeResponse:
        status, body = await self.turns.invoke(as_json(turn_context.activity), _Turn(turn_context))
        return InvokeResponse(status=status, body=body)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: Context
    ) -> None:
        await self.turns.members_added(as_json(turn_context.activity), _Turn(turn_context))

    async def on_installation_update_add(self, turn_context: Context) -> None:
        await self.turns.installation_added(as_json(turn_context.activity), _Turn(turn_context))
