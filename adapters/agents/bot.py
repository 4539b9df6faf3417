"""The Teams bot on the Microsoft 365 Agents SDK: activities → core calls → Adaptive Cards.

Translation only. What an activity means is read by :mod:`adapters.agents.activity` from the
activity's JSON (the same rules as the botbuilder adapter); cards come from
:mod:`adapters.teams.cards` with Universal Actions added (:mod:`adapters.agents.universal`).

* ``message`` with text: a command; with a ``value``: an ``Action.Submit`` (older clients).
* ``invoke`` ``adaptiveCard/action``: an ``Action.Execute``. A form shown again with its errors
  replaces the card in place; any other reply is sent as a new message, and the invoke is
  answered with a short note, so the card that was pressed stays as it was.
* ``conversationUpdate`` (the bot added to a personal chat) welcomes the person and remembers
  the chat; ``installationUpdate`` (add) remembers it quietly. The morning message then
  survives a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    Attachment,
    ChannelAccount,
    TurnContextProtocol,
)
from microsoft_agents.hosting.core import ActivityHandler

from adapters.agents import activity as read
from adapters.agents.universal import error_response, execute_response, universal
from adapters.teams import cards
from bot.app import Reply, Touchbase
from bot.directory import Directory
from bot.inbound import CommandIn, Identity
from bot.messages import Form, FormErrors, Message

log = logging.getLogger(__name__)

Context = TurnContextProtocol[Any]


def as_json(activity: Activity) -> dict[str, Any]:
    """The activity as the JSON Teams sent (camelCase keys)."""
    data: dict[str, Any] = activity.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


def card_activity(card: cards.Card, summary: str) -> Activity:
    activity = Activity(
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=cards.CONTENT_TYPE, content=universal(card))],
    )
    if cards.plain(summary).strip():
        activity.summary = cards.plain(summary)[:200]
    return activity


def message_activity(message: Message) -> Activity:
    return card_activity(cards.message_card(message), message.text)


class TouchbaseAgent(ActivityHandler):
    """One instance per server; holds no per-conversation state."""

    def __init__(self, app: Touchbase, directory: Directory, *, development: bool = False) -> None:
        super().__init__()
        self.app = app
        self.directory = directory
        self.development = development

    def _who(self, turn_context: Context) -> tuple[dict[str, Any], Identity | None]:
        activity = as_json(turn_context.activity)
        return activity, read.identity_of(activity, development=self.development)

    # ---- messages and Action.Submit

    async def on_message_activity(self, turn_context: Context) -> None:
        activity, who = self._who(turn_context)
        if who is None:
            log.warning("ignored a Teams message without a tenant or sender")
            return
        value = activity.get("value")
        if isinstance(value, Mapping) and value:
            await self._submitted(turn_context, who, value, read.source_id(activity))
            return
        reply = await self.app.command(who, read.command_of(activity))
        await self._reply(turn_context, reply)

    async def _submitted(
        self,
        turn_context: Context,
        who: Identity,
        data: Mapping[str, Any],
        source: str | None,
    ) -> None:
        form = read.form_of(data, source)
        if form is not None:
            submitted, values = form
            reply = await self.app.submit(who, submitted)
            shown = cards.form_from_description(
                submitted.form_id, submitted.private_value, data.get("form")
            )
            await self._reply(turn_context, reply, form=shown, values=values)
            return
        action = read.action_of(data, source)
        if action is not None:
            await self._reply(turn_context, await self.app.action(who, action))
            return
        log.info("ignored a Teams card submit without action_id or form_id")

    async def _reply(
        self,
        turn_context: Context,
        reply: Reply,
        *,
        form: Form | None = None,
        values: Mapping[str, str] | None = None,
    ) -> None:
        card, summary = self._card(reply, form=form, values=values)
        await turn_context.send_activity(card_activity(card, summary))

    @staticmethod
    def _card(
        reply: Reply, *, form: Form | None = None, values: Mapping[str, str] | None = None
    ) -> tuple[cards.Card, str]:
        if isinstance(reply, Message):
            return cards.message_card(reply), reply.text
        if isinstance(reply, Form):
            return cards.form_card(reply), reply.title
        if isinstance(reply, FormErrors) and form is not None:
            return cards.form_card(form, errors=reply.errors, values=values), form.title
        # the card was not one of ours, or was tampered with
        problems = "; ".join(reply.errors.values()) or "Please check the form."
        message = Message(text=problems, title="That did not work")
        return cards.message_card(message), message.text

    # ---- Action.Execute (Universal Actions)

    async def on_adaptive_card_invoke(
        self, turn_context: Context, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        activity, who = self._who(turn_context)
        if who is None:
            body = error_response(403, "Forbidden", "Touchbase could not tell who you are.")
            return AdaptiveCardInvokeResponse.model_validate(body)
        data = read.execute_data(activity)
        source = read.source_id(activity)
        submitted = read.form_of(data, source)
        if submitted is not None:
            form_in, values = submitted
            reply = await self.app.submit(who, form_in)
            if isinstance(reply, FormErrors):
                shown = cards.form_from_description(
                    form_in.form_id, form_in.private_value, data.get("form")
                )
                card, _ = self._card(reply, form=shown, values=values)
                return AdaptiveCardInvokeResponse.model_validate(execute_response(universal(card)))
        else:
            action = read.action_of(data, source)
            if action is None:
                body = error_response(
                    HTTPStatus.BAD_REQUEST, "BadRequest", "That button is not one of ours."
                )
                return AdaptiveCardInvokeResponse.model_validate(body)
            reply = await self.app.action(who, action)
        await self._reply(turn_context, reply)
        return AdaptiveCardInvokeResponse.model_validate(
            {
                "statusCode": 200,
                "type": "application/vnd.microsoft.activity.message",
                "value": "Done.",
            }
        )

    # ---- installation: remember the personal chat

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: Context
    ) -> None:
        activity, who = self._who(turn_context)
        bot_id = (activity.get("recipient") or {}).get("id")
        if not any(m.id == bot_id for m in members_added or ()):
            return  # someone joined a team the bot is in: nothing to do
        if read.conversation_type(activity) != read.PERSONAL or who is None:
            return
        # The help reply is the welcome; running it through the core stores the address.
        reply = await self.app.command(who, CommandIn("touchbase", "help"))
        await self._reply(turn_context, reply)

    async def on_installation_update_add(self, turn_context: Context) -> None:
        activity, who = self._who(turn_context)
        if read.conversation_type(activity) != read.PERSONAL:
            return
        if who is not None:
            await self.directory.remember(who)  # quietly: no reply
