"""A local fake of the Bot Framework token issuer (OpenID metadata, JWKS, token endpoint).

:class:`FakeOpenIdIssuer` is an aiohttp server bound to ``127.0.0.1`` on an ephemeral port. It
plays the issuer whose tokens the Bot Framework channel puts on every inbound activity, and the
token endpoint a bot gets its outbound tokens from:

* ``GET /.well-known/openid-configuration``: ``issuer``, ``jwks_uri`` (this server's ``/keys``),
  ``token_endpoint``, ``id_token_signing_alg_values_supported: ["RS256"]``.
* ``GET /keys``: a JWKS holding the RSA public key generated at start, with
  ``endorsements: ["msteams"]`` on it as Bot Framework does.
* ``POST /token`` (also ``/{tenant}/oauth2/v2.0/token``): an OAuth client-credentials grant
  answering ``{"access_token": <RS256 JWT>, "expires_in": 3600, "token_type": "Bearer"}``;
  each grant is recorded (:meth:`token_requests`).

``sign(claims, kid=None, key=None, expires_in=3600)`` mints RS256 JWTs with the real key;
``sign(claims, key=issuer.wrong_key)`` forges one with a second key under the same ``kid``
(a bad signature), and ``channel_token(app_id, service_url)`` mints what the channel would send.

The server runs on its own thread and event loop, because botbuilder fetches OpenID metadata
with a blocking ``requests.get`` from inside the bot's event loop: a fake served by that same
loop could never answer. Use it as ``with FakeOpenIdIssuer() as issuer:`` or
``async with FakeOpenIdIssuer() as issuer:``.

Pointing botbuilder 4.17 at this issuer (read from ``botframework/connector/auth``)
-------------------------------------------------------------------------------------
``ConfigurationBotFrameworkAuthentication(config)`` hands the config's attributes to
``BotFrameworkAuthenticationFactory.create``. Two ways lead inbound validation here:

1. Public-cloud path (the code production runs): keep the config to ``APP_ID`` /
   ``APP_PASSWORD`` / ``APP_TYPE`` / ``APP_TENANTID``, so the factory builds
   ``_PublicCloudBotFrameworkAuthentication`` -> ``JwtTokenValidation.authenticate_request`` ->
   ``ChannelValidation.authenticate_channel_token_with_service_url``. That reads the metadata URL
   from the class attribute ``ChannelValidation.open_id_metadata_endpoint`` (when set; else
   ``AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL``) and requires ``iss`` to
   equal ``AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER``
   (``"https://api.botframework.com"``, this fake's default issuer). So: set
   ``ChannelValidation.open_id_metadata_endpoint = issuer.metadata_url`` (with
   ``monkeypatch.setattr``: it is process-wide) and mint tokens with this fake.
2. Parameterized path: any of ``TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL``,
   ``TO_BOT_FROM_CHANNEL_TOKEN_ISSUER``, ``TO_CHANNEL_FROM_BOT_LOGIN_URL``,
   ``TO_CHANNEL_FROM_BOT_OAUTH_SCOPE``, ``OAUTH_URL``, ``CALLER_ID`` ... on the config switches the
   factory to ``_ParameterizedBotFrameworkAuthentication``, which validates with its own copy of
   the checks. No global state, but it is not the code production runs, and it answers a missing
   Authorization header with 500 (below).

``AuthenticationConfiguration`` only adds required endorsements, a claims validator and extra
issuers for skill/emulator tokens; a ``ChannelProvider`` only picks public/government/enterprise
constants. Neither can redirect the metadata URL. Tokens must not carry ``ver`` + ``appid`` claims
(they would be taken for skill tokens), nor an emulator issuer (``sts.windows.net/...``).

Metadata and keys are fetched with blocking ``requests`` and cached per URL for a day in
``JwtTokenExtractor.metadataCache`` (process-wide); an ephemeral port gives each fake its own
URL, hence a fresh cache entry.

Outbound replies with auth on: ``PasswordServiceClientCredentialFactory`` returns
``MicrosoftAppCredentials``, whose MSAL ``ConfidentialClientApplication`` refuses any authority
that is not ``https://`` and runs instance discovery against login.microsoftonline.com, so MSAL
cannot be kept local. :class:`LocalTokenCredentialsFactory` (pass it as
``ConfigurationBotFrameworkAuthentication(config, credentials_factory=...)``) keeps the SDK's
connector HTTP path real but returns :class:`LocalAppCredentials`, which POST a
client-credentials grant to this fake's ``/token`` (blocking, as MSAL is) and cache the token.

Status codes CloudAdapter.process answers for bad inbound tokens (botbuilder 4.17.1)
-------------------------------------------------------------------------------------
``CloudAdapter.process`` turns only ``PermissionError`` into 401; anything else escapes to the
web server as a 500. Observed (see ``tests/test_fake_openid.py``):

==============================  ===================  ==========================================
case                            public-cloud path    parameterized path
==============================  ===================  ==========================================
valid token                     201                  201
wrong audience (``aud``)        401 PermissionError  401 PermissionError
wrong issuer (``iss``)          401 PermissionError  401 PermissionError
``serviceurl`` claim mismatch   401 PermissionError  401 PermissionError
missing Authorization header    401 PermissionError  500 AttributeError (``None.claims``)
expired token                   500 jwt.ExpiredSignatureError
bad signature (same ``kid``)    500 jwt.InvalidSignatureError
unknown ``kid``                 500 IndexError (``_OpenIdMetadata._find``)
not a JWT (``Bearer garbage``)  500 jwt.DecodeError
==============================  ===================  ==========================================

So the Teams adapter must translate: authenticate first with
``await auth.authenticate_request(activity, header)`` and answer 401 for any exception it raises,
then run the turn with ``await adapter.process_activity(result, activity, bot.on_turn)``
(``process_activity`` accepts an ``AuthenticateRequestResult`` in place of the header), so that
errors from the bot's own turn still surface as 500.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import jwt
import requests
from aiohttp import web
from botframework.connector.auth import (
    MicrosoftAppCredentials,
    PasswordServiceClientCredentialFactory,
)
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from msrest.authentication import Authentication

__all__ = [
    "BOT_FRAMEWORK_ISSUER",
    "FakeOpenIdIssuer",
    "LocalAppCredentials",
    "LocalTokenCredentialsFactory",
    "TokenRequest",
]

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
"""The ``iss`` of real channel tokens, and what the public-cloud validation path insists on."""

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class TokenRequest:
    """One client-credentials grant the fake's token endpoint received."""

    client_id: str
    scope: str
    grant_type: str
    granted: bool
    at: float


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeOpenIdIssuer:
    """OpenID metadata + JWKS + token endpoint on its own thread; see the module docstring."""

    def __init__(
        self,
        *,
        issuer: str = BOT_FRAMEWORK_ISSUER,
        endorsements: Iterable[str] = ("msteams",),
        kid: str | None = None,
        clients: Mapping[str, str] | None = None,
    ) -> None:
        self.issuer = issuer
        self.endorsements = list(endorsements)
        self.kid = kid or f"fake-key-{uuid.uuid4().hex[:12]}"
        self.signing_key = _new_key()
        self.wrong_key = _new_key()
        self.clients: dict[str, str] | None = dict(clients) if clients is not None else None
        self._token_requests: list[TokenRequest] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            runner = web.AppRunner(self._app(), access_log=None)
            try:
                loop.run_until_complete(runner.setup())
                loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
                self._port = int(runner.addresses[0][1])
                self._loop = loop
            except BaseException as error:  # reported to the starting thread
                failure.append(error)
                loop.close()
                return
            finally:
                ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(runner.cleanup())
                loop.close()

        self._thread = threading.Thread(target=serve, name="fake-openid-issuer", daemon=True)
        self._thread.start()
        if not ready.wait(timeout=10):
            raise RuntimeError("FakeOpenIdIssuer did not start")
        if failure:
            raise failure[0]

    def close(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop = None
        self._thread = None

    def __enter__(self) -> FakeOpenIdIssuer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> FakeOpenIdIssuer:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.close)

    # ------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeOpenIdIssuer is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/``"""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def metadata_url(self) -> str:
        """``.../.well-known/openid-configuration``: the OpenID metadata URL to configure."""
        return f"{self.base_url}.well-known/openid-configuration"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}keys"

    @property
    def token_url(self) -> str:
        """The client-credentials token endpoint (``.../token``)."""
        return f"{self.base_url}token"

    # ------------------------------------------------------------------ tokens

    def jwks(self) -> JsonDict:
        """The JWKS served at ``/keys``."""
        jwk: JsonDict = dict(RSAAlgorithm.to_jwk(self.signing_key.public_key(), as_dict=True))
        jwk.update(
            {"kid": self.kid, "use": "sig", "alg": "RS256", "endorsements": self.endorsements}
        )
        return {"keys": [jwk]}

    def sign(
        self,
        claims: Mapping[str, Any],
        *,
        kid: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        expires_in: float = 3600,
    ) -> str:
        """Mint an RS256 JWT.

        ``iss`` defaults to :attr:`issuer`; ``iat``/``nbf``/``exp`` default to now and now +
        ``expires_in`` (negative: already expired). ``kid`` defaults to the served key's id;
        ``key`` defaults to the served key (pass :attr:`wrong_key` to forge a bad signature).
        """
        now = int(time.time())
        payload: JsonDict = {"iss": self.issuer, "iat": now, "nbf": now}
        payload["exp"] = now + int(expires_in)
        payload.update(claims)
        return jwt.encode(
            payload,
            key if key is not None else self.signing_key,
            algorithm="RS256",
            headers={"kid": kid if kid is not None else self.kid},
        )

    def channel_token(
        self, app_id: str, service_url: str, *, expires_in: float = 3600, **claims: Any
    ) -> str:
        """A token shaped like the one the channel sends a bot: ``aud``, ``serviceurl``, ``iss``."""
        return self.sign(
            {"aud": app_id, "serviceurl": service_url, **claims}, expires_in=expires_in
        )

    def token_requests(self) -> list[TokenRequest]:
        """Client-credentials grants received so far, oldest first."""
        with self._lock:
            return list(self._token_requests)

    def credentials_factory(self, app_id: str, password: str) -> LocalTokenCredentialsFactory:
        """A credentials factory whose outbound tokens come from this fake's ``/token``."""
        return LocalTokenCredentialsFactory(app_id, password, self.token_url)

    # ------------------------------------------------------------------ HTTP

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._metadata)
        app.router.add_get("/keys", self._keys)
        app.router.add_post("/token", self._token)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        return app

    async def _metadata(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.base_url}authorize",
                "token_endpoint": self.token_url,
                "jwks_uri": self.jwks_url,
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        return web.json_response(self.jwks())

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        client_id = str(form.get("client_id", ""))
        secret = str(form.get("client_secret", ""))
        scope = str(form.get("scope", ""))
        grant_type = str(form.get("grant_type", ""))
        granted = grant_type == "client_credentials" and bool(client_id)
        if granted and self.clients is not None:
            granted = self.clients.get(client_id) == secret
        with self._lock:
            self._token_requests.append(
                TokenRequest(client_id, scope, grant_type, granted, time.monotonic())
            )
        if not granted:
            return web.json_response(
                {"error": "invalid_client", "error_description": "unknown client or secret"},
                status=401,
            )
        audience = scope.removesuffix("/.default") or BOT_FRAMEWORK_ISSUER
        access_token = self.sign(
            {"aud": audience, "appid": client_id, "jti": f"token-{next(self._ids)}"},
            expires_in=3600,
        )
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": 3600,
                "ext_expires_in": 3600,
                "access_token": access_token,
            }
        )


class LocalAppCredentials(MicrosoftAppCredentials):  # type: ignore[misc]
    """``MicrosoftAppCredentials`` that get their token from a local client-credentials endpoint.

    The connector client calls ``get_access_token`` synchronously (via ``signed_session``), so
    this does a blocking ``requests.post``, as MSAL would; the token is cached until a minute
    before it expires.
    """

    def __init__(
        self, app_id: str, password: str, token_url: str, oauth_scope: str | None = None
    ) -> None:
        super().__init__(app_id, password, oauth_scope=oauth_scope)
        self.oauth_endpoint = token_url
        self._token: str | None = None
        self._expires_at = 0.0

    def get_access_token(self, force_refresh: bool = False) -> str:
        if not force_refresh and self._token and time.monotonic() < self._expires_at:
            return self._token
        scope = self.oauth_scope
        if not scope.endswith("/.default"):
            scope += "/.default"
        response = requests.post(
            self.oauth_endpoint,
            data={
                "grant_type": "client_credentials",
                "client_id": self.microsoft_app_id,
                "client_secret": self.microsoft_app_password,
                "scope": scope,
            },
            timeout=10,
        )
        payload = response.json()
        if response.status_code != 200 or "access_token" not in payload:
            raise PermissionError(f"Failed to get access token: {payload.get('error')}")
        self._token = str(payload["access_token"])
        self._expires_at = time.monotonic() + float(payload.get("expires_in", 3600)) - 60
        return self._token


class LocalTokenCredentialsFactory(PasswordServiceClientCredentialFactory):  # type: ignore[misc]
    """The password credentials factory, with tokens from a local endpoint instead of MSAL.

    App-id checks (``is_valid_app_id``, ``is_authentication_disabled``) are the SDK's own.
    """

    def __init__(self, app_id: str, password: str, token_url: str) -> None:
        super().__init__(app_id, password)
        self.token_url = token_url

    async def create_credentials(
        self,
        app_id: str,
        oauth_scope: str,
        login_endpoint: str,
        validate_authority: bool,
    ) -> Authentication:
        if await self.is_authentication_disabled():
            empty: Authentication = MicrosoftAppCredentials.empty()
            return empty
        if not await self.is_valid_app_id(app_id):
            raise PermissionError("Invalid app_id")
        return LocalAppCredentials(app_id, self.password, self.token_url, oauth_scope)
