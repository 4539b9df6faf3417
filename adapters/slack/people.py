"""Who is speaking: users.info at most once per person per day, kept on the person's row.

A person's display name, time zone, email and locale (how they write dates) come from
users.info. The result travels on the
Identity (`profile_refreshed_at`) and the core stores it with the person in the request's own
unit of work, so a restart does not call Slack again that day; it is also kept in a small
in-process cache, so busy people cost no query either.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.tenancy import Host, membership_from_user, split_workspace_key
from bot.clock import Clock
from bot.directory import Directory
from bot.domain import Person, Platform
from bot.inbound import Identity
from bot.privacy import Membership

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(days=1)
# users.info's answers for a user it will not describe, and how long one is believed.
UNKNOWN_USER = frozenset({"user_not_found", "user_not_visible"})
ASK_AGAIN = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Profile:
    display_name: str
    tz: str | None
    email: str | None
    fetched_at: datetime
    locale: str | None = None  # "en-GB": users.info gives it when asked (include_locale)
    # seen from the workspace asking: a member, or someone of another organisation, or a guest
    membership: Membership = Membership.MEMBER
    is_bot: bool = False
    deleted: bool = False  # a deactivated account


def host_of_key(workspace_key: str) -> Host:
    enterprise_id, team_id = split_workspace_key(workspace_key)
    return Host(enterprise_id, team_id)


def profile_from_user(user: dict[str, Any], at: datetime, host: Host | None = None) -> Profile:
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or user.get("id", "")
    )
    return Profile(
        display_name=str(name),
        tz=user.get("tz") or None,
        email=profile.get("email") or None,
        fetched_at=at,
        locale=user.get("locale") or None,
        membership=membership_from_user(user, host) if host is not None else Membership.MEMBER,
        is_bot=bool(user.get("is_bot") or user.get("is_app_user")),
        deleted=bool(user.get("deleted")),
    )


class SlackPeople:
    """Builds the core's Identity for a Slack user, refreshing the profile once a day."""

    def __init__(self, directory: Directory, clock: Clock, *, cache_size: int = 2048) -> None:
        self._directory = directory
        self._clock = clock
        self._cache: OrderedDict[tuple[str, str], Profile] = OrderedDict()
        self._cache_size = cache_size
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def _cached(self, key: tuple[str, str]) -> Profile | None:
        profile = self._cache.get(key)
        if profile is None or self._clock.now() - profile.fetched_at >= REFRESH_AFTER:
            return None
        self._cache.move_to_end(key)
        return profile

    def _remember(self, key: tuple[str, str], profile: Profile) -> None:
        self._cache[key] = profile
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def identity(
        self,
        client: AsyncWebClient,
        workspace_key: str,
        user_id: str,
        *,
        workspace_name: str | None = None,
        fallback_name: str = "",
    ) -> Identity:
        profile = await self.profile(client, workspace_key, user_id, workspace_name, fallback_name)
        return _identity(workspace_key, user_id, profile, workspace_name, fallback_name)

    async def as_last_seen(
        self, workspace_key: str, user_id: str, *, fallback_name: str = ""
    ) -> Identity:
        """Who this is without asking Slack (users.info is slow to answer): a person met before
        as they were last seen; anyone else unverified (they could be a guest) until it does."""
        profile = self._cache.get((workspace_key, user_id))
        if profile is None:
            _workspace, person = await self._directory.known_person(
                Platform.SLACK, workspace_key, user_id, None
            )
            if person is not None and person.profile_refreshed_at is not None:
                profile = _stored(person)
        return _identity(
            workspace_key,
            user_id,
            profile or self._unverified(user_id, fallback_name),
            None,
            fallback_name,
        )

    def _unverified(
        self, user_id: str, fallback_name: str, *, believed_for: timedelta = timedelta(0)
    ) -> Profile:
        """Someone Slack has not described: fresh (remembered) for `believed_for`, no longer."""
        return Profile(
            fallback_name or user_id,
            None,
            None,
            self._clock.now() - REFRESH_AFTER + believed_for,
            membership=Membership.UNVERIFIED,
        )

    async def profile(
        self,
        client: AsyncWebClient,
        workspace_key: str,
        user_id: str,
        workspace_name: str | None = None,
        fallback_name: str = "",
    ) -> Profile | None:
        key = (workspace_key, user_id)
        cached = self._cached(key)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:  # two requests at once make one users.info call
                return self._cached(key) or await self._load(
                    client, key, workspace_name, fallback_name
                )
        finally:
            if not lock.locked():
                self._locks.pop(key, None)

    async def _load(
        self,
        client: AsyncWebClient,
        key: tuple[str, str],
        workspace_name: str | None,
        fallback_name: str,
    ) -> Profile | None:
        workspace_key, user_id = key
        now = self._clock.now()
        workspace, person = await self._directory.known_person(
            Platform.SLACK, workspace_key, user_id, workspace_name
        )
        stored = None
        if person is not None and person.profile_refreshed_at is not None:
            stored = _stored(person)
            if now - person.profile_refreshed_at < REFRESH_AFTER:
                self._remember(key, stored)
                return stored
        try:
            response = await client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            log.warning(
                "users.info failed",
                extra={
                    "platform": "slack",
                    "workspace": workspace.id,
                    "error": exc.response.get("error"),
                },
            )
            # Someone Touchbase has met was a member when last seen: their stored profile
            # serves (not remembered, so the next request asks again). Anyone else might be a
            # guest: nobody, until Slack can say. When Slack says it knows no such user, that
            # answer is kept for a minute (they are told to try again in a minute), so a
            # stream of their requests does not ask, and log, every time.
            if stored is not None:
                return stored
            if exc.response.get("error") not in UNKNOWN_USER:
                return self._unverified(user_id, fallback_name)
            unknown = self._unverified(user_id, fallback_name, believed_for=ASK_AGAIN)
            self._remember(key, unknown)
            return unknown
        user = response.get("user")
        if not isinstance(user, dict):  # not what Slack sends: no licence either
            return stored or self._unverified(user_id, fallback_name)
        fresh = profile_from_user(user, now, host_of_key(workspace_key))
        if not fresh.display_name and fallback_name:
            fresh = replace(fresh, display_name=fallback_name)
        self._remember(key, fresh)
        return fresh


def _stored(person: Person) -> Profile:
    """A person met before, as their row keeps them (only members are ever stored)."""
    assert person.profile_refreshed_at is not None
    return Profile(
        person.display_name, person.tz, person.email, person.profile_refreshed_at, person.locale
    )


def _identity(
    workspace_key: str,
    user_id: str,
    profile: Profile | None,
    workspace_name: str | None,
    fallback_name: str,
) -> Identity:
    return Identity(
        platform=Platform.SLACK,
        workspace_key=workspace_key,
        workspace_name=workspace_name,
        user_id=user_id,
        display_name=profile.display_name if profile else (fallback_name or user_id),
        tz=profile.tz if profile else None,
        email=profile.email if profile else None,
        locale=profile.locale if profile else None,
        address={"channel": user_id, "team": workspace_key},
        profile_refreshed_at=profile.fetched_at if profile else None,
        membership=profile.membership if profile else Membership.MEMBER,
    )
