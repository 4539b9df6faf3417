"""What both Teams SDK adapters' activity handlers do, once and without either SDK.

An SDK adapter (botbuilder in :mod:`adapters.teams.bot`, the Microsoft 365 Agents SDK in
:mod:`adapters.agents.bot`) supplies only what needs its SDK: the turn's activity as JSON, a
roster entry from its connector, its activity object made from reply JSON, and its invoke
response. Here:

* **Which rule an activity goes to** (:class:`TeamsHandler`): a message or card submit, an
  invoke, the bot added to a conversation, the app installed, each to its
  :class:`adapters.teams.turn.TeamsTurns` rule.
* **What a reply is** (:func:`reply_json`): a message whose Adaptive Card uses Universal Actions
  (:mod:`adapters.teams.universal`, refreshed for its reader), with a plain summary of at most
  200 characters for notifications, or none when it would be blank.
* **A connector that did not answer is not waited on again** (:class:`SdkTurn`): after a roster
  lookup fails that way, the turn's replies fail at once.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from adapters.teams import cards, limits
from adapters.teams.turn import Json, TeamsTurns
from adapters.teams.universal import universal
from bot.messages import Message

log = logging.getLogger(__name__)

SUMMARY_LENGTH = 200  # characters of the summary Teams shows in a notification


def reply_json(card: cards.Card, summary: str, user_id: str | None = None) -> dict[str, Any]:
    """A message activity with the card (Universal Actions; refreshed for ``user_id``, its
    reader), as Bot Framework JSON."""
    activity: dict[str, Any] = {
        "type": "message",
        "attachments": [{"contentType": cards.CONTENT_TYPE, "content": universal(card, user_id)}],
    }
    text = cards.plain(summary)[:SUMMARY_LENGTH]
    if text.strip():
        activity["summary"] = text
    return activity


def message_json(message: Message) -> dict[str, Any]:
    """A core message as a reply (for everyone: no reader to refresh it for)."""
    return reply_json(cards.message_card(message), message.text)


class SdkTurn(ABC):
    """:class:`adapters.teams.turn.TurnIO` over one SDK's turn context, which in both SDKs has
    ``activity.from_property`` and ``send_activity``."""

    def __init__(self, turn_context: Any) -> None:
        self.turn_context = turn_context
        self.unreachable = False  # the connector did not answer once: do not wait on it again

    @abstractmethod
    def activity_json(self) -> Json:
        """The turn's activity as the JSON Teams sent (camelCase keys)."""

    @abstractmethod
    def activity_of(self, data: dict[str, Any]) -> Any:
        """The SDK's activity object for reply JSON (:func:`reply_json`)."""

    @abstractmethod
    async def roster_entry(self, member_id: str) -> Json | None:
        """The member's roster entry from the SDK's connector (None when there is no way to
        ask); raises what the connector raised."""

    async def reply(self, card: cards.Card, summary: str) -> None:
        if self.unreachable:
            raise ConnectionError("the Teams connector did not answer")
        sender = self.turn_context.activity.from_property
        reader = sender.id if sender is not None else None
        await self.turn_context.send_activity(self.activity_of(reply_json(card, summary, reader)))

    async def member(self, member_id: str) -> Json | None:
        try:
            found = await self.roster_entry(member_id)
        except Exception as error:  # not a member here (404), or the connector did not answer
            log.info("no roster entry for a Teams member: %s", type(error).__name__)
            self.unreachable = limits.unreachable(error)
            return None
        return found or None


class TeamsHandler(ABC):
    """The activity handler methods of both SDKs, each handing the turn to its
    :class:`TeamsTurns` rule. Mixed in before the SDK's ``ActivityHandler``, whose ``on_turn``
    dispatches to them. One instance per server; holds no per-conversation state."""

    def __init__(self, turns: TeamsTurns) -> None:
        super().__init__()
        self.turns = turns

    @abstractmethod
    def turn_io(self, turn_context: Any) -> SdkTurn:
        """The SDK's :class:`SdkTurn` for this turn."""

    @abstractmethod
    def invoke_response(self, status: int, body: dict[str, Any]) -> Any:
        """The SDK's invoke response with this status and body."""

    async def on_message_activity(self, turn_context: Any) -> None:
        io = self.turn_io(turn_context)
        await self.turns.message(io.activity_json(), io)

    async def on_invoke_activity(self, turn_context: Any) -> Any:
        io = self.turn_io(turn_context)
        status, body = await self.turns.invoke(io.activity_json(), io)
        return self.invoke_response(status, body)

    async def on_members_added_activity(self, members_added: Any, turn_context: Any) -> None:
        io = self.turn_io(turn_context)
        await self.turns.members_added(io.activity_json(), io)

    async def on_installation_update_add(self, turn_context: Any) -> None:
        io = self.turn_io(turn_context)
        await self.turns.installation_added(io.activity_json(), io)
