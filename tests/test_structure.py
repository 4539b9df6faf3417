"""The outer ring's shape: renderers without SDKs, messengers built apart from HTTP routes and
kept in one place, on the core."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from app.bootstrap import Services
from app.platforms import PLATFORMS, PlatformEntry, build_platforms
from app.server import create_app
from app.settings import Settings, SlackSettings, TeamsSettings, WebSettings
from bot.clock import FixedClock
from bot.domain import Platform
from bot.messages import Message
from bot.ports import Address
from store.repositories import SqlPeople, SqlStore
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    USER,
    Harness,
    slack_fake_fixture,
    slack_fixture,
)
from tests.web_helpers import make_services


def test_the_card_and_block_renderers_import_without_bolt_botbuilder_or_aiohttp() -> None:
    script = (
        "import sys\n"
        "import adapters.teams.cards, adapters.slack.blocks\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'botbuilder', 'botframework', 'slack_bolt', 'aiohttp'})\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


def _settings(db_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db_url,
        env="production",
        scheduler_enabled=False,
        slack=SlackSettings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=SecretStr("xoxb-1-2-abc"),
            signing_secret=SecretStr("secret"),
        ),
        teams=TeamsSettings(
            _env_file=None,  # type: ignore[call-arg]
            id="28:bot",
            password=SecretStr("pw"),
        ),
        web=WebSettings(_env_file=None),  # type: ignore[call-arg]
    )


async def test_platforms_register_their_messengers_on_the_core_without_a_web_app(
    db_url: str, engine: AsyncEngine, store: SqlStore, clock: FixedClock
) -> None:
    services = make_services(_settings(db_url), engine, store, clock)
    platforms = build_platforms(services)
    try:
        assert platforms.slack is not None and platforms.teams is not None
        assert set(services.app.messengers) == {Platform.SLACK, Platform.TEAMS}
        assert services.app.messengers[Platform.TEAMS] is platforms.teams.messenger
        # one place: the services' view is the core's own mapping
        assert services.messengers is services.app.messengers
    finally:
        await platforms.close()


async def test_a_slack_command_upserts_its_person_once_in_its_own_unit_of_work(
    slack: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensured: list[str] = []
    original = SqlPeople.ensure

    async def counting(self: SqlPeople, platform_user_id: str, *args: Any, **kwargs: Any) -> Any:
        ensured.append(platform_user_id)
        return await original(self, platform_user_id, *args, **kwargs)

    monkeypatch.setattr(SqlPeople, "ensure", counting)
    await slack.command("add Acme", command="/client")  # the first request: users.info runs
    await slack.settle()

    assert ensured == [USER]
    assert len(slack.fake.calls("users.info")) == 1
    workspaces = await slack.store.workspaces()
    async with slack.store.unit(workspaces[0].id) as uow:
        person = await uow.people.by_platform_id(USER)
    assert person is not None and person.profile_refreshed_at is not None
    assert person.tz == "Europe/London"


class _Pigeon:
    """A whole platform as the root sees one: a messenger, one route, something to finish."""

    def __init__(self, services: Services) -> None:
        self.messenger = _PigeonMessenger()
        self.closed = False

    def mount(self, app: web.Application) -> None:
        app.router.add_post("/pigeon/events", self.events)

    async def events(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def close(self) -> None:
        self.closed = True


class _PigeonMessenger:
    async def send(self, address: Address, message: Message) -> None:
        raise NotImplementedError


async def test_a_new_platform_is_one_line_in_the_root(
    db_url: str, engine: AsyncEngine, store: SqlStore, clock: FixedClock
) -> None:
    services = make_services(_settings(db_url), engine, store, clock)
    entries = (*PLATFORMS, PlatformEntry(Platform.WEB, lambda s: True, _Pigeon))  # the one line
    platforms = build_platforms(services, entries)
    pigeon = platforms.runtimes[Platform.WEB]
    assert isinstance(pigeon, _Pigeon)
    assert services.app.messengers[Platform.WEB] is pigeon.messenger
    assert set(platforms.runtimes) == {Platform.SLACK, Platform.TEAMS, Platform.WEB}
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(services, platforms=platforms)))
    await client.start_server()
    try:
        response = await client.post("/pigeon/events")
        assert response.status == 200 and await response.json() == {"ok": True}
        assert (await client.post("/slack/events")).status != 404  # the others mounted too
        assert (await client.post("/api/messages")).status != 404
    finally:
        await client.close()
        await platforms.close()
    assert pigeon.closed
