"""Authentication for Teams on the Microsoft 365 Agents SDK.

The same four settings as the botbuilder adapter (``MICROSOFT_APP_ID``, ``_PASSWORD``,
``_TENANT_ID``, ``_TYPE``) become the SDK's own configuration: one service connection with
``CLIENTID``, ``CLIENTSECRET``, ``TENANTID`` and ``AUTHTYPE`` (:func:`sdk_configuration`), read by
MSAL for outbound tokens and by the SDK's JWT validator for inbound ones.

Rules, as with botbuilder:

* Without an app id the inbound check is off (the Bot Framework Emulator's mode). That is
  allowed only with ``TOUCHBASE_ENV=development``; anywhere else
  :func:`adapters.teams.guard.check_settings` refuses to start.
* Every authentication failure is a 401: missing or malformed header, not a JWT, unknown key,
  bad signature, expired, wrong audience, wrong issuer, or a ``serviceurl`` claim that is not
  the activity's. An issuer outside the allow-list is refused before any key is fetched, so a
  forged token never makes Touchbase call out. Nothing from the token is logged, only the kind
  of failure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import jwt
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import (
    AccessTokenProviderBase,
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    ClaimsIdentity,
    Connections,
)
from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator

from adapters.teams.guard import Unauthorized
from app.settings import TeamsSettings

__all__ = ["auth_configuration", "authenticate", "sdk_configuration"]

log = logging.getLogger(__name__)

SERVICE_CONNECTION = "SERVICE_CONNECTION"
#: The tenant a multi-tenant bot gets its tokens from (Bot Framework's own).
MULTI_TENANT_AUTHORITY_TENANT = "botframework.com"

_AUTH_TYPES = {
    "MultiTenant": "ClientSecret",
    "SingleTenant": "ClientSecret",
    "UserAssignedMSI": "UserManagedIdentity",
}


def connection_settings(teams: TeamsSettings) -> dict[str, Any]:
    """The service connection's SETTINGS, in the SDK's names."""
    tenant = teams.tenant_id or (
        MULTI_TENANT_AUTHORITY_TENANT if teams.type == "MultiTenant" else ""
    )
    found: dict[str, Any] = {
        "AUTHTYPE": _AUTH_TYPES[teams.type],
        "CLIENTID": teams.id,
        "TENANTID": tenant,
        # Off by default in the SDK; on here, so a token from any other issuer is refused.
        "VALIDATE_ISSUER": True,
    }
    if teams.type != "UserAssignedMSI":
        found["CLIENTSECRET"] = teams.password.get_secret_value()
    return found


def sdk_configuration(teams: TeamsSettings) -> dict[str, Any]:
    """What the SDK's ``load_configuration_from_env`` would build from
    ``CONNECTIONS__SERVICE_CONNECTION__SETTINGS__*`` variables, made from ours."""
    return {
        "AGENTAPPLICATION": {},
        "CONNECTIONS": {SERVICE_CONNECTION: {"SETTINGS": connection_settings(teams)}},
        "CONNECTIONSMAP": [],
    }


def auth_configuration(teams: TeamsSettings) -> AgentAuthConfiguration:
    return AgentAuthConfiguration(**connection_settings(teams))


class DevelopmentConnections(Connections):
    """No credentials (the Emulator): every outbound call goes without a token."""

    def __init__(self) -> None:
        self._anonymous = AnonymousTokenProvider()

    def get_connection(self, connection_name: str) -> AccessTokenProviderBase:
        return self._anonymous

    def get_default_connection(self) -> AccessTokenProviderBase:
        return self._anonymous

    def get_token_provider(
        self, claims_identity: ClaimsIdentity, service_url: str
    ) -> AccessTokenProviderBase:
        return self._anonymous

    def get_token_provider_from_activity(
        self, claims_identity: ClaimsIdentity, activity: Activity
    ) -> AccessTokenProviderBase:
        return self._anonymous

    def get_default_connection_configuration(self) -> AgentAuthConfiguration:
        return AgentAuthConfiguration(ANONYMOUS_ALLOWED=True)


def _bearer(header: str | None) -> str:
    if not header:
        raise Unauthorized("missing header")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(ch.isspace() for ch in token):
        raise Unauthorized("malformed header")
    return token


def _same_service(claimed: Any, actual: Any) -> bool:
    """The token's ``serviceurl`` names the activity's service (scheme, host and port)."""
    if not isinstance(claimed, str) or not isinstance(actual, str):
        return False
    a, b = urlsplit(claimed.strip()), urlsplit(actual.strip())
    return (a.scheme.lower(), a.netloc.lower(), a.path.rstrip("/")) == (
        b.scheme.lower(),
        b.netloc.lower(),
        b.path.rstrip("/"),
    )


async def authenticate(
    config: AgentAuthConfiguration, activity: Mapping[str, Any], header: str | None
) -> ClaimsIdentity:
    """Validate the request's token for this activity; raise :class:`Unauthorized` for any
    failure."""
    try:
        token = _bearer(header)
        unverified = jwt.decode(token, options={"verify_signature": False})
        issuers = {issuer.lower() for issuer in config.ISSUERS}
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or issuer.lower() not in issuers:
            raise Unauthorized("issuer not accepted")
        identity = await JwtTokenValidator(config).validate_token(token)
        if not _same_service(identity.get_claim_value("serviceurl"), activity.get("serviceUrl")):
            raise Unauthorized("serviceurl mismatch")
    except Unauthorized as refused:
        log.warning("rejected a Teams request: %s", refused)
        raise
    except Exception as error:  # expired, bad signature, unknown key, not a JWT...
        log.warning("rejected a Teams request: %s", type(error).__name__)
        raise Unauthorized(type(error).__name__) from None
    if not isinstance(identity, ClaimsIdentity) or not identity.claims:
        log.warning("rejected a Teams request: no identity")
        raise Unauthorized("no identity")
    return identity
