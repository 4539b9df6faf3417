"""Driving the real Slack adapter over HTTP: signed requests shaped as Slack sends them, against
FakeSlackApi. No mocks of slack_bolt or slack_sdk."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.runtime import SLACK, SlackAdapter
from app.bootstrap import Services
from app.server import create_app
from app.settings import Settings, SlackSettings, TeamsSettings
from bot.app import Touchbase
from bot.clock import FixedClock
from bot.commands import default_registry
from store.repositories import SqlStore
from tests.conftest import SECRET_KEY
from tests.fakes.slack_api import FakeSlackApi

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
TEAM = "T0FAKE"
USER = "U0ADA"


def slack_settings(fake: FakeSlackApi, **overrides: Any) -> SlackSettings:
    values: dict[str, Any] = {
        "bot_token": SecretStr(BOT_TOKEN),
        "signing_secret": SecretStr(SIGNING_SECRET),
        "api_url": fake.base_url,
        "app_token": None,
        "client_id": None,
        "client_secret": None,
    }
    values.update(overrides)
    return SlackSettings(_env_file=None, **values)  # type: ignore[call-arg]


def make_settings(db_url: str, slack: SlackSettings) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db_url,
        slack=slack,
        secret_keys=SecretStr(SECRET_KEY),
        teams=TeamsSettings(_env_file=None, id=""),  # type: ignore[call-arg]
        scheduler_enabled=False,
    )


def signed_headers(
    body: str, *, timestamp: int | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def trigger() -> str:
    return f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"


@dataclass
class Harness:
    fake: FakeSlackApi
    services: Services
    adapter: SlackAdapter
    http: TestClient[Any, Any]
    store: SqlStore
    team: str = TEAM
    sent: list[str] = field(default_factory=list)

    # --- raw posting ------------------------------------------------------------------------

    async def post(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        headers: dict[str, str] | None = None,
        sign: bool = True,
    ) -> tuple[int, str]:
        all_headers = {"Content-Type": content_type}
        if sign:
            all_headers.update(signed_headers(body))
        all_headers.update(headers or {})
        response = await self.http.post("/slack/events", data=body.encode(), headers=all_headers)
        return response.status, await response.text()

    # --- payloads shaped as Slack documents them -------------------------------------------

    def command_body(
        self,
        text: str,
        *,
        command: str = "/touch",
        user: str = USER,
        user_name: str = "ada",
        trigger_id: str | None = None,
        response_id: str | None = None,
        channel_id: str = "C0GENERAL",
    ) -> str:
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": self.team,
                "team_domain": "fake-workspace",
                "channel_id": channel_id,
                "channel_name": "general",
                "user_id": user,
                "user_name": user_name,
                "command": command,
                "text": text,
                "api_app_id": self.fake.app_id,
                "is_enterprise_install": "false",
                "response_url": self.fake.response_url(response_id or uuid.uuid4().hex),
                "trigger_id": trigger_id or trigger(),
            }
        )

    async def command(self, text: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        status, body = await self.post(self.command_body(text, **kwargs))
        return status, (json.loads(body) if body.startswith("{") else {"raw": body})

    def _interactive(self, payload: dict[str, Any]) -> str:
        return urlencode({"payload": json.dumps(payload)})

    def _user(self, user: str) -> dict[str, Any]:
        return {"id": user, "username": "ada", "name": "ada", "team_id": self.team}

    def block_actions_body(
        self,
        action_id: str,
        value: str,
        *,
        user: str = USER,
        trigger_id: str | None = None,
        response_id: str | None = None,
        container: dict[str, Any] | None = None,
    ) -> str:
        return self._interactive(
            {
                "type": "block_actions",
                "user": self._user(user),
                "api_app_id": self.fake.app_id,
                "token": "legacy-verification-token",
                "container": container
                or {
                    "type": "message",
                    "message_ts": "1700000000.000100",
                    "channel_id": "C0GENERAL",
                    "is_ephemeral": True,
                },
                "trigger_id": trigger_id or trigger(),
                "team": {"id": self.team, "domain": "fake-workspace"},
                "enterprise": None,
                "is_enterprise_install": False,
                "channel": {"id": "C0GENERAL", "name": "general"},
                "response_url": self.fake.response_url(response_id or uuid.uuid4().hex),
                "actions": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "block_id": "b1",
                        "text": {"type": "plain_text", "text": "x"},
                        "value": value,
                        "action_ts": f"{time.time():.6f}",
                    }
                ],
            }
        )

    def view_submission_body(
        self,
        view: dict[str, Any],
        state_values: dict[str, dict[str, Any]],
        *,
        user: str = USER,
        view_id: str = "V0SUBMIT",
    ) -> str:
        submitted = dict(view)
        submitted.update({"id": view_id, "team_id": self.team, "state": {"values": state_values}})
        return self._interactive(
            {
                "type": "view_submission",
                "team": {"id": self.team, "domain": "fake-workspace"},
                "user": self._user(user),
                "api_app_id": self.fake.app_id,
                "token": "legacy-verification-token",
                "trigger_id": trigger(),
                "view": submitted,
                "response_urls": [],
                "is_enterprise_install": False,
                "enterprise": None,
            }
        )

    def message_shortcut_body(self, text: str, *, user: str = USER) -> str:
        return self._interactive(
            {
                "type": "message_action",
                "callback_id": "log_as_touch",
                "trigger_id": trigger(),
                "message_ts": "1700000000.000200",
                "response_url": self.fake.response_url(uuid.uuid4().hex),
                "team": {"id": self.team, "domain": "fake-workspace"},
                "channel": {"id": "C0GENERAL", "name": "general"},
                "user": self._user(user),
                "message": {
                    "type": "message",
                    "user": "U0CLIENTFRIEND",
                    "ts": "1700000000.000200",
                    "text": text,
                },
                "token": "legacy-verification-token",
                "is_enterprise_install": False,
                "enterprise": None,
            }
        )

    def event_body(self, event: dict[str, Any], *, event_id: str | None = None) -> str:
        return json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": self.team,
                "api_app_id": self.fake.app_id,
                "event": event,
                "type": "event_callback",
                "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
                "event_time": int(time.time()),
                "authorizations": [
                    {
                        "enterprise_id": None,
                        "team_id": self.team,
                        "user_id": self.fake.bot_user_id,
                        "is_bot": True,
                        "is_enterprise_install": False,
                    }
                ],
                "is_ext_shared_channel": False,
            }
        )

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> int:
        headers = {}
        if retry is not None:
            headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        status, _ = await self.post(
            self.event_body(event, event_id=event_id),
            content_type="application/json",
            headers=headers,
        )
        return status

    async def settle(self) -> None:
        """Wait until every follow-up the adapter started has finished."""
        await self.adapter.drain()

    async def touches(self) -> list[Any]:
        workspaces = await self.store.workspaces()
        found: list[Any] = []
        for ws in workspaces:
            async with self.store.unit(ws.id) as uow:
                found.extend(await uow.touches.all())
        return found


@pytest.fixture(name="slack_fake")
async def slack_fake_fixture() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi(team_id=TEAM) as fake:
        fake.add_user(
            USER, "ada", tz="Europe/London", email="ada@example.com", real_name="Ada Lovelace"
        )
        fake.add_user("U0BOB", "bob", tz="America/New_York", email="bob@example.com")
        yield fake


async def start_harness(
    db_url: str,
    engine: AsyncEngine,
    store: SqlStore,
    clock: FixedClock,
    fake: FakeSlackApi,
    slack: SlackSettings | None = None,
) -> AsyncIterator[Harness]:
    settings = make_settings(db_url, slack or slack_settings(fake))
    app = Touchbase(store, clock, settings.core(), default_registry())
    services = Services(settings=settings, engine=engine, store=store, clock=clock, app=app)
    web_app = create_app(services)
    async with TestClient(TestServer(web_app, host="127.0.0.1")) as http:
        harness = Harness(fake, services, web_app[SLACK], http, store)
        yield harness
        await harness.settle()


@pytest.fixture(name="slack")
async def slack_fixture(
    db_url: str, engine: AsyncEngine, store: SqlStore, clock: FixedClock, slack_fake: FakeSlackApi
) -> AsyncIterator[Harness]:
    async for harness in start_harness(db_url, engine, store, clock, slack_fake):
        yield harness


# --- OAuth mode: installed through /slack/install, a token per team ---------------------------


@pytest.fixture(name="oauth")
async def oauth_fixture(
    db_url: str, engine: AsyncEngine, store: SqlStore, clock: FixedClock, slack_fake: FakeSlackApi
) -> AsyncIterator[Harness]:
    settings = slack_settings(
        slack_fake,
        bot_token=None,
        client_id="1111.2222",
        client_secret=SecretStr("client-secret"),
    )
    async for harness in start_harness(db_url, engine, store, clock, slack_fake, settings):
        yield harness


async def install(oauth: Harness) -> None:
    """Install Touchbase for the fake's current team through /slack/install and the redirect."""
    page = await oauth.http.get("/slack/install")
    assert page.status == 200
    html = await page.text()
    link = re.search(r'href="(https://slack.com/oauth/v2/authorize\?[^"]+)"', html)
    assert link is not None
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == ["1111.2222"]
    assert "chat:write" in query["scope"][0]
    state = query["state"][0]
    cookie = page.headers["Set-Cookie"].split(";", 1)[0]  # bolt marks it Secure: send it by hand
    done = await oauth.http.get(
        "/slack/oauth_redirect",
        params={"code": "the-code", "state": state},
        headers={"Cookie": cookie},
    )
    assert done.status == 200, await done.text()
