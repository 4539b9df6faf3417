"""Teams-only test fixtures: the real aiohttp server with the Teams adapter mounted, a fake
Bot Framework connector for replies, and activities shaped as Teams sends them.

Import the fixtures you use into the test module (``from tests.teams_helpers import teams``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp import web
from botframework.connector.auth import ServiceClientCredentialsFactory
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.teams.runtime import TEAMS, TeamsRuntime, build_teams, mount
from app.bootstrap import Services, bootstrap
from app.settings import Settings, SlackSettings, TeamsSettings, WebSettings
from bot.clock import FixedClock
from bot.domain import Person, Platform, Touch
from tests.fakes.bot_connector import FakeBotConnector

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT_ID = "28:0f5e2b6a-3c1d-4e8f-9a7b-2d4c6e8f0a1b"
ADA = {"id": "29:1ada-teams-id", "name": "Ada Lovelace", "aadObjectId": "aad-ada-0001"}
BEN = {"id": "29:1ben-teams-id", "name": "Ben Okafor", "aadObjectId": "aad-ben-0002"}
PERSONAL_CONVERSATION = "a:1personal-ada"
CHANNEL_ID = "19:relationships@thread.tacv2"


def make_settings(
    db_url: str,
    *,
    env: str = "development",
    app_id: str = "",
    password: str = "",
    app_type: str = "MultiTenant",
    tenant_id: str = "",
) -> Settings:
    """Settings that ignore the process environment and any .env file."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db_url,
        env=env,
        scheduler_enabled=False,
        slack=SlackSettings(_env_file=None),  # type: ignore[call-arg]
        teams=TeamsSettings(
            _env_file=None,  # type: ignore[call-arg]
            id=app_id,
            password=SecretStr(password),
            type=app_type,  # type: ignore[arg-type]
            tenant_id=tenant_id,
        ),
        web=WebSettings(_env_file=None),  # type: ignore[call-arg]
    )


@dataclass
class TeamsServer:
    """One running Touchbase server with Teams mounted, as a restartable unit."""

    services: Services
    runtime: TeamsRuntime
    runner: web.AppRunner
    url: str

    async def close(self) -> None:
        await self.runner.cleanup()
        await self.services.close()


async def start_server(
    settings: Settings,
    clock: FixedClock,
    *,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
) -> TeamsServer:
    services = await bootstrap(settings, clock=clock, migrate=False)
    app = web.Application()
    runtime = build_teams(services, credentials_factory=credentials_factory)
    services.add_messenger(Platform.TEAMS, runtime.messenger)
    mount(app, runtime)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    return TeamsServer(services, app[TEAMS], runner, f"http://127.0.0.1:{port}/api/messages")


@dataclass
class Teams:
    """The Teams side of a test: post activities, read what the bot sent to the connector."""

    connector: FakeBotConnector
    server: TeamsServer
    session: aiohttp.ClientSession
    settings: Settings
    clock: FixedClock
    db_url: str
    _ids: int = 1700000000000
    extra_servers: list[TeamsServer] = field(default_factory=list)

    @property
    def services(self) -> Services:
        return self.server.services

    def next_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    async def post(self, activity: dict[str, Any], token: str | None = None) -> int:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        async with self.session.post(self.server.url, json=activity, headers=headers) as response:
            await response.read()
            return response.status

    async def restart(self) -> None:
        """A new process, as far as Touchbase can tell: new Services and adapter, same database."""
        await self.server.close()
        self.server = await start_server(self.settings, self.clock)

    # ---- the shapes Teams sends

    def personal(
        self, text: str | None = None, *, sender: dict[str, str] = ADA, **extra: Any
    ) -> dict[str, Any]:
        activity: dict[str, Any] = {
            "type": "message",
            "id": self.next_id(),
            "timestamp": "2026-11-23T15:00:00.000Z",
            "localTimestamp": "2026-11-23T15:00:00.000+00:00",
            "localTimezone": "Europe/London",
            "serviceUrl": self.connector.service_url,
            "channelId": "msteams",
            "from": dict(sender),
            "conversation": {
                "conversationType": "personal",
                "tenantId": TENANT,
                "id": PERSONAL_CONVERSATION if sender is ADA else f"a:1personal-{sender['name']}",
            },
            "recipient": {"id": BOT_ID, "name": "Touchbase"},
            "textFormat": "plain",
            "locale": "en-GB",
            "entities": [
                {
                    "type": "clientInfo",
                    "locale": "en-GB",
                    "country": "GB",
                    "platform": "Web",
                    "timezone": "Europe/London",
                }
            ],
            "channelData": {"tenant": {"id": TENANT}},
        }
        if text is not None:
            activity["text"] = text
        activity.update(extra)
        return activity

    def in_channel(
        self,
        text: str,
        *,
        mentions: list[dict[str, Any]] | None = None,
        sender: dict[str, str] = ADA,
    ) -> dict[str, Any]:
        """A channel post that @mentions the bot (Teams puts the mention first)."""
        bot_mention = {
            "type": "mention",
            "text": "<at>Touchbase</at>",
            "mentioned": {"id": BOT_ID, "name": "Touchbase"},
        }
        message_id = self.next_id()
        return {
            "type": "message",
            "id": message_id,
            "timestamp": "2026-11-23T15:00:00.000Z",
            "localTimezone": "Europe/London",
            "serviceUrl": self.connector.service_url,
            "channelId": "msteams",
            "from": dict(sender),
            "conversation": {
                "isGroup": True,
                "conversationType": "channel",
                "tenantId": TENANT,
                "id": f"{CHANNEL_ID};messageid={message_id}",
            },
            "recipient": {"id": BOT_ID, "name": "Touchbase"},
            "textFormat": "plain",
            "text": text,
            "entities": [bot_mention, *(mentions or [])],
            "channelData": {
                "teamsChannelId": CHANNEL_ID,
                "teamsTeamId": "19:team-general@thread.tacv2",
                "channel": {"id": CHANNEL_ID, "name": "Client relationships"},
                "team": {"id": "19:team-general@thread.tacv2", "name": "Advisory"},
                "tenant": {"id": TENANT},
            },
        }

    def submit(self, value: dict[str, Any], *, sender: dict[str, str] = ADA) -> dict[str, Any]:
        """What Teams sends when someone presses an Action.Submit button on the bot's card."""
        activity = self.personal(sender=sender, value=value, replyToId="activity-1")
        activity["channelData"] = {
            "tenant": {"id": TENANT},
            "source": {"name": "message"},
            "legacy": {"replyToId": "activity-1"},
        }
        return activity

    def bot_added(self, *, sender: dict[str, str] = ADA) -> dict[str, Any]:
        """conversationUpdate when a person installs the app in their personal scope."""
        activity = self.personal(sender=sender)
        activity["type"] = "conversationUpdate"
        activity["membersAdded"] = [{"id": BOT_ID}]
        activity.pop("textFormat")
        return activity

    # ---- reading back

    async def replies(self, count: int = 1) -> list[dict[str, Any]]:
        """The first ``count`` activities the bot sent (replies, or sends outside a reply)."""
        await self.connector.wait_for(None, count)
        return self.connector.activities()[:count]

    async def last_card(self, count: int) -> dict[str, Any]:
        """The Adaptive Card in the ``count``-th reply."""
        body = (await self.replies(count))[count - 1]
        [attachment] = body["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        content: dict[str, Any] = attachment["content"]
        return content

    async def touches(self) -> list[Touch]:
        ws = await self.services.store.workspace(Platform.TEAMS, TENANT)
        async with self.services.store.unit(ws.id) as uow:
            return await uow.touches.all()

    async def person(self, user_id: str) -> Person | None:
        ws = await self.services.store.workspace(Platform.TEAMS, TENANT)
        async with self.services.store.unit(ws.id) as uow:
            return await uow.people.by_platform_id(user_id)


def card_text(card: dict[str, Any]) -> str:
    """Every TextBlock text and fact in a card, one per line (Markdown escapes kept)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                out.append(node["text"])
            if node.get("type") == "FactSet":
                out.extend(f"{f['title']}: {f['value']}" for f in node["facts"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card.get("body", []))
    return "\n".join(out)


def unescape(text: str) -> str:
    """Undo the card's backslash escapes, to compare with plain text."""
    out, escaped = [], False
    for ch in text:
        if escaped or ch != "\\":
            out.append(ch)
            escaped = False
        else:
            escaped = True
    return "".join(out)


def submits(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.Submit in a card, in order."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


@pytest_asyncio.fixture
async def teams(
    db_url: str, engine: AsyncEngine, clock: FixedClock, tmp_path: Path
) -> AsyncIterator[Teams]:
    """Touchbase with Teams in development mode (no token), replies going to a fake connector.

    ``engine`` (conftest) migrates and empties the database; the server opens its own engine
    on the same URL, as a separate process would.
    """
    settings = make_settings(db_url)
    async with FakeBotConnector() as connector, aiohttp.ClientSession() as session:
        server = await start_server(settings, clock)
        harness = Teams(connector, server, session, settings, clock, db_url)
        try:
            yield harness
        finally:
            await harness.server.close()


OTHER_TENANT = "c5a8e2d1-7b3f-4c9e-8a6d-1f2e3d4c5b6a"


def group_chat(teams: Teams, text: str, *, sender: dict[str, str] = ADA) -> dict[str, Any]:
    """A group chat message that @mentions the bot, as Teams sends it."""
    activity = teams.in_channel(text, sender=sender)
    activity["conversation"] = {
        "isGroup": True,
        "conversationType": "groupChat",
        "tenantId": TENANT,
        "id": "19:meeting_group-chat-ada-ben@thread.v2",
    }
    activity["channelData"] = {"tenant": {"id": TENANT}}
    return activity


def invoke(teams: Teams, name: str, value: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An invoke activity in the personal chat (``adaptiveCard/action``, ``task/fetch``...)."""
    activity = teams.personal(**extra)
    activity.update(type="invoke", name=name, value=value)
    activity.pop("textFormat", None)
    return activity


def execute(teams: Teams, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """What Teams sends when someone presses an ``Action.Execute`` button (Universal Actions)."""
    value = {"action": {"type": "Action.Execute", "verb": "touchbase", "data": data}}
    return invoke(teams, "adaptiveCard/action", {**value, "trigger": "manual"}, **extra)


def mention(person: dict[str, str], *, with_aad: bool = False) -> dict[str, Any]:
    """A mention entity as Teams sends it: the ``29:`` id and the name, no aadObjectId."""
    mentioned = {"id": person["id"], "name": person["name"]}
    if with_aad:
        mentioned["aadObjectId"] = person["aadObjectId"]
    return {"type": "mention", "text": f"<at>{person['name']}</at>", "mentioned": mentioned}
