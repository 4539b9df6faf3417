"""bolt's installation and OAuth state stores, kept in our database (store/slack_installations)."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from logging import Logger
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from adapters.slack.tenancy import workspace_key
from bot.domain import Platform
from store import slack_installations as sql
from store.repositories import SqlStore
from store.secrets import TokenCipher

log = logging.getLogger(__name__)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}


class DbInstallationStore(AsyncInstallationStore):
    """One bot installation per workspace; the latest install replaces the one before."""

    def __init__(self, store: SqlStore, cipher: TokenCipher) -> None:
        self._store = store
        self._cipher = cipher

    @property
    def logger(self) -> Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        team = None if installation.is_enterprise_install else installation.team_id
        await sql.save_installation(
            self._store,
            installation.enterprise_id,
            team,
            _jsonable(installation.to_dict_for_copying()),
            self._cipher,
        )
        if team is None and installation.enterprise_id:
            # Org-wide: each team of the org is its own workspace, made on first use; a
            # reinstall resumes those paused by the uninstall.
            prefix = f"{installation.enterprise_id}:"
            for known in await self._store.workspaces(include_paused=True):
                if known.platform is Platform.SLACK and known.external_id.startswith(prefix):
                    await self._store.update_workspace(known.id, active=True)
            log.info("Slack org-wide install saved", extra={"platform": "slack"})
            return
        key = workspace_key(installation.enterprise_id, team)
        workspace = await self._store.workspace(
            Platform.SLACK, key, installation.team_name or installation.enterprise_name
        )
        await self._store.update_workspace(workspace.id, active=True)
        log.info(
            "Slack workspace installed", extra={"platform": "slack", "workspace": workspace.id}
        )

    async def async_save_bot(self, bot: Bot) -> None:
        # Installations are saved whole by async_save; bots are derived from them.
        return None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        team = None if is_enterprise_install else team_id
        data = await sql.find_installation(self._store, enterprise_id, team, self._cipher)
        if data is None and enterprise_id and not is_enterprise_install:
            data = await sql.find_installation(
                self._store, enterprise_id, None, self._cipher
            )  # org-wide
        if data is None:
            return None
        return Installation(**data)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        installation = await self.async_find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        if installation is None or not installation.bot_token:
            return None
        return installation.to_bot()

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await sql.delete_installation(self._store, enterprise_id, team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await sql.delete_installation(self._store, enterprise_id, team_id)


class DbOAuthStateStore(AsyncOAuthStateStore):
    """OAuth `state` values, each usable once before it expires."""

    def __init__(self, store: SqlStore, expiration_seconds: int = 600) -> None:
        self._store = store
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        expires = self._store.clock.now() + timedelta(seconds=self.expiration_seconds)
        await sql.issue_state(self._store, state, expires)
        return state

    async def async_consume(self, state: str) -> bool:
        return await sql.consume_state(self._store, state)
