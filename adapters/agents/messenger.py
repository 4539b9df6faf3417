"""Proactive messages to Teams through the Agents SDK: the Messenger port over
``continue_conversation``.

An address is what either Teams adapter stored: ``{"platform": "teams", "kind": ..., "reference":
<conversation reference JSON>}``; botbuilder and the Agents SDK write the same JSON, so the
morning message reaches people who last spoke to Touchbase on the other SDK. The rate limits
and retry rules are the botbuilder adapter's (:mod:`adapters.teams.limits`).
"""

from __future__ import annotations

import logging
from typing import Any

from microsoft_agents.activity import ConversationReference
from microsoft_agents.hosting.core import ChannelServiceAdapter, ClaimsIdentity, TurnContext

from adapters.agents.bot import card_activity
from adapters.teams import cards
from adapters.teams.activity import reference_json
from adapters.teams.limits import ConversationLimiter, delivery_error_for
from bot.messages import Message
from bot.ports import Address, DeliveryError

log = logging.getLogger(__name__)


class AgentsMessenger:
    """Sends neutral messages to stored Teams conversation references."""

    def __init__(
        self,
        adapter: ChannelServiceAdapter,
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
            reference = ConversationReference.model_validate(reference_json(address))
        except (ValueError, TypeError) as error:
            raise DeliveryError(
                f"not a Teams address ({type(error).__name__})", permanent=True
            ) from None
        await self.limiter.acquire(str(reference.conversation.id))
        reader = reference.user.id if reference.user is not None else None

        failed: list[Exception] = []

        async def post(turn_context: TurnContext) -> None:
            try:
                await turn_context.send_activity(card_activity(card, summary, reader))
            except Exception as error:
                failed.append(error)

        continuation = reference.get_continuation_activity()
        try:
            if self.bot_app_id:
                await self.adapter.continue_conversation(self.bot_app_id, continuation, post)
            else:  # development: no credentials, nothing to sign with
                await self.adapter.continue_conversation_with_claims(
                    ClaimsIdentity(), continuation, post, audience="anonymous"
                )
        except Exception as error:
            failed.append(error)
        if failed:
            raise delivery_error(failed[0]) from None


def delivery_error(error: Exception) -> DeliveryError:
    """A connector failure as the port's DeliveryError (no message text, no tokens)."""
    status, headers = _status_of(error)
    return delivery_error_for(status, headers, type(error).__name__)


def _status_of(error: Exception) -> tuple[int | None, Any]:
    """The HTTP status (and headers) behind the SDK's exception, when it reached the connector.

    The SDK's connector client raises aiohttp's ``ClientResponseError`` (``status``,
    ``headers``) for a non-2xx answer."""
    status = getattr(error, "status", None)
    if isinstance(status, int):
        return status, getattr(error, "headers", None) or {}
    response = getattr(error, "response", None)
    status = getattr(response, "status", None) or getattr(response, "status_code", None)
    if isinstance(status, int):
        return status, getattr(response, "headers", None) or {}
    return None, {}
