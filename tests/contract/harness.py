"""One harness for both Teams adapters: the same server, the same fakes, the same activities.

``sdk`` is ``"botbuilder"`` or ``"agents"``. The server is built as `touchbase serve` builds it
(the adapter for that SDK, mounted by ``app.platforms.mount_teams``), replies go to the fake
connector, and with ``secured=True`` inbound tokens come from the local OpenID issuer and
outbound tokens from its token endpoint, for either SDK.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from azure.core.credentials import AccessToken
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import (
    AgentAuthConfiguration,
    ClaimsIdentity,
)

from app.bootstrap import Services, bootstrap
from app.platforms import Platforms, mount_teams
from app.settings import Settings
from bot.clock import FixedClock
from bot.domain import Platform
from tests.fakes.openid import FakeOpenIdIssuer
from tests.teams_helpers import Teams

SDKS = ("botbuilder", "agents")
APP_ID = "0f5e2b6a-3c1d-4e8f-9a7b-2d4c6e8f0a1b"
APP_PASSWORD = "not-a-real-secret-9f8e7d"


class LocalTokenProvider:
    """An Agents SDK access-token provider whose tokens come from the local issuer's ``/token``
    (a client-credentials grant over real HTTP, as MSAL would make), cached until they expire."""

    def __init__(self, config: AgentAuthConfiguration, token_url: str) -> None:
        self._config = config
        self._token_url = token_url
        self._cache: dict[str, tuple[str, float]] = {}

    @property
    def configuration(self) -> AgentAuthConfiguration:
        return self._config

    async def get_access_token(
        self, resource_url: str, scopes: list[str], force_refresh: bool = False
    ) -> str:
        scope = " ".join(scopes) if scopes else f"{resource_url.rstrip('/')}/.default"
        cached = self._cache.get(scope)
        if cached and not force_refresh and time.monotonic() < cached[1]:
            return cached[0]
        form = {
            "grant_type": "client_credentials",
            "client_id": self._config.CLIENT_ID or "",
            "client_secret": self._config.CLIENT_SECRET or "",
            "scope": scope,
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(self._token_url, data=form) as response,
        ):
            payload = await response.json()
        if response.status != 200:
            raise PermissionError(f"no token: {payload.get('error')}")
        token = str(payload["access_token"])
        self._cache[scope] = (token, time.monotonic() + float(payload["expires_in"]) - 60)
        return token

    def get_token_credential(self) -> Any:
        provider = self

        class _Credential:
            async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
                token = await provider.get_access_token("", list(scopes))
                return AccessToken(token, int(time.time()) + 3000)

        return _Credential()


class LocalConnections:
    """The Agents SDK's ``Connections`` with one service connection on the local issuer."""

    def __init__(self, config: AgentAuthConfiguration, token_url: str) -> None:
        self._config = config
        self._provider = LocalTokenProvider(config, token_url)

    def get_connection(self, connection_name: str) -> LocalTokenProvider:
        return self._provider

    def get_default_connection(self) -> LocalTokenProvider:
        return self._provider

    def get_token_provider(
        self, claims_identity: ClaimsIdentity, service_url: str
    ) -> LocalTokenProvider:
        return self._provider

    def get_token_provider_from_activity(
        self, claims_identity: ClaimsIdentity, activity: Activity
    ) -> LocalTokenProvider:
        return self._provider

    def get_default_connection_configuration(self) -> AgentAuthConfiguration:
        return self._config


@dataclass
class Server:
    services: Services
    runtime: Any
    runner: web.AppRunner
    url: str

    async def close(self) -> None:
        await self.runner.cleanup()
        await self.services.close()


async def start(
    sdk: str, settings: Settings, clock: FixedClock, issuer: FakeOpenIdIssuer | None
) -> Server:
    services = await bootstrap(settings, clock=clock, migrate=False)
    runtime: Any
    if sdk == "agents":
        from adapters.agents.auth import auth_configuration
        from adapters.agents.runtime import build_agents

        connections = None
        if issuer is not None:
            connections = LocalConnections(auth_configuration(settings.teams), issuer.token_url)
        runtime = build_agents(services, connections=connections)  # type: ignore[arg-type]
    else:
        from adapters.teams.runtime import build_teams

        factory = issuer.credentials_factory(APP_ID, APP_PASSWORD) if issuer else None
        runtime = build_teams(services, credentials_factory=factory)
    services.add_messenger(Platform.TEAMS, runtime.messenger)
    app = web.Application()
    mount_teams(app, Platforms(teams=runtime, teams_sdk=sdk))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    return Server(services, runtime, runner, f"http://127.0.0.1:{port}/api/messages")


@dataclass
class Contract(Teams):
    """`tests.teams_helpers.Teams` (activity shapes, replies, the store) on either SDK."""

    sdk: str = "botbuilder"
    issuer: FakeOpenIdIssuer | None = None

    async def restart(self) -> None:
        """A new process, as far as Touchbase can tell: new Services and adapter, same database."""
        await self.server.close()
        self.server = await start(self.sdk, self.settings, self.clock, self.issuer)  # type: ignore[assignment]

    def token(self, **claims: Any) -> str:
        assert self.issuer is not None
        return self.issuer.sign({"aud": APP_ID, "serviceurl": self.connector.service_url, **claims})

    async def post_raw(self, activity: dict[str, Any], token: str | None = None) -> tuple[int, Any]:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        async with self.session.post(self.server.url, json=activity, headers=headers) as response:
            body = await response.read()
            return response.status, body


def buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button of a card as the data it sends: an ``Action.Submit``'s, or an
    ``Action.Execute``'s (whose fallback is the ``Action.Submit`` older clients use)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("Action.Submit", "Action.Execute"):
                found.append(node)
                return  # an Execute's fallback is the same button
            for key, value in node.items():
                if key != "refresh":  # the card's refresh is not a button
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found
