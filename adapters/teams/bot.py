"""Teams on botbuilder: the SDK's turn → :class:`adapters.teams.turn.TeamsTurns`. Translation only.

What an activity means (commands, mentions, card submits, who may act, where a reply may go) is
decided from the activity's JSON by :mod:`adapters.teams.activity` and :mod:`adapters.teams.turn`,
and which rule each activity goes to and what a reply is by :mod:`adapters.teams.handler`: the
same code the Agents SDK adapter runs. Here: the activity as JSON, replies as botbuilder
activities, the roster through ``TeamsInfo.get_member``, and the invoke response.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity, Attachment, ConversationReference

from adapters.teams import activity as read
from adapters.teams.handler import SdkTurn, TeamsHandler, message_json
from adapters.teams.turn import Json
from bot.messages import Message

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


def activity_of(data: dict[str, Any]) -> Activity:
    """botbuilder's activity for reply JSON (:func:`adapters.teams.handler.reply_json`). Built
    field by field: msrest's deserializer would copy each card and refuse what is not a plain
    dict, list or scalar."""
    return Activity(
        type=data["type"],
        summary=data.get("summary"),
        attachments=[
            Attachment(content_type=item["contentType"], content=item["content"])
            for item in data.get("attachments", ())
        ],
    )


def reference_of(data: dict[str, Any]) -> ConversationReference:
    """botbuilder's conversation reference for stored reference JSON."""
    reference = ConversationReference().deserialize(data)
    if reference.conversation is None or not reference.service_url:
        raise ValueError("not a Teams address: incomplete conversation reference")
    return reference


def message_activity(message: Message) -> Activity:
    return activity_of(message_json(message))


class _Turn(SdkTurn):
    """:class:`adapters.teams.handler.SdkTurn` over a botbuilder turn."""

    turn_context: TurnContext

    def activity_json(self) -> Json:
        return as_json(self.turn_context)

    def activity_of(self, data: dict[str, Any]) -> Activity:
        return activity_of(data)

    async def roster_entry(self, member_id: str) -> Json | None:
        member = await TeamsInfo.get_member(self.turn_context, member_id)
        found: dict[str, Any] = member.serialize() if member is not None else {}
        return found


class TouchbaseTeamsBot(TeamsHandler, ActivityHandler):  # type: ignore[misc]
    """botbuilder's activity handler for :class:`adapters.teams.handler.TeamsHandler`."""

    def turn_io(self, turn_context: TurnContext) -> _Turn:
        return _Turn(turn_context)

    def invoke_response(self, status: int, body: dict[str, Any]) -> InvokeResponse:
        return InvokeResponse(status=status, body=body)
