"""Proactive messages to Teams through botbuilder: the Messenger port
(:class:`adapters.teams.proactive.ProactiveMessenger`, shared with the Agents SDK) over
botbuilder's ``continue_conversation``.

Failures become :class:`bot.ports.DeliveryError`: 429, 412, 502 and 504 are transient (with the
connector's ``Retry-After`` when it gave one; the backoff is the caller's), 403 and 404 are
permanent (the bot was blocked, uninstalled or removed from the conversation). Every send first
waits its turn in a :class:`ConversationLimiter` (:mod:`adapters.teams.limits`).
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import BotAdapter
from botbuilder.schema import Activity, ConversationReference

from adapters.teams.bot import activity_of, reference_of
from adapters.teams.limits import (
    PERMANENT,
    TEAMS_LIMITS,
    TRANSIENT,
    ConversationLimiter,
    delivery_error,
)
from adapters.teams.proactive import Post, ProactiveMessenger


class TeamsMessenger(ProactiveMessenger[ConversationReference]):
    """Sends neutral messages to stored Teams conversation references."""

    adapter: BotAdapter

    def reference_of(self, data: dict[str, Any]) -> ConversationReference:
        return reference_of(data)

    def activity_of(self, data: dict[str, Any]) -> Activity:
        return activity_of(data)

    async def resume(self, reference: ConversationReference, post: Post) -> None:
        await self.adapter.continue_conversation(reference, post, self.bot_app_id)


__all__ = [
    "PERMANENT",
    "TEAMS_LIMITS",
    "TRANSIENT",
    "ConversationLimiter",
    "TeamsMessenger",
    "delivery_error",
]
