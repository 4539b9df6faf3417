"""What arrives from a platform, translated to plain objects by the adapter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain import Platform
from bot.ports import Address
from bot.privacy import Conversation, Membership, Mentioned


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is speaking, and from which workspace (Slack team, Teams tenant, the local console)."""

    platform: Platform
    workspace_key: str
    user_id: str
    display_name: str = ""
    workspace_name: str | None = None
    tz: str | None = None
    email: str | None = None
    locale: str | None = None  # "en-GB", as the platform reports it: decides what 3/11 means
    address: Address | None = None  # how to reach this person directly later, if known
    # when the platform profile above was fetched (stored with the person, so a restart does
    # not fetch it again that day); None when the adapter did not fetch one
    profile_refreshed_at: datetime | None = None
    # a member of the firm, or an outsider (another organisation, a guest): see bot/privacy.py
    membership: Membership = Membership.MEMBER


@dataclass(frozen=True, slots=True)
class CommandIn:
    name: str  # "touch", without the slash
    text: str = ""
    source_id: str | None = None  # the platform's id for this request: makes retries idempotent
    channel: Address | None = None  # where it was typed, for commands that act on a channel
    mentions: Mapping[str, str] = field(default_factory=dict)  # user id -> display name
    # what the platform says about each person mentioned (bot, deactivated, outsider), by user
    # id; a mention missing here was not looked up, and is taken as a member
    mentioned: Mapping[str, Mentioned] = field(default_factory=dict)
    # the kind of conversation it was typed in; None when the adapter does not say
    conversation: Conversation | None = None


@dataclass(frozen=True, slots=True)
class ActionIn:
    action_id: str
    value: str = ""
    source_id: str | None = None
    conversation: Conversation | None = None


@dataclass(frozen=True, slots=True)
class FormIn:
    form_id: str
    values: Mapping[str, str]
    private_value: str = ""
    source_id: str | None = None
    conversation: Conversation | None = None
