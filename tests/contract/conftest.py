"""Fixtures for the Teams contract suite: every test runs on both SDKs and both engines."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from botframework.connector.auth import ChannelValidation
from microsoft_agents.hosting.core.authorization import _entra_issuers
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FixedClock
from tests.contract.harness import APP_ID, APP_PASSWORD, SDKS, Contract, start
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.openid import BOT_FRAMEWORK_ISSUER, FakeOpenIdIssuer
from tests.teams_helpers import make_settings


@pytest.fixture(params=SDKS)
def sdk(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest_asyncio.fixture
async def teams(
    sdk: str, db_url: str, engine: AsyncEngine, clock: FixedClock
) -> AsyncIterator[Contract]:
    """Development mode (no token, as the Emulator), replies to a fake connector."""
    settings = make_settings(db_url).model_copy(update={"teams_sdk": sdk})
    async with FakeBotConnector() as connector, aiohttp.ClientSession() as session:
        server = await start(sdk, settings, clock, None)
        harness = Contract(connector, server, session, settings, clock, db_url, sdk=sdk)  # type: ignore[arg-type]
        try:
            yield harness
        finally:
            await harness.server.close()


@pytest_asyncio.fixture
async def secured(
    sdk: str,
    db_url: str,
    engine: AsyncEngine,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Contract]:
    """Production settings: tokens checked against the local OpenID issuer, replies signed
    with tokens from its token endpoint."""
    settings = make_settings(
        db_url, env="production", app_id=APP_ID, password=APP_PASSWORD
    ).model_copy(update={"teams_sdk": sdk})
    async with (
        FakeOpenIdIssuer() as issuer,
        FakeBotConnector() as connector,
        aiohttp.ClientSession() as session,
    ):
        # Where each SDK looks up the Bot Framework's signing keys: process-wide, hence patched.
        monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", issuer.metadata_url)
        assert BOT_FRAMEWORK_ISSUER == _entra_issuers.BOTFRAMEWORK_PUBLIC_ISSUER
        monkeypatch.setitem(
            _entra_issuers.BOTFRAMEWORK_JWKS_URIS, BOT_FRAMEWORK_ISSUER, issuer.jwks_url
        )
        server = await start(sdk, settings, clock, issuer)
        harness = Contract(
            connector,
            server,
            session,
            settings,
            clock,
            db_url,
            sdk=sdk,
            issuer=issuer,  # type: ignore[arg-type]
        )
        try:
            yield harness
        finally:
            await harness.server.close()
