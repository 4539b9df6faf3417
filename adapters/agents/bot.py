"""Teams on the Microsoft 365 Agents SDK: the SDK's turn → :class:`adapters.teams.turn.TeamsTurns`.

Translation only. What an activity means (commands, mentions, card submits, who may act, where
a reply may go) is decided from the activity's JSON by :mod:`adapters.teams.activity` and
:mod:`adapters.teams.turn`, and which rule each activity goes to and what a reply is by
:mod:`adapters.teams.handler`: the same code the botbuilder adapter runs. Here: the activity as
JSON, replies as the SDK's activities, the roster through the SDK's connector client, and the
invoke response.
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import (
    Activity,
    ChannelAccount,
    InvokeResponse,
    TurnContextProtocol,
)
from microsoft_agents.hosting.core import ActivityHandler

from adapters.teams import activity as read
from adapters.teams.handler import SdkTurn, TeamsHandler, message_json
from adapters.teams.turn import Json
from bot.messages import Message

Context = TurnContextProtocol[Any]
CONNECTOR_CLIENT = "ConnectorClient"  # where the SDK keeps the turn's connector client


def as_json(activity: Activity) -> dict[str, Any]:
    """The activity as the JSON Teams sent (camelCase keys)."""
    data: dict[str, Any] = activity.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


def activity_of(data: dict[str, Any]) -> Activity:
    """The SDK's activity for reply JSON (:func:`adapters.teams.handler.reply_json`)."""
    return Activity.model_validate(data)


def message_activity(message: Message) -> Activity:
    return activity_of(message_json(message))


class _Turn(SdkTurn):
    """:class:`adapters.teams.handler.SdkTurn` over an Agents SDK turn."""

    turn_context: Context

    def activity_json(self) -> Json:
        return as_json(self.turn_context.activity)

    def activity_of(self, data: dict[str, Any]) -> Activity:
        return activity_of(data)

    async def roster_entry(self, member_id: str) -> Json | None:
        roster = read.roster_of(self.activity_json())
        client = self.turn_context.turn_state.get(CONNECTOR_CLIENT)
        if roster is None or client is None:
            return None
        member = await client.conversations.get_conversation_member(roster, member_id)
        if not isinstance(member, ChannelAccount):
            return None
        found: dict[str, Any] = member.model_dump(mode="json", by_alias=True, exclude_none=True)
        return found


class TouchbaseAgent(TeamsHandler, ActivityHandler):
    """The Agents SDK's activity handler for :class:`adapters.teams.handler.TeamsHandler`."""

    def turn_io(self, turn_context: Context) -> _Turn:
        return _Turn(turn_context)

    def invoke_response(self, status: int, body: dict[str, Any]) -> InvokeResponse:
        return InvokeResponse(status=status, body=body)
