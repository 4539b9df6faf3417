"""Proactive messages to Teams through the Agents SDK: the Messenger port
(:class:`adapters.teams.proactive.ProactiveMessenger`, shared with botbuilder) over this SDK's
``continue_conversation``.
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity, ConversationReference
from microsoft_agents.hosting.core import ChannelServiceAdapter, ClaimsIdentity

from adapters.agents.bot import activity_of
from adapters.teams.limits import ConversationLimiter, delivery_error
from adapters.teams.proactive import Post, ProactiveMessenger

__all__ = ["AgentsMessenger", "ConversationLimiter", "delivery_error"]


class AgentsMessenger(ProactiveMessenger[ConversationReference]):
    """Sends neutral messages to stored Teams conversation references."""

    adapter: ChannelServiceAdapter

    def reference_of(self, data: dict[str, Any]) -> ConversationReference:
        return ConversationReference.model_validate(data)

    def activity_of(self, data: dict[str, Any]) -> Activity:
        return activity_of(data)

    async def resume(self, reference: ConversationReference, post: Post) -> None:
        continuation = reference.get_continuation_activity()
        if self.bot_app_id:
            await self.adapter.continue_conversation(self.bot_app_id, continuation, post)
        else:  # development: no credentials, nothing to sign with
            await self.adapter.continue_conversation_with_claims(
                ClaimsIdentity(), continuation, post, audience="anonymous"
            )
