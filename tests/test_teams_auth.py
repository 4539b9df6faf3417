"""Inbound authentication on /api/messages: a valid Bot Framework token is accepted, every bad
one gets 401 (never 500), and Touchbase refuses to serve Teams unauthenticated in production.

Tokens come from FakeOpenIdIssuer, wired in with the recipe in its docstring (public-cloud path:
``ChannelValidation.open_id_metadata_endpoint`` pointed at the fake; outbound tokens from its
``/token``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from botframework.connector.auth import ChannelValidation
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.teams.runtime import TeamsConfigurationError, build_teams
from bot.clock import FixedClock
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.openid import FakeOpenIdIssuer
from tests.teams_helpers import Teams, make_settings, start_server

APP_ID = "0f5e2b6a-3c1d-4e8f-9a7b-2d4c6e8f0a1b"
APP_PASSWORD = "not-a-real-secret-9f8e7d"


@dataclass
class Secured:
    teams: Teams
    issuer: FakeOpenIdIssuer

    def token(self, **claims: str) -> str:
        url = self.teams.connector.service_url
        return self.issuer.sign({"aud": APP_ID, "serviceurl": url, **claims})


@pytest_asyncio.fixture
async def secured(
    db_url: str,
    engine: AsyncEngine,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Secured]:
    settings = make_settings(db_url, env="production", app_id=APP_ID, password=APP_PASSWORD)
    async with (
        FakeOpenIdIssuer() as issuer,
        FakeBotConnector() as connector,
        aiohttp.ClientSession() as session,
    ):
        monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", issuer.metadata_url)
        server = await start_server(
            settings, clock, credentials_factory=issuer.credentials_factory(APP_ID, APP_PASSWORD)
        )
        teams = Teams(connector, server, session, settings, clock, db_url)
        try:
            yield Secured(teams, issuer)
        finally:
            await teams.server.close()


async def test_a_valid_token_is_accepted_and_the_reply_is_signed(
    secured: Secured, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    teams = secured.teams
    token = secured.token()
    assert await teams.post(teams.personal("help"), token=token) == 201

    [reply] = await teams.replies(1)
    assert "attachments" in reply
    [call] = teams.connector.calls("reply")
    assert call.headers["Authorization"].startswith("Bearer ")
    assert [g.client_id for g in secured.issuer.token_requests()] == [APP_ID]
    logged = caplog.text
    assert token not in logged and APP_PASSWORD not in logged


BAD: dict[str, Callable[[Secured], str | None]] = {
    "missing_header": lambda s: None,
    "wrong_audience": lambda s: s.issuer.channel_token(
        "someone-else", s.teams.connector.service_url
    ),
    "wrong_issuer": lambda s: s.token(iss="https://issuer.invalid"),
    "expired": lambda s: s.issuer.channel_token(
        APP_ID, s.teams.connector.service_url, expires_in=-3600
    ),
    "bad_signature": lambda s: s.issuer.sign(
        {"aud": APP_ID, "serviceurl": s.teams.connector.service_url}, key=s.issuer.wrong_key
    ),
    "unknown_kid": lambda s: s.issuer.sign(
        {"aud": APP_ID, "serviceurl": s.teams.connector.service_url}, kid="no-such-key"
    ),
    "serviceurl_mismatch": lambda s: s.issuer.channel_token(APP_ID, "http://127.0.0.1:9/"),
    "not_a_jwt": lambda s: "garbage",
}


@pytest.mark.security
@pytest.mark.parametrize("case", list(BAD))
async def test_bad_or_missing_tokens_get_401(
    secured: Secured, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    teams = secured.teams
    token = BAD[case](secured)
    assert await teams.post(teams.personal("client add Acme"), token=token) == 401
    assert teams.connector.calls() == []
    assert await teams.touches() == []
    if token:
        assert token not in caplog.text


async def test_a_malformed_header_in_development_mode_is_401_not_500(teams_dev: Teams) -> None:
    async with teams_dev.session.post(
        teams_dev.server.url,
        json=teams_dev.personal("help"),
        headers={"Authorization": "Bearer garbage"},
    ) as response:
        assert response.status == 401
    assert teams_dev.connector.calls() == []


@pytest_asyncio.fixture
async def teams_dev(db_url: str, engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[Teams]:
    settings = make_settings(db_url, env="development")
    async with FakeBotConnector() as connector, aiohttp.ClientSession() as session:
        server = await start_server(settings, clock)
        teams = Teams(connector, server, session, settings, clock, db_url)
        try:
            yield teams
        finally:
            await teams.server.close()


# --- refusing to start -----------------------------------------------------------------------


class _Services:
    """Only what build_teams() reads before it refuses."""

    def __init__(self, settings: object) -> None:
        self.settings = settings


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"env": "production"}, "TOUCHBASE_ENV=development"),
        ({"env": "production", "app_id": APP_ID}, "MICROSOFT_APP_PASSWORD"),
        ({"env": "development", "app_id": APP_ID}, "MICROSOFT_APP_PASSWORD"),
        (
            {"env": "production", "app_id": APP_ID, "password": "x", "app_type": "SingleTenant"},
            "MICROSOFT_APP_TENANT_ID",
        ),
    ],
)
def test_mount_refuses_unsafe_or_incomplete_settings(kwargs: dict[str, str], needle: str) -> None:
    settings = make_settings("sqlite:///unused.db", **kwargs)
    app = web.Application()
    with pytest.raises(TeamsConfigurationError, match=needle):
        build_teams(_Services(settings))  # type: ignore[arg-type]
    assert not any(
        r.resource is not None and r.resource.canonical == "/api/messages"
        for r in app.router.routes()
    )
