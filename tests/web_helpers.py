"""Shared by the web tests: Services over the test store, and a small browser-like client."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from app.bootstrap import Services
from app.server import create_app
from app.settings import Settings
from bot.app import Touchbase
from bot.clock import Clock
from bot.commands import default_registry
from bot.config import CoreConfig
from store.repositories import SqlStore

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
_HIDDEN_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def make_services(
    settings: Settings,
    engine: AsyncEngine,
    store: SqlStore,
    clock: Clock,
    config: CoreConfig | None = None,
) -> Services:
    app = Touchbase(store, clock, config or CoreConfig(), default_registry())
    return Services(settings=settings, engine=engine, store=store, clock=clock, app=app)


class WebUser:
    """One browser: a cookie jar, the page's CSRF token and JSON calls like chat.js makes."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client
        self.csrf = ""

    async def open(self, path: str = "/") -> str:
        response = await self.client.get(path)
        assert response.status == 200, await response.text()
        html = await response.text()
        found = _CSRF.search(html) or _HIDDEN_CSRF.search(html)
        assert found, html[:500]
        self.csrf = found.group(1)
        return html

    async def post(self, path: str, body: dict[str, Any], *, csrf: bool = True) -> Any:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        return await self.client.post(path, json=body, headers=headers)

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.post(path, body)
        assert response.status == 200, await response.text()
        data: dict[str, Any] = await response.json()
        return data

    async def say(self, user: str, text: str) -> dict[str, Any]:
        return await self.call("/api/chat/command", {"user": user, "text": text})

    async def click(self, user: str, action_id: str, value: str) -> dict[str, Any]:
        return await self.call(
            "/api/chat/action", {"user": user, "action_id": action_id, "value": value}
        )


def button_value(html: str, action_id: str) -> str:
    found = re.search(rf'data-action-id="{re.escape(action_id)}" data-value="([^"]*)"', html)
    assert found, f"no {action_id} button in {html}"
    return found.group(1)


async def start_client(services: Services) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(services)))
    await client.start_server()
    return client
