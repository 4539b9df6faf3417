"""Bot Framework authentication for the Teams endpoint.

Two rules:

* An empty Microsoft App ID switches botbuilder's inbound token check off (the Bot Framework
  Emulator's mode). That is allowed only with ``TOUCHBASE_ENV=development``; anywhere else
  :func:`adapters.teams.guard.check_settings` refuses to start.
* Every authentication failure is a 401. botbuilder 4.17's ``CloudAdapter.process`` answers only
  ``PermissionError`` with 401 and lets an expired token, a bad signature, an unknown key or a
  malformed header escape as a 500, so :func:`authenticate` runs the check on its own and turns
  any exception it raises into :class:`Unauthorized`. Nothing from the token or the request is
  logged, only the kind of failure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    ServiceClientCredentialsFactory,
)

from adapters.teams import limits
from adapters.teams.guard import Unauthorized, check_settings
from app.settings import Settings, TeamsSettings

__all__ = ["authenticate", "build_authentication"]

log = logging.getLogger(__name__)

#: botbuilder reads an empty app id as "no inbound check".
NO_APP_ID = "the Bot Framework switches off the check that requests really come from Microsoft."


@dataclass(frozen=True)
class BotConfig:
    """The attribute names ``ConfigurationBotFrameworkAuthentication`` reads."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str

    def __repr__(self) -> str:  # never print the password
        return f"BotConfig(APP_ID={self.APP_ID!r}, APP_TYPE={self.APP_TYPE!r})"


def bot_config(teams: TeamsSettings) -> BotConfig:
    return BotConfig(
        APP_ID=teams.id,
        APP_PASSWORD=teams.password.get_secret_value(),
        APP_TYPE=teams.type,
        APP_TENANTID=teams.tenant_id,
    )


def build_authentication(
    settings: Settings,
    *,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
) -> BotFrameworkAuthentication:
    """The SDK's authentication for these settings (after :func:`check_settings`).

    ``credentials_factory`` replaces how outbound tokens are obtained (tests use a local one).
    """
    check_settings(settings, no_app_id=NO_APP_ID)
    authentication = ConfigurationBotFrameworkAuthentication(
        bot_config(settings.teams), credentials_factory=credentials_factory
    )
    connectors = authentication.create_connector_factory

    def create_connector_factory(claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return QuickConnectors(connectors(claims_identity))

    # proactive sends (continue_conversation) make their connector clients here
    authentication.create_connector_factory = create_connector_factory
    return authentication


class QuickConnectors(ConnectorFactory):  # type: ignore[misc]
    """Connector clients that call a serviceUrl once, with a short timeout.

    msrest's defaults retry every call three times with backoff, 5xx and 429 included, and wait
    100 s for an answer: an unreachable serviceUrl held a request ~5 s a call. Retries belong
    to the outbox (:mod:`adapters.teams.limits`), which honours ``Retry-After``.
    """

    def __init__(self, inner: ConnectorFactory) -> None:
        self.inner = inner

    async def create(self, service_url: str, audience: str | None = None) -> object:
        client = await self.inner.create(service_url, audience)
        client.config.retry_policy.retries = 0
        client.config.connection.timeout = (limits.CONNECT_TIMEOUT, limits.READ_TIMEOUT)
        return client


async def authenticate(
    authentication: BotFrameworkAuthentication, activity: Activity, header: str
) -> AuthenticateRequestResult:
    """Validate the request's token; raise :class:`Unauthorized` for any failure."""
    try:
        result: AuthenticateRequestResult = await authentication.authenticate_request(
            activity, header
        )
    except Exception as error:  # expired, bad signature, unknown key, malformed, missing...
        log.warning("rejected a Teams request: %s", type(error).__name__)
        raise Unauthorized(type(error).__name__) from None
    if result is None or result.claims_identity is None:
        log.warning("rejected a Teams request: no identity")
        raise Unauthorized("no identity")
    if result.connector_factory is not None and not isinstance(
        result.connector_factory, QuickConnectors
    ):
        result.connector_factory = QuickConnectors(result.connector_factory)
    return result
