"""Self-test of FakeOpenIdIssuer with a real, authenticating botbuilder CloudAdapter.

Two configurations are exercised (see the docstring of ``tests.fakes.openid``):

* ``public``: production's public-cloud validation path, with
  ``ChannelValidation.open_id_metadata_endpoint`` pointed at the fake;
* ``parameterized``: ``TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL`` and friends on the config.

The raw ``CloudAdapter.process`` answers some bad tokens with 500; those expectations pin the
SDK's behaviour, and ``authenticate_then_process`` shows the translation that gives 401 for all.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
import pytest
import pytest_asyncio
from aiohttp import web
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import ChannelValidation
from jwt.algorithms import RSAAlgorithm

from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.openid import BOT_FRAMEWORK_ISSUER, FakeOpenIdIssuer

APP_ID = "test-app-id"
APP_PASSWORD = "test-app-password"


class AuthConfig:
    APP_ID = APP_ID
    APP_PASSWORD = APP_PASSWORD
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


def make_adapter(
    mode: str, issuer: FakeOpenIdIssuer, monkeypatch: pytest.MonkeyPatch
) -> CloudAdapter:
    """The recipe: inbound validation against the fake issuer, outbound tokens from its /token."""
    config = AuthConfig()
    if mode == "public":
        monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", issuer.metadata_url)
    else:
        config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = issuer.metadata_url  # type: ignore[attr-defined]
        config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = issuer.issuer  # type: ignore[attr-defined]
        config.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = BOT_FRAMEWORK_ISSUER  # type: ignore[attr-defined]
        config.TO_CHANNEL_FROM_BOT_LOGIN_URL = issuer.token_url  # type: ignore[attr-defined]
    auth = ConfigurationBotFrameworkAuthentication(
        config, credentials_factory=issuer.credentials_factory(APP_ID, APP_PASSWORD)
    )
    return CloudAdapter(auth)


async def authenticate_then_process(
    adapter: CloudAdapter, request: web.Request, bot: ActivityHandler
) -> web.Response:
    """Answer 401 for every authentication failure, 500 only for the bot's own errors."""
    activity = Activity().deserialize(await request.json())
    header = request.headers.get("Authorization", "")
    try:
        result = await adapter.bot_framework_authentication.authenticate_request(activity, header)
    except Exception:
        return web.Response(status=401)
    invoke_response = await adapter.process_activity(result, activity, bot.on_turn)
    if invoke_response:
        return web.json_response(invoke_response.body, status=invoke_response.status)
    return web.Response(status=201)


class EchoBot(ActivityHandler):  # type: ignore[misc]
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(f"echo: {turn_context.activity.text}")


@dataclass
class Stack:
    issuer: FakeOpenIdIssuer
    connector: FakeBotConnector
    session: aiohttp.ClientSession
    base_url: str
    escaped: list[BaseException] = field(default_factory=list)

    def activity(self) -> dict[str, Any]:
        return {
            "type": "message",
            "id": "1700000000001",
            "text": "hello",
            "serviceUrl": self.connector.service_url,
            "channelId": "msteams",
            "conversation": {"id": "a:1conv-personal"},
            "from": {"id": "29:user-1", "aadObjectId": "aad-user-1"},
            "recipient": {"id": "28:bot-1"},
        }

    async def post(self, route: str, token: str | None) -> int:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        url = f"{self.base_url}{route}"
        async with self.session.post(url, json=self.activity(), headers=headers) as response:
            return response.status


@pytest_asyncio.fixture(params=["public", "parameterized"])
async def stack(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Stack]:
    async with (
        FakeOpenIdIssuer() as issuer,
        FakeBotConnector() as connector,
        aiohttp.ClientSession() as session,
    ):
        adapter = make_adapter(request.param, issuer, monkeypatch)
        bot = EchoBot()
        escaped: list[BaseException] = []

        async def raw(req: web.Request) -> web.StreamResponse:
            try:
                response = await adapter.process(req, bot)
            except web.HTTPException:
                raise
            except Exception as error:
                escaped.append(error)
                raise
            return response if response is not None else web.Response(status=201)

        async def strict(req: web.Request) -> web.StreamResponse:
            return await authenticate_then_process(adapter, req, bot)

        app = web.Application()
        app.router.add_post("/raw", raw)
        app.router.add_post("/strict", strict)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base_url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
        try:
            yield Stack(issuer, connector, session, base_url, escaped)
        finally:
            await runner.cleanup()


@pytest.mark.asyncio
@pytest.mark.parametrize("route", ["raw", "strict"])
async def test_valid_token_reaches_the_bot_and_the_reply_is_signed_locally(
    stack: Stack, route: str
) -> None:
    token = stack.issuer.channel_token(APP_ID, stack.connector.service_url)
    assert await stack.post(route, token) == 201

    [reply] = stack.connector.calls("reply")
    assert reply.body["text"] == "echo: hello"
    scheme, _, bearer = reply.headers["Authorization"].partition(" ")
    assert scheme == "Bearer"
    public_key = RSAAlgorithm.from_jwk(json.dumps(stack.issuer.jwks()["keys"][0]))
    claims = jwt.decode(bearer, public_key, algorithms=["RS256"], audience=BOT_FRAMEWORK_ISSUER)  # type: ignore[arg-type]
    assert claims["appid"] == APP_ID
    [grant] = stack.issuer.token_requests()
    assert (grant.client_id, grant.scope, grant.granted) == (
        APP_ID,
        f"{BOT_FRAMEWORK_ISSUER}/.default",
        True,
    )


TokenMaker = Callable[[FakeOpenIdIssuer, str], str | None]

BAD_TOKENS: dict[str, TokenMaker] = {
    "wrong_audience": lambda i, url: i.channel_token("someone-else", url),
    "wrong_issuer": lambda i, url: i.sign(
        {"aud": APP_ID, "serviceurl": url, "iss": "https://issuer.invalid"}
    ),
    "serviceurl_mismatch": lambda i, url: i.channel_token(APP_ID, "http://127.0.0.1:9/"),
    "missing_header": lambda i, url: None,
    "expired": lambda i, url: i.channel_token(APP_ID, url, expires_in=-3600),
    "bad_signature": lambda i, url: i.sign({"aud": APP_ID, "serviceurl": url}, key=i.wrong_key),
    "unknown_kid": lambda i, url: i.sign(
        {"aud": APP_ID, "serviceurl": url}, kid="no-such-key", key=i.wrong_key
    ),
    "not_a_jwt": lambda i, url: "garbage",
}

# What CloudAdapter.process itself answers (botbuilder 4.17.1): status, escaping exception.
RAW_OUTCOME: dict[str, tuple[int, str | None]] = {
    "wrong_audience": (401, None),
    "wrong_issuer": (401, None),
    "serviceurl_mismatch": (401, None),
    "missing_header": (401, None),  # parameterized path: 500 AttributeError, see below
    "expired": (500, "ExpiredSignatureError"),
    "bad_signature": (500, "InvalidSignatureError"),
    "unknown_kid": (500, "IndexError"),
    "not_a_jwt": (500, "DecodeError"),
}
RAW_OUTCOME_PARAMETERIZED = {**RAW_OUTCOME, "missing_header": (500, "AttributeError")}


@pytest.mark.asyncio
@pytest.mark.parametrize("case", list(BAD_TOKENS))
async def test_bad_tokens_with_the_raw_adapter(
    stack: Stack, case: str, request: pytest.FixtureRequest
) -> None:
    mode = request.node.callspec.params["stack"]
    expected = (RAW_OUTCOME if mode == "public" else RAW_OUTCOME_PARAMETERIZED)[case]
    token = BAD_TOKENS[case](stack.issuer, stack.connector.service_url)

    status = await stack.post("raw", token)

    escaped = [type(error).__name__ for error in stack.escaped]
    assert (status, escaped[0] if escaped else None) == expected
    assert stack.connector.calls() == []


@pytest.mark.asyncio
@pytest.mark.parametrize("case", list(BAD_TOKENS))
async def test_bad_tokens_get_401_when_authentication_is_translated(
    stack: Stack, case: str
) -> None:
    token = BAD_TOKENS[case](stack.issuer, stack.connector.service_url)
    assert await stack.post("strict", token) == 401
    assert stack.connector.calls() == []


@pytest.mark.asyncio
async def test_metadata_keys_and_token_endpoint() -> None:
    async with (
        FakeOpenIdIssuer(clients={"app": "secret"}) as issuer,
        aiohttp.ClientSession() as session,
    ):
        async with session.get(issuer.metadata_url) as response:
            metadata = await response.json()
        async with session.get(metadata["jwks_uri"]) as response:
            keys = await response.json()
        async with session.post(
            issuer.token_url,
            data={"grant_type": "client_credentials", "client_id": "app", "client_secret": "no"},
        ) as response:
            refused = response.status
        token = issuer.sign({"aud": "x"}, expires_in=60)

    assert metadata["issuer"] == BOT_FRAMEWORK_ISSUER
    assert metadata["jwks_uri"] == issuer.jwks_url
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    [key] = keys["keys"]
    assert key["kid"] == issuer.kid
    assert key["endorsements"] == ["msteams"]
    assert jwt.get_unverified_header(token)["kid"] == issuer.kid
    decoded = jwt.decode(
        token,
        RSAAlgorithm.from_jwk(json.dumps(key)),  # type: ignore[arg-type]
        algorithms=["RS256"],
        audience="x",
    )
    assert decoded["iss"] == BOT_FRAMEWORK_ISSUER
    assert refused == 401
    assert issuer.token_requests()[0].granted is False
