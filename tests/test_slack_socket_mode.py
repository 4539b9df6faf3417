"""Socket Mode: apps.connections.open on FakeSlackApi, then a local WebSocket server playing
Slack's socket, carrying a slash command envelope in and bolt's ack out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.runtime import EVENTS_PATH, start_socket_mode
from bot.clock import FixedClock
from store.repositories import SqlStore
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    USER,
    Harness,
    slack_fake_fixture,
    slack_settings,
    start_harness,
)


class FakeSocket:
    """Slack's end of a Socket Mode connection, on 127.0.0.1."""

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.socket: web.WebSocketResponse | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/link", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"ws://127.0.0.1:{port}/link"

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.socket = ws
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})
        self.connected.set()
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await self.replies.put(json.loads(message.data))
        return ws

    async def send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        assert self.socket is not None
        await self.socket.send_json(envelope)
        async with asyncio.timeout(5):
            while True:
                reply = await self.replies.get()
                if reply.get("envelope_id") == envelope["envelope_id"]:
                    return reply


@pytest.fixture
async def socket(slack_fake: FakeSlackApi) -> AsyncIterator[FakeSocket]:
    fake_socket = FakeSocket()
    await fake_socket.start()
    slack_fake.socket_mode_url = fake_socket.url
    yield fake_socket
    await fake_socket.close()


@pytest.fixture
async def socket_only(
    db_url: str, engine: AsyncEngine, store: SqlStore, clock: FixedClock, slack_fake: FakeSlackApi
) -> AsyncIterator[Harness]:
    settings = slack_settings(slack_fake, signing_secret=None, app_token=SecretStr("xapp-1-test"))
    async for harness in start_harness(db_url, engine, store, clock, slack_fake, settings):
        yield harness


def _command_envelope(envelope_id: str, text: str, command: str) -> dict[str, Any]:
    return {
        "envelope_id": envelope_id,
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            "token": "legacy",
            "team_id": "T0FAKE",
            "team_domain": "fake-workspace",
            "channel_id": "C0GENERAL",
            "user_id": USER,
            "user_name": "ada",
            "command": command,
            "text": text,
            "api_app_id": "A0FAKE",
            "response_url": "http://127.0.0.1:9/unused",
            "trigger_id": f"trig-{envelope_id}",
        },
    }


async def test_commands_arrive_and_are_acked_over_socket_mode(
    socket_only: Harness, socket: FakeSocket
) -> None:
    app = socket_only.http.server.app
    assert app is not None
    assert not any(
        getattr(r, "resource", None) is not None and r.resource.canonical == EVENTS_PATH
        for r in app.router.routes()
    )  # no signing secret: no public endpoint
    stop = await start_socket_mode(app, socket_only.services)
    assert stop is not None
    try:
        await asyncio.wait_for(socket.connected.wait(), 5)
        [opened] = socket_only.fake.calls("apps.connections.open")
        assert opened.token == "xapp-1-test"

        reply = await socket.send(_command_envelope("env-1", "add Acme", "/client"))
        assert "Added Acme" in reply["payload"]["text"]
        reply = await socket.send(_command_envelope("env-2", "Acme lunch with the CFO", "/touch"))
        assert "Logged lunch" in reply["payload"]["text"]
        assert len(await socket_only.touches()) == 1
    finally:
        await stop()
