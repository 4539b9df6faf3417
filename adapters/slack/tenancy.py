"""Which firm a Slack request belongs to, and whether the person speaking is one of its members.

Pure functions over what Slack sends; no network.

**Which workspace.** Our workspace key is the Slack team: `E…:T…` for a team inside an Enterprise
Grid org, else `T…`. The installation a request was delivered for (bolt's authorize result, from
the installation store or `auth.test`) names the host; org-wide installs carry no team there
(`team_id` null in `authorizations`), so the team comes from the payload, the same one a slash
command names, whichever surface it arrived on (`workspace_of`).

**Who may act.** In a Slack Connect channel the sender can belong to another organisation. Events
carry `user_team` (or `user_profile.team`), interactivity `user.team_id`; `users.info` answers the
user's own `team_id`, `enterprise_user` and `is_stranger`; guests are `is_restricted` /
`is_ultra_restricted`. Someone whose team is neither the host team nor inside the host's
Enterprise Grid org is external (`membership_from_user`, `claimed_outsider`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.privacy import Conversation, ConversationKind, Membership


def workspace_key(enterprise_id: str | None, team_id: str | None) -> str:
    """Our workspace key for a Slack team: `E…:T…` inside an Enterprise Grid org, else `T…`."""
    if enterprise_id and team_id:
        return f"{enterprise_id}:{team_id}"
    return team_id or enterprise_id or ""


def split_workspace_key(key: str) -> tuple[str | None, str | None]:
    enterprise_id, sep, team_id = key.partition(":")
    if sep:
        return enterprise_id or None, team_id or None
    return (None, key) if key.startswith("T") else (key or None, None)


@dataclass(frozen=True, slots=True)
class Host:
    """The firm that installed Touchbase, as the installation a request came for names it."""

    enterprise_id: str | None
    team_id: str | None

    def includes(self, team: str | None, enterprise: str | None = None) -> bool:
        """Whether a team (or an Enterprise Grid org id) is the host's."""
        if team and team == self.team_id:
            return True
        return bool(self.enterprise_id and self.enterprise_id in (team, enterprise))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def host_of(
    authorized_enterprise: str | None,
    authorized_team: str | None,
    body: Mapping[str, Any],
) -> Host:
    """The host: the payload's `authorizations` (the installation Slack delivered it for),
    else who the token belongs to (bolt's authorize result)."""
    auths = body.get("authorizations")
    first = _dict(auths[0]) if isinstance(auths, list) and auths else {}
    enterprise = _text(first.get("enterprise_id")) or authorized_enterprise
    if first.get("is_enterprise_install") is True:
        return Host(enterprise, None)
    team = _text(first.get("team_id")) or authorized_team
    return Host(enterprise, team)


def team_of(body: Mapping[str, Any], context_team: str | None) -> str | None:
    """The workspace (team) a request was made in, from whichever surface it came."""
    event = _dict(body.get("event"))
    view = _dict(body.get("view"))
    team = body.get("team")
    candidates = (
        _text(view.get("app_installed_team_id")),
        context_team,
        _text(body.get("context_team_id")),
        _text(team) if isinstance(team, str) else _text(_dict(team).get("id")),
        _text(body.get("team_id")),
        _text(view.get("team_id")),
        _text(event.get("team")),
        _text(_dict(body.get("user")).get("team_id")),
    )
    for candidate in candidates:
        if candidate and candidate.startswith("T"):
            return candidate
    return None


def workspace_of(host: Host, body: Mapping[str, Any], context_team: str | None) -> str:
    """One workspace key per team, the same for a slash command, an event, a button or a modal,
    and for org-wide installs (no team in `authorizations`) as for one-workspace installs."""
    team = host.team_id or team_of(body, context_team)
    return workspace_key(host.enterprise_id, team)


def claimed_team(body: Mapping[str, Any]) -> str | None:
    """The sender's own team (or Grid org) as the payload states it, if it does."""
    event = _dict(body.get("event"))
    user = body.get("user")
    for candidate in (
        _text(body.get("team_id")) if body.get("command") else None,  # a slash command
        _text(event.get("user_team")),
        _text(_dict(event.get("user_profile")).get("team")),
        _text(_dict(user).get("team_id")) if isinstance(user, Mapping) else None,
    ):
        if candidate:
            return candidate
    return None


def claimed_outsider(host: Host, body: Mapping[str, Any]) -> bool:
    """True when the payload itself says the sender belongs to another team than the host's.
    Inside an Enterprise Grid org a sibling team may be the same firm: users.info decides."""
    team = claimed_team(body)
    if team is None or host.includes(team):
        return False
    return not host.enterprise_id  # an org install: a sibling team's user is looked up


def membership_from_user(user: Mapping[str, Any], host: Host) -> Membership:
    """What `users.info` says about a person, seen from the host's workspace."""
    if user.get("is_stranger"):
        return Membership.EXTERNAL
    enterprise = _text(_dict(user.get("enterprise_user")).get("enterprise_id"))
    team = _text(user.get("team_id")) or _text(_dict(user.get("profile")).get("team"))
    if team and not host.includes(team, enterprise):
        return Membership.EXTERNAL
    if user.get("is_restricted") or user.get("is_ultra_restricted"):
        return Membership.GUEST
    return Membership.MEMBER


def conversation_of(
    channel_id: str | None,
    *,
    channel_type: str | None = None,
    channel_name: str | None = None,
    shared: bool = False,
) -> Conversation | None:
    """The kind of conversation a request came from, as far as the payload tells; None when it
    does not say (a modal, the Home tab)."""
    if not channel_id and not channel_type:
        return None
    kind = ConversationKind.CHANNEL
    if channel_type in ("im", "directmessage") or channel_name == "directmessage":
        kind = ConversationKind.PERSONAL
    elif channel_type in ("mpim",) or (channel_name or "").startswith("mpdm-"):
        kind = ConversationKind.GROUP
    elif channel_id and channel_id.startswith("D"):
        kind = ConversationKind.PERSONAL
    return Conversation(kind, shared=shared)


def conversation_from_info(channel: Mapping[str, Any]) -> Conversation:
    """The conversation as `conversations.info` describes it."""
    if channel.get("is_im"):
        kind = ConversationKind.PERSONAL
    elif channel.get("is_mpim"):
        kind = ConversationKind.GROUP
    else:
        kind = ConversationKind.CHANNEL
    shared = bool(channel.get("is_ext_shared") or channel.get("is_pending_ext_shared"))
    return Conversation(kind, shared=shared)


__all__ = [
    "Host",
    "claimed_outsider",
    "claimed_team",
    "conversation_from_info",
    "conversation_of",
    "host_of",
    "membership_from_user",
    "split_workspace_key",
    "team_of",
    "workspace_key",
    "workspace_of",
]
