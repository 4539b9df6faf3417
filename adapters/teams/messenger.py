"""Proactive messages to Teams: the Messenger port over ``continue_conversation``.

An address is what the Teams adapter stored: ``{"platform": "teams", "kind": ..., "reference":
<ConversationReference JSON>}``. Sending resumes that conversation and posts the card.

Failures become :class:`bot.ports.DeliveryError`: 429, 412, 502 and 504 are transient (with the
connector's ``Retry-After`` when it gave one; the backoff is the caller's), 403 and 404 are
permanent (the bot was blocked, uninstalled or removed from the conversation).

Teams throttles each conversation (7 messages a second, 8 in 2 s, 60 in 30 s, 1,800 an hour),
so every send first waits its turn in a :class:`ConversationLimiter`. The limiter lives in this
process: several server processes each keep their own.
"""

from __future__ import annotations

import logging

from botbuilder.core import BotAdapter, TurnContext

from adapters.teams import cards
from adapters.teams.bot import reference_from_address, reply_activity
from adapters.teams.limits import (
    PERMANENT,
    TEAMS_LIMITS,
    TRANSIENT,
    ConversationLimiter,
    delivery_error_for,
)
from bot.messages import Message
from bot.ports import Address, DeliveryError

log = logging.getLogger(__name__)


class TeamsMessenger:
    """Sends neutral messages to stored Teams conversation references."""

    def __init__(
        self,
        adapter: BotAdapter,
        bot_app_id: str,
        *,
        limiter: ConversationLimiter | None = None,
    ) -> None:
        self.adapter = adapter
        self.bot_app_id = bot_app_id
        self.limiter = limiter or ConversationLimiter()

    async def send(self, address: Address, message: Message) -> None:
        await self.send_card(address, cards.message_card(message), message.text)

    async def send_card(self, address: Address, card: cards.Card, summary: str) -> None:
        try:
            reference = reference_from_address(address)
        except (ValueError, TypeError, AttributeError) as error:
            raise DeliveryError(str(error), permanent=True) from None
        conversation_id = str(reference.conversation.id)
        reader = reference.user.id if reference.user is not None else None
        await self.limiter.acquire(conversation_id)

        failed: list[Exception] = []

        async def post(turn_context: TurnContext) -> None:
            # Caught here, not left to the adapter's on_turn_error, which would swallow it.
            try:
                await turn_context.send_activity(reply_activity(card, summary, reader))
            except Exception as error:
                failed.append(error)

        try:
            await self.adapter.continue_conversation(reference, post, self.bot_app_id)
        except Exception as error:
            failed.append(error)
        if failed:
            raise delivery_error(failed[0]) from None


def delivery_error(error: Exception) -> DeliveryError:
    """A connector failure as the port's DeliveryError (no message text, no tokens)."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    headers = getattr(response, "headers", None) or {}
    if not isinstance(status, int):
        return delivery_error_for(None, headers, type(error).__name__)
    return delivery_error_for(status, headers, type(error).__name__)


__all__ = [
    "PERMANENT",
    "TEAMS_LIMITS",
    "TRANSIENT",
    "ConversationLimiter",
    "TeamsMessenger",
    "delivery_error",
]
