"""Self-test of FakeBotConnector, driven by the real botbuilder CloudAdapter (no-auth mode)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.models import ErrorResponseException

from tests.fakes.bot_connector import FakeBotConnector


class NoAuthConfig:
    """Empty app id and password: the unauthenticated mode the Emulator uses."""

    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class EchoBot(ActivityHandler):  # type: ignore[misc]
    def __init__(self) -> None:
        self.references: list[ConversationReference] = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        self.references.append(TurnContext.get_conversation_reference(turn_context.activity))
        await turn_context.send_activity(f"echo: {turn_context.activity.text}")


@dataclass
class Harness:
    connector: FakeBotConnector
    adapter: CloudAdapter
    bot: EchoBot
    messages_url: str
    session: aiohttp.ClientSession


@pytest_asyncio.fixture
async def harness() -> AsyncIterator[Harness]:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(NoAuthConfig()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await adapter.process(request, bot)
        return response if response is not None else web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        async with FakeBotConnector() as connector, aiohttp.ClientSession() as session:
            yield Harness(connector, adapter, bot, f"http://127.0.0.1:{port}/api/messages", session)
    finally:
        await runner.cleanup()


def message_activity(service_url: str, text: str = "hi") -> dict[str, Any]:
    return {
        "type": "message",
        "id": "1700000000001",
        "text": text,
        "serviceUrl": service_url,
        "channelId": "msteams",
        "conversation": {"id": "a:1conv-personal", "conversationType": "personal"},
        "from": {"id": "29:user-1", "name": "Ada", "aadObjectId": "aad-user-1"},
        "recipient": {"id": "28:bot-1", "name": "Touchbase"},
        "channelData": {"tenant": {"id": "tenant-1"}},
    }


@pytest.mark.asyncio
async def test_reply_reaches_the_fake_connector(harness: Harness) -> None:
    activity = message_activity(harness.connector.service_url, "hello")
    async with harness.session.post(harness.messages_url, json=activity) as response:
        assert response.status == 201

    [call] = await harness.connector.wait_for("reply")
    assert call.method == "POST"
    assert call.conversation_id == "a:1conv-personal"
    assert call.activity_id == "1700000000001"
    assert call.path == "/v3/conversations/a:1conv-personal/activities/1700000000001"
    assert call.body["type"] == "message"
    assert call.body["text"] == "echo: hello"
    assert call.body["replyToId"] == "1700000000001"
    assert call.body["recipient"]["id"] == "29:user-1"
    assert "Authorization" not in call.headers  # no-auth mode sends no token
    assert harness.connector.activities() == [call.body]


@pytest.mark.asyncio
async def test_continue_conversation_with_a_json_round_tripped_reference(
    harness: Harness,
) -> None:
    activity = message_activity(harness.connector.service_url)
    async with harness.session.post(harness.messages_url, json=activity) as response:
        assert response.status == 201
    stored = json.dumps(harness.bot.references[0].serialize())
    reference = ConversationReference().deserialize(json.loads(stored))
    harness.connector.clear_calls()

    async def proactive(turn_context: TurnContext) -> None:
        await turn_context.send_activity("a nudge")

    await harness.adapter.continue_conversation(reference, proactive, "")

    [call] = harness.connector.calls()
    assert call.operation == "reply"  # continuation posts to /activities/{replyToId}
    assert call.conversation_id == "a:1conv-personal"
    assert call.body["text"] == "a nudge"
    assert call.body["conversation"]["id"] == "a:1conv-personal"


@pytest.mark.asyncio
async def test_update_delete_create_and_member_lookup(harness: Harness) -> None:
    connector = harness.connector
    connector.add_member("29:user-1", "Ada Lovelace", aad_object_id="aad-user-1", email="a@x.org")
    reference = ConversationReference(
        channel_id="msteams",
        service_url=connector.service_url,
        conversation=ConversationAccount(id="a:1conv-personal"),
        user=ChannelAccount(id="29:user-1"),
        bot=ChannelAccount(id="28:bot-1"),
    )
    seen: dict[str, Any] = {}

    async def logic(turn_context: TurnContext) -> None:
        sent = await turn_context.send_activity("v1")
        assert sent is not None
        update = Activity(type=ActivityTypes.message, id=sent.id, text="v2")
        await turn_context.update_activity(update)
        await turn_context.delete_activity(sent.id)
        turn_context.activity.channel_data = {"tenant": {"id": "tenant-1"}}
        member = await TeamsInfo.get_member(turn_context, "29:user-1")
        seen["member"] = member
        with pytest.raises(ErrorResponseException):
            await TeamsInfo.get_member(turn_context, "29:nobody")

    await harness.adapter.continue_conversation(reference, logic, "")

    params = ConversationParameters(
        is_group=False,
        bot=ChannelAccount(id="28:bot-1"),
        members=[ChannelAccount(id="29:user-1")],
        tenant_id="tenant-1",
    )

    async def on_created(turn_context: TurnContext) -> None:
        seen["new_conversation"] = turn_context.activity.conversation.id

    await harness.adapter.create_conversation(
        "", on_created, params, "msteams", connector.service_url
    )

    ops = [c.operation for c in connector.calls()]
    assert ops == ["reply", "update", "delete", "get_member", "get_member", "create"]
    assert connector.calls("update")[0].body["text"] == "v2"
    assert connector.calls("update")[0].method == "PUT"
    assert connector.calls("get_member")[1].status == 404
    assert seen["member"].aad_object_id == "aad-user-1"
    assert seen["member"].email == "a@x.org"
    assert seen["new_conversation"].startswith("a:new-conv-")
    assert connector.calls("create")[0].body["members"][0]["id"] == "29:user-1"


@pytest.mark.asyncio
async def test_fail_next_answers_the_injected_status(harness: Harness) -> None:
    connector = harness.connector
    connector.fail_next(status=429, retry_after=2, times=2)
    connector.fail_next(status=403, operation="reply")
    url = f"{connector.service_url}v3/conversations/a:1/activities/9"
    statuses = []
    for _ in range(4):
        async with harness.session.post(url, json={"type": "message"}) as response:
            statuses.append((response.status, response.headers.get("Retry-After")))
            body = await response.json()
    assert statuses == [(429, "2"), (429, "2"), (403, None), (200, None)]
    assert "id" in body
    assert connector.calls()[2].response["error"]["code"] == "ConversationBlockedByUser"

    # The SDK surfaces an injected failure as ErrorResponseException.
    connector.fail_next(status=502)
    activity = message_activity(connector.service_url)
    reference = TurnContext.get_conversation_reference(Activity().deserialize(activity))

    async def send(turn_context: TurnContext) -> None:
        await turn_context.send_activity("x")

    with pytest.raises(ErrorResponseException) as raised:
        await harness.adapter.continue_conversation(reference, send, "")
    assert raised.value.response.status_code == 502
