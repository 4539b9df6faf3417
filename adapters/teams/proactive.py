"""Proactive messages to Teams, the same on both SDKs and without either: the Messenger port over
an SDK's ``continue_conversation``.

An address is what either Teams adapter stored: ``{"platform": "teams", "kind": ..., "reference":
<conversation reference JSON>}``; botbuilder and the Agents SDK write the same JSON, so the
morning message reaches people who last spoke to Touchbase on the other SDK. Sending resumes
that conversation and posts the card (:func:`adapters.teams.handler.reply_json`, refreshed for
the person the reference names).

Every send first waits its turn in a :class:`adapters.teams.limits.ConversationLimiter` (Teams
throttles each conversation). Failures become :class:`bot.ports.DeliveryError`
(:func:`adapters.teams.limits.delivery_error`): an address that is not a Teams conversation
reference is permanent; so are 403 and 404; 429, 412, 502 and 504 are transient.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

from adapters.teams import cards
from adapters.teams.activity import reference_json
from adapters.teams.handler import reply_json
from adapters.teams.limits import ConversationLimiter, delivery_error
from bot.messages import Message
from bot.ports import Address, DeliveryError


class Reference(Protocol):
    """What both SDKs' ``ConversationReference`` have."""

    @property
    def conversation(self) -> Any: ...

    @property
    def user(self) -> Any: ...


R = TypeVar("R", bound=Reference)
Post = Callable[[Any], Awaitable[None]]  # the callback run in the resumed turn


class ProactiveMessenger(ABC, Generic[R]):
    """Sends neutral messages to stored Teams conversation references."""

    def __init__(
        self,
        adapter: Any,
        bot_app_id: str,
        *,
        limiter: ConversationLimiter | None = None,
    ) -> None:
        self.adapter = adapter
        self.bot_app_id = bot_app_id
        self.limiter = limiter or ConversationLimiter()

    @abstractmethod
    def reference_of(self, data: dict[str, Any]) -> R:
        """The SDK's conversation reference for the stored JSON; ValueError, TypeError or
        AttributeError when it cannot be one."""

    @abstractmethod
    def activity_of(self, data: dict[str, Any]) -> Any:
        """The SDK's activity object for reply JSON."""

    @abstractmethod
    async def resume(self, reference: R, post: Post) -> None:
        """Run ``post`` in the conversation, through the SDK's ``continue_conversation``."""

    async def send(self, address: Address, message: Message) -> None:
        await self.send_card(address, cards.message_card(message), message.text)

    async def send_card(self, address: Address, card: cards.Card, summary: str) -> None:
        try:
            data = reference_json(address)
        except ValueError as error:
            raise DeliveryError(str(error), permanent=True) from None
        try:
            reference = self.reference_of(data)
        except (ValueError, TypeError, AttributeError) as error:
            # the SDK's message may quote what was stored: only its kind is kept
            raise DeliveryError(
                f"not a Teams address ({type(error).__name__})", permanent=True
            ) from None
        await self.limiter.acquire(str(reference.conversation.id))
        reader = reference.user.id if reference.user is not None else None

        failed: list[Exception] = []

        async def post(turn_context: Any) -> None:
            # Caught here, not left to the adapter's on_turn_error, which would swallow it.
            try:
                await turn_context.send_activity(
                    self.activity_of(reply_json(card, summary, reader))
                )
            except Exception as error:
                failed.append(error)

        try:
            await self.resume(reference, post)
        except Exception as error:
            failed.append(error)
        if failed:
            raise delivery_error(failed[0]) from None
