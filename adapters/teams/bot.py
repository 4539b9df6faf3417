"""Teams activities → core calls → Adaptive Card replies. Translation only: no business logic.

* A message with text is a command: ``touch Acme lunch with CFO``, with or without a leading
  slash, typed in the personal chat or with an @mention of the bot in a channel or group chat.
  The bot's own mention is removed; mentions of people become the neutral ``<@aadObjectId>``
  and fill ``CommandIn.mentions``.
* A message with a ``value`` is a card submit: ``{"action_id", "value"}`` from a button goes to
  ``Touchbase.action``, ``{"form_id", "private_value", ...inputs}`` to ``Touchbase.submit``. A
  rejected form comes back as the same card, filled in, with the errors.
* ``conversationUpdate`` (the bot added to a personal chat) and ``installationUpdate`` (add)
  remember the personal conversation reference, so the morning DM survives a restart.

Who: platform TEAMS, workspace = the tenant id, user = ``from.aadObjectId`` (``from.id`` when
absent), time zone from ``localTimezone``. Only references to personal chats become a person's
address; a channel's reference reaches the core as ``CommandIn.channel``.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationReference,
)

from adapters.teams import cards
from bot.app import Reply, Touchbase
from bot.directory import Directory
from bot.domain import Platform
from bot.inbound import ActionIn, CommandIn, FormIn, Identity
from bot.messages import Form, FormErrors, Message
from bot.ports import Address

log = logging.getLogger(__name__)

PERSONAL = "personal"
CHANNEL = "channel"
GROUP_CHAT = "groupChat"
EMULATOR_WORKSPACE = "emulator"  # the workspace key for activities without a tenant (development)

_AT_TAG = re.compile(r"</?at>", re.IGNORECASE)
_BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_SPACES = re.compile(r"[ \t\u00a0\u200b]+")


# --- addresses -----------------------------------------------------------------------------------


def tenant_of(activity: Activity) -> str | None:
    conversation = activity.conversation
    if conversation is not None and conversation.tenant_id:
        return str(conversation.tenant_id)
    data = activity.channel_data
    if isinstance(data, Mapping):
        tenant = data.get("tenant")
        if isinstance(tenant, Mapping) and tenant.get("id"):
            return str(tenant["id"])
    return None


def conversation_type(activity: Activity) -> str:
    conversation = activity.conversation
    kind = conversation.conversation_type if conversation is not None else None
    if kind:
        return str(kind)
    return GROUP_CHAT if conversation is not None and conversation.is_group else PERSONAL


def reference_of(activity: Activity) -> dict[str, Any]:
    """The conversation reference as JSON, for a new message rather than a reply.

    No ``activityId``, and a channel thread's ``;messageid=`` suffix removed, so a proactive
    post starts a new message in the chat or channel instead of answering an old one.
    """
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    if reference.conversation is not None and reference.conversation.id:
        reference.conversation.id = str(reference.conversation.id).split(";messageid=")[0]
    serialized: dict[str, Any] = reference.serialize()
    return serialized


def person_address(activity: Activity) -> Address | None:
    """How to reach the sender directly later: only a personal chat's reference qualifies."""
    if conversation_type(activity) != PERSONAL:
        return None
    return {"platform": Platform.TEAMS.value, "kind": PERSONAL, "reference": reference_of(activity)}


def channel_address(activity: Activity) -> Address | None:
    """Where a command was typed, when that is a channel or a group chat."""
    kind = conversation_type(activity)
    if kind == PERSONAL:
        return None
    address: Address = {"platform": Platform.TEAMS.value, "kind": kind}
    data = activity.channel_data if isinstance(activity.channel_data, Mapping) else {}
    channel = data.get("channel")
    if isinstance(channel, Mapping) and channel.get("name"):
        address["name"] = str(channel["name"])
    elif activity.conversation is not None and activity.conversation.name:
        address["name"] = str(activity.conversation.name)
    address["reference"] = reference_of(activity)
    return address


def reference_from_address(address: Address) -> ConversationReference:
    raw = address.get("reference")
    if not isinstance(raw, Mapping):
        raise ValueError("not a Teams address: no conversation reference")
    reference = ConversationReference().deserialize(dict(raw))
    if reference.conversation is None or not reference.service_url:
        raise ValueError("not a Teams address: incomplete conversation reference")
    return reference


# --- who ------------------------------------------------------------------------------------------


def _valid_tz(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def identity_of(activity: Activity, *, development: bool = False) -> Identity | None:
    """Who sent the activity, or None when it cannot be tied to a tenant and a user."""
    sender: ChannelAccount | None = activity.from_property
    if sender is None or not (sender.aad_object_id or sender.id):
        return None
    tenant = tenant_of(activity)
    if tenant is None:
        if not development:
            return None
        tenant = EMULATOR_WORKSPACE
    return Identity(
        platform=Platform.TEAMS,
        workspace_key=tenant,
        user_id=str(sender.aad_object_id or sender.id),
        display_name=str(sender.name or ""),
        tz=_valid_tz(activity.local_timezone),
        address=person_address(activity),
    )


def source_id(activity: Activity) -> str | None:
    """The activity's id, qualified by its conversation: Teams retries carry the same one."""
    if not activity.id:
        return None
    conversation = activity.conversation.id if activity.conversation is not None else ""
    digest = hashlib.sha256(str(conversation).encode()).hexdigest()[:16]
    return f"teams:{digest}:{activity.id}"[:200]


# --- text → command ------------------------------------------------------------------------------


def _mention_entities(activity: Activity) -> list[dict[str, Any]]:
    found = []
    for entity in activity.entities or ():
        if isinstance(entity, Mapping):
            props = dict(entity)
        else:
            props = {"type": entity.type, **(getattr(entity, "additional_properties", None) or {})}
        if str(props.get("type", "")).lower() == "mention" and isinstance(
            props.get("mentioned"), Mapping
        ):
            found.append(props)
    return found


def command_text(activity: Activity) -> tuple[str, dict[str, str]]:
    """The typed text without the bot's mention, people's mentions as ``<@id>``; and who.

    Teams sends what a person typed HTML-escaped (``&lt;`` for ``<``), so any tag left in the
    text is formatting (``<p>``, ``<br>``, an ``<at>`` without an entity): it is removed. Only a
    mention entity can produce a ``<@id>``.
    """
    text = str(activity.text or "")
    bot_id = activity.recipient.id if activity.recipient is not None else None
    mentions: dict[str, str] = {}
    placeholders: dict[str, str] = {}
    for entity in _mention_entities(activity):
        mentioned = entity["mentioned"]
        shown = str(entity.get("text") or f"<at>{mentioned.get('name', '')}</at>")
        if mentioned.get("id") and mentioned.get("id") == bot_id:
            text = text.replace(shown, " ", 1)
            continue
        person = str(mentioned.get("aadObjectId") or mentioned.get("id") or "")
        if not person or not re.fullmatch(r"[A-Za-z0-9:._\-]+", person) or shown not in text:
            continue
        mentions[person] = str(mentioned.get("name") or _AT_TAG.sub("", shown))
        token = f"\x00{len(placeholders)}\x00"
        placeholders[token] = f"<@{person}>"
        text = text.replace(shown, f" {token} ", 1)
    text = _BREAK.sub("\n", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)  # &nbsp; after a mention, &amp; for &, &lt; for <
    text = text.replace("<@", "< @")  # typed text must not look like a neutral mention
    for token, neutral in placeholders.items():
        text = text.replace(token, neutral)
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(line for line in lines if line).strip(), mentions


def command_of(activity: Activity) -> CommandIn:
    text, mentions = command_text(activity)
    name, _, rest = text.lstrip("/").strip().partition(" ")
    if not name:
        name, rest = "help", ""
    if "\n" in name:  # "touch\nAcme ...": the command word ends at the line break
        name, _, more = name.partition("\n")
        rest = f"{more} {rest}".strip()
    return CommandIn(
        name=name.lower(),
        text=rest.strip(),
        source_id=source_id(activity),
        channel=channel_address(activity),
        mentions=mentions,
    )


# --- replies -------------------------------------------------------------------------------------


def reply_activity(card: cards.Card, summary: str) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        summary=cards.plain(summary)[:200] or None,
        attachments=[Attachment(content_type=cards.CONTENT_TYPE, content=card)],
    )


def message_activity(message: Message) -> Activity:
    return reply_activity(cards.message_card(message), message.text)


class TouchbaseTeamsBot(ActivityHandler):  # type: ignore[misc]
    """One instance per server; holds no per-conversation state."""

    def __init__(self, app: Touchbase, directory: Directory, *, development: bool = False) -> None:
        super().__init__()
        self.app = app
        self.directory = directory
        self.development = development

    # ---- messages and card submits

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity: Activity = turn_context.activity
        who = identity_of(activity, development=self.development)
        if who is None:
            log.warning("ignored a Teams message without a tenant or sender")
            return
        value = activity.value
        if isinstance(value, Mapping) and value:
            await self._submitted(turn_context, who, value)
            return
        command = command_of(activity)
        reply = await self.app.command(who, command)
        await self._reply(turn_context, reply)

    async def _submitted(
        self, turn_context: TurnContext, who: Identity, value: Mapping[str, Any]
    ) -> None:
        source = source_id(turn_context.activity)
        if value.get("form_id"):
            form_id = str(value["form_id"])
            private = str(value.get("private_value") or "")
            values = {
                str(k): _as_text(v)
                for k, v in value.items()
                if k not in cards.RESERVED_KEYS and not isinstance(v, Mapping | list)
            }
            reply = await self.app.submit(who, FormIn(form_id, values, private, source))
            form = cards.form_from_description(form_id, private, value.get("form"))
            await self._reply(turn_context, reply, form=form, values=values)
            return
        if value.get("action_id"):
            action = ActionIn(str(value["action_id"]), _as_text(value.get("value")), source)
            await self._reply(turn_context, await self.app.action(who, action))
            return
        log.info("ignored a Teams card submit without action_id or form_id")

    async def _reply(
        self,
        turn_context: TurnContext,
        reply: Reply,
        *,
        form: Form | None = None,
        values: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(reply, Message):
            await turn_context.send_activity(message_activity(reply))
        elif isinstance(reply, Form):
            await turn_context.send_activity(reply_activity(cards.form_card(reply), reply.title))
        elif isinstance(reply, FormErrors):
            if form is None:  # the card was not one of ours, or was tampered with
                problems = "; ".join(reply.errors.values()) or "Please check the form."
                await turn_context.send_activity(
                    message_activity(Message(text=problems, title="That did not work"))
                )
                return
            card = cards.form_card(form, errors=reply.errors, values=values)
            await turn_context.send_activity(reply_activity(card, form.title))

    # ---- installation: remember the personal chat

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        activity: Activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient is not None else None
        if not any(m.id == bot_id for m in members_added or ()):
            return  # someone joined a team the bot is in: nothing to do
        if conversation_type(activity) != PERSONAL:
            return
        who = identity_of(activity, development=self.development)
        if who is None:
            return
        # The help reply is the welcome; running it through the core stores the address.
        reply = await self.app.command(who, CommandIn("touchbase", "help"))
        await self._reply(turn_context, reply)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        activity: Activity = turn_context.activity
        if conversation_type(activity) != PERSONAL:
            return
        who = identity_of(activity, development=self.development)
        if who is not None:
            await self.directory.remember(who)  # quietly: no reply


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
