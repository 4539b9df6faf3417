"""Self-test of FakeSlackApi, driven by the real slack_sdk AsyncWebClient."""

from __future__ import annotations

import warnings

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeSlackApi


def _client(fake: FakeSlackApi) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake.base_url)


@pytest.mark.asyncio
async def test_auth_test_answers_team_and_bot_identity() -> None:
    async with FakeSlackApi(team_id="T9", bot_user_id="U9BOT") as fake:
        response = await _client(fake).auth_test()
    assert response["ok"] is True
    assert (response["team_id"], response["user_id"], response["bot_id"]) == (
        "T9",
        "U9BOT",
        "B0BOT",
    )
    assert response["url"].startswith("https://")
    assert fake.calls("auth.test")[0].token == "xoxb-test"


@pytest.mark.asyncio
async def test_users_info_is_a_get_and_answers_the_registry() -> None:
    async with FakeSlackApi() as fake:
        fake.add_user("U1", "ada", tz="Europe/London", email="ada@example.com")
        response = await _client(fake).users_info(user="U1")
        missing = fake.calls()
        with pytest.raises(SlackApiError) as raised:
            await _client(fake).users_info(user="U404")

    user = response["user"]
    assert user["id"] == "U1"
    assert user["name"] == "ada"
    assert user["tz"] == "Europe/London"
    assert user["tz_offset"] in (0, 3600)
    assert user["profile"]["email"] == "ada@example.com"
    assert user["profile"]["display_name"] == "ada"
    assert user["real_name"]
    [call] = missing
    assert call.http_method == "GET"
    assert call.params == {"user": "U1"}
    assert call.token == "xoxb-test"
    assert raised.value.response["error"] == "user_not_found"


@pytest.mark.asyncio
async def test_chat_post_message_arrives_as_json_with_increasing_ts() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    async with FakeSlackApi() as fake:
        client = _client(fake)
        first = await client.chat_postMessage(channel="C1", text="hi", blocks=blocks)
        second = await client.chat_postMessage(channel="U7", text="dm")
        updated = await client.chat_update(channel="C1", ts=first["ts"], text="edited")
        with pytest.raises(SlackApiError) as raised:
            await client.chat_update(channel="C1", ts="1.000000", text="nope")

    assert first["channel"] == "C1"
    assert first["message"]["text"] == "hi"
    assert first["message"]["blocks"] == blocks
    assert float(second["ts"]) > float(first["ts"])
    assert second["channel"] == "DU7"
    assert updated["ts"] == first["ts"] and updated["text"] == "edited"
    assert raised.value.response["error"] == "message_not_found"
    call = fake.calls("chat.postMessage")[0]
    assert call.http_method == "POST"
    assert call.params["blocks"] == blocks  # a JSON body keeps structure
    assert call.token == "xoxb-test"


@pytest.mark.asyncio
async def test_views_conversations_and_oauth_defaults() -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    async with FakeSlackApi() as fake:
        client = _client(fake)
        opened = await client.views_open(trigger_id="123.456", view=view)
        updated = await client.views_update(view_id=opened["view"]["id"], view=view)
        home = await client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
        dm = await client.conversations_open(users="U1")
        with warnings.catch_warnings():
            # slack_sdk builds an aiohttp.BasicAuth for the client id/secret (deprecated there).
            warnings.simplefilter("ignore", DeprecationWarning)
            install = await AsyncWebClient(base_url=fake.base_url).oauth_v2_access(
                client_id="cid", client_secret="secret", code="abc"
            )
        socket = AsyncWebClient(token="xapp-1", base_url=fake.base_url)
        with pytest.raises(SlackApiError):
            await socket.apps_connections_open(app_token="xapp-1")
        fake.socket_mode_url = "ws://127.0.0.1:1/socket"
        connection = await socket.apps_connections_open(app_token="xapp-1")
        with pytest.raises(SlackApiError) as unknown:
            await client.api_call("no.such.method")

    assert opened["view"]["id"].startswith("V")
    assert updated["view"]["id"] == opened["view"]["id"]
    assert home["view"]["type"] == "home"
    assert dm["channel"]["id"] == "DU1"
    assert install["access_token"].startswith("xoxb-")
    assert install["team"] == {"id": "T0FAKE", "name": "Fake Workspace"}
    assert install["bot_user_id"] == "U0BOT"
    assert install["authed_user"]["id"]
    oauth = fake.calls("oauth.v2.access")[0]
    assert (oauth.params["code"], oauth.params["client_id"], oauth.token) == ("abc", "cid", None)
    assert connection["url"] == "ws://127.0.0.1:1/socket"
    assert unknown.value.response["error"] == "unknown_method"


@pytest.mark.asyncio
async def test_form_body_and_token_field_are_accepted() -> None:
    async with FakeSlackApi() as fake, aiohttp.ClientSession() as session:
        async with session.post(
            f"{fake.base_url}chat.postMessage",
            data={"token": "xoxb-form", "channel": "C1", "text": "from a form"},
        ) as response:
            body = await response.json()
        async with session.post(f"{fake.base_url}auth.test") as response:
            unauthenticated = await response.json()
    assert body["ok"] is True
    call = fake.calls("chat.postMessage")[0]
    assert call.token == "xoxb-form"
    assert call.params == {"channel": "C1", "text": "from a form"}
    assert unauthenticated == {"ok": False, "error": "not_authed"}


@pytest.mark.asyncio
async def test_429_with_retry_after_is_retried_by_the_sdk_handler() -> None:
    async with FakeSlackApi() as fake:
        client = _client(fake)
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
        # Retry-After: 0 keeps the handler's wait under a second.
        fake.fail_next("chat.postMessage", status=429, retry_after=0)
        response = await client.chat_postMessage(channel="C1", text="hello")

    assert response["ok"] is True
    first, second = fake.calls("chat.postMessage")
    assert first.status == 429
    assert first.response == {"ok": False, "error": "ratelimited"}
    assert second.status == 200
    assert second.at >= first.at


@pytest.mark.asyncio
async def test_retry_after_header_and_5xx_faults() -> None:
    async with FakeSlackApi() as fake, aiohttp.ClientSession() as session:
        fake.fail_next("chat.postMessage", status=429, retry_after=2.5)
        fake.fail_next("chat.postMessage", status=503, times=2)
        url = f"{fake.base_url}chat.postMessage"
        payload = {"channel": "C1", "text": "x"}
        headers = {"Authorization": "Bearer xoxb-test"}
        statuses: list[tuple[int, str | None]] = []
        for _ in range(4):
            async with session.post(url, json=payload, headers=headers) as response:
                statuses.append((response.status, response.headers.get("Retry-After")))
    assert statuses == [(429, "3"), (503, None), (503, None), (200, None)]


@pytest.mark.asyncio
async def test_ok_false_error_raises_slack_api_error() -> None:
    async with FakeSlackApi() as fake:
        fake.fail_next("chat.postMessage", error="channel_not_found")
        with pytest.raises(SlackApiError) as raised:
            await _client(fake).chat_postMessage(channel="C404", text="hello")
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "channel_not_found"
    assert len(fake.calls("chat.postMessage")) == 1


@pytest.mark.asyncio
async def test_rate_limit_mode_is_per_channel() -> None:
    async with FakeSlackApi() as fake:
        fake.rate_limit(per_channel_per_second=0.5, burst=1)
        client = _client(fake)
        await client.chat_postMessage(channel="C1", text="1")
        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel="C1", text="2")
        await client.chat_postMessage(channel="C2", text="other channel")
        fake.rate_limit(None)
        await client.chat_postMessage(channel="C1", text="3")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] in (["2"], "2")
    assert [c.status for c in fake.calls("chat.postMessage")] == [200, 429, 200, 200]


@pytest.mark.asyncio
async def test_response_url_posts_are_recorded_and_limited() -> None:
    async with FakeSlackApi() as fake, aiohttp.ClientSession() as session:
        url = fake.response_url("abc")
        assert url == f"{fake.url}response/abc"
        statuses = []
        for n in range(6):
            async with session.post(url, json={"text": f"reply {n}"}) as response:
                statuses.append(response.status)
        waited = await fake.wait_for("response_url", count=6)
    assert statuses == [200, 200, 200, 200, 200, 404]
    assert waited[0].params == {"text": "reply 0"}
    assert waited[0].path == "/response/abc"
    assert waited[-1].response == {"ok": False, "error": "used_url"}
