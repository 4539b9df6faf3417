"""Teams activities, as the JSON Teams sends, → core objects. No SDK here: plain dicts in,
frozen core objects out, so the rules are the same whichever SDK received the activity
(botbuilder's ``Activity.serialize()`` and the Agents SDK's ``model_dump(by_alias=True)`` give
the same JSON).

* A message with text is a command: ``touch Acme lunch with CFO``, with or without a leading
  slash, typed in the personal chat or with an @mention of the bot in a channel or group chat.
  The bot's own mention is removed; mentions of people become the neutral ``<@aadObjectId>``
  and fill ``CommandIn.mentions``.
* A message or an ``adaptiveCard/action`` invoke with a ``value`` (``data``) is a card submit:
  ``{"action_id", "value"}`` from a button, ``{"form_id", "private_value", ...inputs}`` from a
  form.

Who: platform TEAMS, workspace = the tenant id, user = ``from.aadObjectId`` (``from.id`` when
absent), time zone from ``localTimezone``. Someone whose tenant (``from.tenantId``, or their
roster entry's ``tenantId``) is not the conversation's (``conversation.tenantId`` /
``channelData.tenant.id``), or whose roster ``userRole`` is ``guest``, is an outsider
(:func:`membership_of`): the core refuses them before anything is stored. Only a personal chat's reference becomes a person's
address; a channel's reaches the core as ``CommandIn.channel``. A conversation reference is
stored as the Bot Framework JSON both Teams adapters read and write, so a firm can switch SDKs
without anyone reinstalling the app.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.teams import cards
from bot.domain import Platform
from bot.inbound import ActionIn, CommandIn, FormIn, Identity
from bot.ports import Address
from bot.privacy import Conversation, ConversationKind, Membership

Json = Mapping[str, Any]

PERSONAL = "personal"
CHANNEL = "channel"
GROUP_CHAT = "groupChat"
EMULATOR_WORKSPACE = "emulator"  # the workspace key for activities without a tenant (development)

_AT_TAG = re.compile(r"</?at>", re.IGNORECASE)
_BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_SPACES = re.compile(r"[ \t\u00a0\u200b]+")
_PERSON_ID = re.compile(r"[A-Za-z0-9:._\-]+")


def _map(value: Any) -> Json:
    return value if isinstance(value, Mapping) else {}


# --- addresses -----------------------------------------------------------------------------------


def tenant_of(activity: Json) -> str | None:
    conversation = _map(activity.get("conversation"))
    if conversation.get("tenantId"):
        return str(conversation["tenantId"])
    tenant = _map(_map(activity.get("channelData")).get("tenant"))
    if tenant.get("id"):
        return str(tenant["id"])
    return None


def conversation_type(activity: Json) -> str:
    conversation = _map(activity.get("conversation"))
    kind = conversation.get("conversationType")
    if kind:
        return str(kind)
    return GROUP_CHAT if conversation.get("isGroup") else PERSONAL


def conversation_of(activity: Json) -> Conversation:
    """The conversation as far as privacy goes: a personal chat, a group chat or a channel,
    and whether another organisation can read it (a shared channel, or a sender of another
    tenant)."""
    kind = conversation_type(activity)
    shape = {PERSONAL: ConversationKind.PERSONAL, CHANNEL: ConversationKind.CHANNEL}.get(
        kind, ConversationKind.GROUP
    )
    channel = _map(_map(activity.get("channelData")).get("channel"))
    shared = str(channel.get("membershipType") or "").lower() == "shared"
    return Conversation(shape, shared=shared or membership_of(activity) is Membership.EXTERNAL)


def membership_of(activity: Json, member: Json | None = None) -> Membership:
    """A member of the conversation's tenant, a guest, or someone of another tenant.

    ``member`` is the sender's roster entry (``TeamsChannelAccount`` JSON) when it was looked
    up: its ``tenantId`` and ``userRole`` are what Teams says about them.
    """
    home = {
        str(t)
        for t in (
            _map(activity.get("conversation")).get("tenantId"),
            _map(_map(activity.get("channelData")).get("tenant")).get("id"),
        )
        if t
    }
    theirs = {
        str(t)
        for t in (_map(activity.get("from")).get("tenantId"), _map(member).get("tenantId"))
        if t
    }
    if len(home) > 1 or (home and theirs and theirs != home):
        return Membership.EXTERNAL
    roles = {
        str(_map(activity.get("from")).get("userRole") or ""),
        str(_map(member).get("userRole") or ""),
    }
    if "guest" in {r.lower() for r in roles}:
        return Membership.GUEST
    return Membership.MEMBER


def reference_of(activity: Json) -> dict[str, Any]:
    """The conversation reference (Bot Framework JSON), for a new message rather than a reply.

    No ``activityId``, and a channel thread's ``;messageid=`` suffix removed, so a proactive
    post starts a new message in the chat or channel instead of answering an old one.
    """
    conversation = dict(_map(activity.get("conversation")))
    if conversation.get("id"):
        conversation["id"] = str(conversation["id"]).split(";messageid=")[0]
    reference: dict[str, Any] = {
        "user": dict(_map(activity.get("from"))),
        "bot": dict(_map(activity.get("recipient"))),
        "conversation": conversation,
        "channelId": activity.get("channelId"),
        "locale": activity.get("locale"),
        "serviceUrl": activity.get("serviceUrl"),
    }
    return {k: v for k, v in reference.items() if v not in (None, {})}


def roster_of(activity: Json) -> str | None:
    """The conversation whose members to ask about someone: the team, for a channel."""
    team = _map(_map(activity.get("channelData")).get("team")).get("id")
    if team:
        return str(team)
    conversation = _map(activity.get("conversation")).get("id")
    return str(conversation).split(";messageid=")[0] if conversation else None


def person_address(activity: Json) -> Address | None:
    """How to reach the sender directly later: only a personal chat's reference qualifies."""
    if conversation_type(activity) != PERSONAL:
        return None
    return {"platform": Platform.TEAMS.value, "kind": PERSONAL, "reference": reference_of(activity)}


def channel_address(activity: Json) -> Address | None:
    """Where a command was typed, when that is a channel or a group chat."""
    kind = conversation_type(activity)
    if kind == PERSONAL:
        return None
    address: Address = {"platform": Platform.TEAMS.value, "kind": kind}
    channel = _map(_map(activity.get("channelData")).get("channel"))
    conversation = _map(activity.get("conversation"))
    if channel.get("name"):
        address["name"] = str(channel["name"])
    elif conversation.get("name"):
        address["name"] = str(conversation["name"])
    address["reference"] = reference_of(activity)
    return address


def reference_json(address: Address) -> dict[str, Any]:
    """The stored reference of an address; ValueError when it cannot be one."""
    raw = address.get("reference")
    if not isinstance(raw, Mapping):
        raise ValueError("not a Teams address: no conversation reference")
    conversation = _map(raw.get("conversation"))
    if not conversation.get("id") or not raw.get("serviceUrl"):
        raise ValueError("not a Teams address: incomplete conversation reference")
    return dict(raw)


# --- who ------------------------------------------------------------------------------------------


def _valid_tz(name: Any) -> str | None:
    if not name or not isinstance(name, str):
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def _valid_locale(locale: object) -> str | None:
    """The activity's locale ("en-GB"), if it looks like one."""
    if not isinstance(locale, str) or not 2 <= len(locale) <= 35:
        return None
    return locale if all(ch.isalnum() or ch in "-_" for ch in locale) else None


def identity_of(
    activity: Json, *, development: bool = False, member: Json | None = None
) -> Identity | None:
    """Who sent the activity, or None when it cannot be tied to a tenant and a user.
    ``member``: the sender's roster entry, when it was looked up (see :func:`membership_of`)."""
    sender = _map(activity.get("from"))
    user = sender.get("aadObjectId") or sender.get("id")
    if not user:
        return None
    tenant = tenant_of(activity)
    if tenant is None:
        if not development:
            return None
        tenant = EMULATOR_WORKSPACE
    return Identity(
        platform=Platform.TEAMS,
        workspace_key=tenant,
        user_id=str(user),
        display_name=str(sender.get("name") or ""),
        tz=_valid_tz(activity.get("localTimezone")),
        locale=_valid_locale(activity.get("locale")),
        address=person_address(activity),
        membership=membership_of(activity, member),
        email=roster_email(member),
    )


def roster_email(member: Json | None) -> str | None:
    """The e-mail the tenant's directory gives for a roster entry (its ``email``, else a UPN
    that is an address): what may link someone to an owner named in an import. Never the
    display name, which anyone can set."""
    if not member:
        return None
    for key in ("email", "userPrincipalName"):
        value = str(member.get(key) or "").strip()
        if "@" in value and " " not in value and len(value) <= 254:
            return value
    return None


def source_id(activity: Json) -> str | None:
    """The activity's id, qualified by its conversation: Teams retries carry the same one."""
    if not activity.get("id"):
        return None
    conversation = _map(activity.get("conversation")).get("id") or ""
    digest = hashlib.sha256(str(conversation).encode()).hexdigest()[:16]
    return f"teams:{digest}:{activity['id']}"[:200]


# --- text → command ------------------------------------------------------------------------------


def _mention_entities(activity: Json) -> list[Json]:
    found: list[Json] = []
    for entity in activity.get("entities") or ():
        entity = _map(entity)
        if str(entity.get("type", "")).lower() == "mention" and isinstance(
            entity.get("mentioned"), Mapping
        ):
            found.append(entity)
    return found


def command_text(activity: Json) -> tuple[str, dict[str, str]]:
    """The typed text without the bot's mention, people's mentions as ``<@id>``; and who.

    Teams sends what a person typed HTML-escaped (``&lt;`` for ``<``), so any tag left in the
    text is formatting (``<p>``, ``<br>``, an ``<at>`` without an entity): it is removed. Only a
    mention entity can produce a ``<@id>``.
    """
    text = str(activity.get("text") or "")
    bot_id = _map(activity.get("recipient")).get("id")
    mentions: dict[str, str] = {}
    placeholders: dict[str, str] = {}
    for entity in _mention_entities(activity):
        mentioned = _map(entity.get("mentioned"))
        shown = str(entity.get("text") or f"<at>{mentioned.get('name', '')}</at>")
        if mentioned.get("id") and mentioned.get("id") == bot_id:
            text = text.replace(shown, " ", 1)
            continue
        person = str(mentioned.get("aadObjectId") or mentioned.get("id") or "")
        if not person or not _PERSON_ID.fullmatch(person) or shown not in text:
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


def command_of(activity: Json) -> CommandIn:
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
        conversation=conversation_of(activity),
    )


def people_mentioned(activity: Json) -> list[Json]:
    """The ``mentioned`` accounts of the people (not the bot) named with @ in the text."""
    bot_id = _map(activity.get("recipient")).get("id")
    people = []
    for entity in _mention_entities(activity):
        mentioned = _map(entity.get("mentioned"))
        if mentioned.get("id") and mentioned.get("id") != bot_id:
            people.append(mentioned)
    return people


def with_mentions_resolved(activity: Json, aad_ids: Mapping[str, str]) -> dict[str, Any]:
    """A copy of the activity whose mention entities carry the ``aadObjectId`` the roster gave
    for their ``29:`` id (``aad_ids``); the text and other entities unchanged."""
    copied = dict(activity)
    entities = []
    for entity in activity.get("entities") or ():
        entity = _map(entity)
        mentioned = _map(entity.get("mentioned"))
        aad = aad_ids.get(str(mentioned.get("id") or ""))
        if str(entity.get("type", "")).lower() == "mention" and aad:
            entity = {**entity, "mentioned": {**mentioned, "aadObjectId": aad}}
        entities.append(entity)
    copied["entities"] = entities
    return copied


# --- card submits --------------------------------------------------------------------------------


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def action_of(
    data: Json, source: str | None, conversation: Conversation | None = None
) -> ActionIn | None:
    if not data.get("action_id"):
        return None
    return ActionIn(str(data["action_id"]), as_text(data.get("value")), source, conversation)


def form_of(
    data: Json, source: str | None, conversation: Conversation | None = None
) -> tuple[FormIn, dict[str, str]] | None:
    """The submitted form and its input values (for showing it again with errors)."""
    if not data.get("form_id"):
        return None
    values = {
        str(k): as_text(v)
        for k, v in data.items()
        if k not in cards.RESERVED_KEYS and not isinstance(v, Mapping | list)
    }
    private = str(data.get("private_value") or "")
    form = FormIn(str(data["form_id"]), values, private, source, conversation)
    return form, values


def execute_data(activity: Json) -> Json:
    """What an ``adaptiveCard/action`` invoke carries: the action's ``data`` and the inputs."""
    action = _map(_map(activity.get("value")).get("action"))
    return _map(action.get("data"))
