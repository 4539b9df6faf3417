"""Web sign-in kept server-side, on both engines: signing out revokes the session (a copied
cookie stops working), a session ends after its hours, and failed passwords lock the account,
not an address, with a lock that doubles, survives a restart and is shared by every replica."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.web.auth import SESSION_COOKIE, SESSION_HOURS
from app.settings import Settings, WebSettings
from bot.clock import FixedClock
from store.repositories import SqlStore
from tests.web_helpers import WebUser, make_services, start_client

pytestmark = pytest.mark.security

PASSWORD = "correct horse battery staple"


@pytest.fixture
def remote_settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        scheduler_enabled=False,
        host="0.0.0.0",
        web=WebSettings(password=SecretStr(PASSWORD), session_secret=SecretStr("s" * 32)),
    )


@pytest.fixture
async def replicas(
    remote_settings: Settings, engine: AsyncEngine, store: SqlStore, clock: FixedClock
) -> AsyncIterator[list[TestClient[Any, Any]]]:
    """Two servers on one database, as two replicas (or one before and after a restart)."""
    clients = [
        await start_client(make_services(remote_settings, engine, store, clock)) for _ in range(2)
    ]
    yield clients
    for client in clients:
        await client.close()


async def sign_in(client: TestClient[Any, Any], password: str = PASSWORD) -> int:
    user = WebUser(client)
    await user.open("/login")
    response = await client.post(
        "/login", data={"csrf": user.csrf, "password": password, "next": "/"}, allow_redirects=False
    )
    return response.status


def cookie(client: TestClient[Any, Any]) -> str:
    [value] = [c.value for c in client.session.cookie_jar if c.key == SESSION_COOKIE]
    return value


async def with_cookie(client: TestClient[Any, Any], value: str, path: str) -> int:
    client.session.cookie_jar.clear()
    response = await client.get(path, headers={"Cookie": f"{SESSION_COOKIE}={value}"})
    return response.status


async def test_signing_out_revokes_the_session_even_for_a_copied_cookie(
    replicas: list[TestClient[Any, Any]],
) -> None:
    first, other = replicas
    assert await sign_in(first) == 302
    stolen = cookie(first)
    assert await with_cookie(other, stolen, "/api/chat/people") == 200  # any replica honours it

    first.session.cookie_jar.clear()
    first.session.cookie_jar.update_cookies({SESSION_COOKIE: stolen})
    user = WebUser(first)
    await user.open("/")
    response = await first.post("/logout", data={"csrf": user.csrf}, allow_redirects=False)
    assert response.status == 302

    assert await with_cookie(other, stolen, "/api/chat/people") == 401
    assert await with_cookie(first, stolen, "/api/chat/people") == 401


async def test_a_session_ends_after_its_hours(
    replicas: list[TestClient[Any, Any]], clock: FixedClock
) -> None:
    first, _ = replicas
    assert await sign_in(first) == 302
    value = cookie(first)
    assert await with_cookie(first, value, "/api/chat/people") == 200
    clock.advance(timedelta(hours=SESSION_HOURS, minutes=1))
    assert await with_cookie(first, value, "/api/chat/people") == 401


async def test_wrong_passwords_lock_the_account_everywhere_with_a_doubling_lock(
    replicas: list[TestClient[Any, Any]], clock: FixedClock
) -> None:
    first, other = replicas
    assert [await sign_in(first, "nope") for _ in range(10)] == [401] * 10
    # Locked for the account: another browser, another replica, even the right password.
    assert await sign_in(other) == 429
    assert await sign_in(first) == 429

    clock.advance(timedelta(minutes=1, seconds=1))  # the first lock is a minute
    assert await sign_in(other, "nope") == 401  # one more failure: locked twice as long
    clock.advance(timedelta(minutes=1, seconds=1))
    assert await sign_in(first) == 429
    clock.advance(timedelta(minutes=1))
    assert await sign_in(first) == 302  # and a success clears the count
    assert await sign_in(other, "nope") == 401
    assert await sign_in(other) == 302
