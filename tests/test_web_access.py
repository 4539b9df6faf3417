"""Who may use the web chat and dashboard: CSRF, cookie flags, login beyond localhost, headers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.web import WebAccessError
from app.bootstrap import Services
from app.server import create_app
from app.settings import Settings, WebSettings
from bot.clock import FixedClock
from store.repositories import SqlStore
from tests.web_helpers import WebUser, make_services, start_client

pytestmark = pytest.mark.security

PASSWORD = "correct horse battery staple"
PUBLIC = {"/healthz", "/login", "/logout", "/static/{name}"}


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, scheduler_enabled=False)


@pytest.fixture
def remote_settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        scheduler_enabled=False,
        host="0.0.0.0",
        web=WebSettings(password=SecretStr(PASSWORD), session_secret=SecretStr("s" * 32)),
    )


@pytest.fixture
async def local(
    settings: Settings, engine: AsyncEngine, store: SqlStore, clock: FixedClock
) -> AsyncIterator[TestClient[Any, Any]]:
    client = await start_client(make_services(settings, engine, store, clock))
    yield client
    await client.close()


@pytest.fixture
async def remote(
    remote_settings: Settings, engine: AsyncEngine, store: SqlStore, clock: FixedClock
) -> AsyncIterator[TestClient[Any, Any]]:
    client = await start_client(make_services(remote_settings, engine, store, clock))
    yield client
    await client.close()


def protected_routes(client: TestClient[Any, Any]) -> list[tuple[str, str]]:
    app = client.server.app
    assert app is not None
    routes = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter", "")
        if route.method in ("GET", "POST") and path not in PUBLIC:
            routes.append((route.method, path))
    return routes


async def test_posts_need_the_csrf_token_even_on_localhost(local: TestClient[Any, Any]) -> None:
    user = WebUser(local)
    await user.open("/")
    body = {"user": "Dana", "text": "/touchbase help"}
    assert (await user.post("/api/chat/command", body, csrf=False)).status == 403
    response = await local.post(
        "/api/chat/command", json=body, headers={"X-CSRF-Token": "not-the-token"}
    )
    assert response.status == 403
    assert (await user.post("/api/chat/command", body)).status == 200
    # A request with no session cookie at all (another page's form post) is refused too.
    fresh = await start_client_like(local)
    try:
        response = await fresh.post(
            "/api/chat/command", json=body, headers={"X-CSRF-Token": user.csrf}
        )
        assert response.status == 403
    finally:
        await fresh.close()


async def start_client_like(client: TestClient[Any, Any]) -> TestClient[Any, Any]:
    """A second browser (its own cookie jar) on the same server."""
    other: TestClient[Any, Any] = TestClient(client.server)
    await other.start_server()
    return other


async def test_every_post_route_refuses_without_csrf(local: TestClient[Any, Any]) -> None:
    user = WebUser(local)
    await user.open("/")
    posts = [path for method, path in protected_routes(local) if method == "POST"]
    assert "/api/chat/command" in posts and "/api/chat/submit" in posts
    for path in posts:
        response = await user.post(path, {"user": "Dana"}, csrf=False)
        assert response.status == 403, path


async def test_session_cookie_flags_and_security_headers(local: TestClient[Any, Any]) -> None:
    response = await local.get("/")
    cookie = response.headers["Set-Cookie"]
    assert "touchbase_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http on localhost; https requests get Secure
    csp = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src and script_src.group(1).strip() == "'self'"
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = await response.text()
    assert "<script>" not in html and "onclick" not in html  # no inline script at all
    fresh = await start_client_like(local)
    try:
        https = await fresh.get("/", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in https.headers["Set-Cookie"]
    finally:
        await fresh.close()


async def test_localhost_refuses_other_host_names(local: TestClient[Any, Any]) -> None:
    """DNS rebinding: a page at evil.example resolved to 127.0.0.1 must not read the chat."""
    response = await local.get("/", headers={"Host": "evil.example:3978"})
    assert response.status == 403
    response = await local.get("/dashboard.csv", headers={"Host": "evil.example"})
    assert response.status == 403
    assert (await local.get("/", headers={"Host": "localhost:3978"})).status == 200


async def test_a_tampered_cookie_is_a_new_session(local: TestClient[Any, Any]) -> None:
    user = WebUser(local)
    await user.open("/")
    jar = local.session.cookie_jar
    value = next(c.value for c in jar if c.key == "touchbase_session")
    body = {"user": "Dana", "text": "/touchbase help"}
    fresh = await start_client_like(local)
    try:
        for cookie, status in ((value, 200), (value[:-2] + "xx", 403), ("x" + value, 403)):
            response = await fresh.post(
                "/api/chat/command",
                json=body,
                headers={"Cookie": f"touchbase_session={cookie}", "X-CSRF-Token": user.csrf},
            )
            assert response.status == status
    finally:
        await fresh.close()


async def test_beyond_localhost_every_page_and_api_needs_login(
    remote: TestClient[Any, Any],
) -> None:
    routes = protected_routes(remote)
    assert ("GET", "/") in routes and ("GET", "/dashboard") in routes
    assert ("GET", "/dashboard.csv") in routes
    await remote.get("/login")  # a session cookie, so POSTs fail on login, not on CSRF
    for method, path in routes:
        response = await remote.request(method, path, allow_redirects=False, json={})
        if path in ("/", "/dashboard") and method == "GET":
            assert response.status == 302, path
            assert response.headers["Location"].startswith("/login?next="), path
        else:
            assert response.status == 401, (method, path)


async def test_login_with_the_password_then_everything_works(
    remote: TestClient[Any, Any],
) -> None:
    user = WebUser(remote)
    await user.open("/login")
    wrong = await remote.post(
        "/login", data={"csrf": user.csrf, "password": "guess", "next": "/"}, allow_redirects=False
    )
    assert wrong.status == 401
    no_csrf = await remote.post("/login", data={"password": PASSWORD}, allow_redirects=False)
    assert no_csrf.status == 403
    right = await remote.post(
        "/login",
        data={"csrf": user.csrf, "password": PASSWORD, "next": "/dashboard"},
        allow_redirects=False,
    )
    assert right.status == 302
    assert right.headers["Location"] == "/dashboard"
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    await user.open("/")  # the signed-in session has a new id, so a new CSRF token
    reply = await user.say("Dana", "/touchbase help")
    assert reply["kind"] == "message"
    assert (await remote.get("/dashboard")).status == 200
    assert (await remote.get("/dashboard.csv")).status == 200


async def test_login_never_redirects_elsewhere(remote: TestClient[Any, Any]) -> None:
    user = WebUser(remote)
    await user.open("/login")
    response = await remote.post(
        "/login",
        data={"csrf": user.csrf, "password": PASSWORD, "next": "//evil.example/"},
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/"


async def test_logout_ends_the_session(remote: TestClient[Any, Any]) -> None:
    user = WebUser(remote)
    await user.open("/login")
    await remote.post("/login", data={"csrf": user.csrf, "password": PASSWORD, "next": "/"})
    await user.open("/")
    response = await remote.post("/logout", data={"csrf": user.csrf}, allow_redirects=False)
    assert response.status == 302
    assert (await remote.get("/api/chat/people")).status == 401


async def test_too_many_wrong_passwords_are_slowed_down(remote: TestClient[Any, Any]) -> None:
    user = WebUser(remote)
    await user.open("/login")
    statuses = []
    for _ in range(12):
        response = await remote.post("/login", data={"csrf": user.csrf, "password": "nope"})
        statuses.append(response.status)
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]


async def test_refuses_to_serve_beyond_localhost_without_a_password(
    db_url: str, engine: AsyncEngine, store: SqlStore, clock: FixedClock
) -> None:
    settings = Settings(database_url=db_url, scheduler_enabled=False, host="0.0.0.0")
    settings.web = WebSettings(password=None)
    services: Services = make_services(settings, engine, store, clock)
    with pytest.raises(WebAccessError, match="TOUCHBASE_WEB_PASSWORD"):
        create_app(services)


def test_the_command_refuses_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    from app.cli import main

    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("TOUCHBASE_WEB_PASSWORD", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "TOUCHBASE_WEB_PASSWORD" in capsys.readouterr().err


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "/\t/evil.example", "/%09/x\n", "https://evil.example/", "/\\evil", "x"],
)
def test_after_login_only_a_path_on_this_server(target: str) -> None:
    from adapters.web.auth import _safe_next

    assert _safe_next(target) == "/"
    assert _safe_next("/dashboard?workspace=3") == "/dashboard?workspace=3"
