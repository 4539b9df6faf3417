"""The web chat over HTTP: commands, buttons and forms through the same core as Slack and Teams."""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings
from bot.app import Outbound
from bot.clock import FixedClock
from bot.domain import Platform
from bot.messages import Message, Tone
from store.repositories import SqlStore
from tests.web_helpers import WebUser, button_value, make_services, start_client


@pytest.fixture
async def client(
    db_url: str, engine: AsyncEngine, store: SqlStore, clock: FixedClock
) -> AsyncIterator[TestClient[Any, Any]]:
    services = make_services(
        Settings(database_url=db_url, scheduler_enabled=False), engine, store, clock
    )
    client = await start_client(services)
    yield client
    await client.close()


@pytest.fixture
async def user(client: TestClient[Any, Any]) -> WebUser:
    user = WebUser(client)
    await user.open("/")
    return user


async def web_touches(store: SqlStore) -> list[Any]:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        return list(await uow.touches.all())


async def test_touch_through_the_api_is_stored(user: WebUser, store: SqlStore) -> None:
    added = await user.say("Dana", "/client add Acme")
    assert added["kind"] == "message"
    assert "Added Acme" in added["html"]
    reply = await user.say("Dana", "/touch Acme lunch with CFO")
    assert reply["kind"] == "message"
    assert "tone-success" in reply["html"]
    assert "Logged lunch" in reply["text"]
    touches = await web_touches(store)
    assert len(touches) == 1
    assert touches[0].kind.value == "lunch"
    people = await (await user.client.get("/api/chat/people")).json()
    assert people["people"] == ["Dana"]


async def test_a_button_on_the_reply_opens_the_client(user: WebUser) -> None:
    await user.say("Dana", "/client add Acme")
    reply = await user.say("Dana", "/touch Acme lunch with CFO")
    card = await user.click("Dana", "client_open", button_value(reply["html"], "client_open"))
    assert card["kind"] == "message"
    assert "Acme" in card["html"]
    assert "Owner" in card["html"] and "Dana" in card["html"]


async def test_the_log_touch_form_shows_errors_inline_then_logs(
    user: WebUser, store: SqlStore
) -> None:
    await user.say("Dana", "/client add Acme")
    reply = await user.say("Dana", "/touch Acme call")
    form = await user.click("Dana", "log_touch_open", button_value(reply["html"], "log_touch_open"))
    assert form["kind"] == "form"
    assert 'data-form-id="log_touch"' in form["html"]
    assert 'data-error-for="client"' in form["html"]  # where an inline error goes
    assert '<option value="Acme">' in form["html"]  # the client picker's suggestions
    bad = await user.call(
        "/api/chat/submit",
        {
            "user": "Dana",
            "form_id": "log_touch",
            "values": {"client": "Nobody Inc", "kind": "call", "date": "2099-01-01"},
            "private_value": "",
        },
    )
    assert bad["kind"] == "errors"
    assert set(bad["errors"]) == {"client", "date"}
    good = await user.call(
        "/api/chat/submit",
        {
            "user": "Dana",
            "form_id": "log_touch",
            "values": {"client": "Acme", "kind": "coffee", "date": "2026-11-20", "note": "ok"},
            "private_value": "",
        },
    )
    assert good["kind"] == "message" and "Logged coffee" in good["text"]
    assert len(await web_touches(store)) == 2


async def test_user_text_is_escaped_in_the_rendered_html(user: WebUser, store: SqlStore) -> None:
    added = await user.say("Dana", '/client add <b>Bold</b> & "Co"')
    assert "<b>" not in added["html"]
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &quot;Co&quot;" in added["html"]
    await user.say("Dana", "/client add Acme")
    reply = await user.say("Dana", "/touch Acme call <script>alert(1)</script> about the deal")
    assert "Logged call" in reply["text"]
    assert "<script>" not in reply["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in reply["html"]
    touches = await web_touches(store)
    assert "<script>alert(1)</script>" in touches[0].note  # stored as typed, escaped on output
    # Button values travel in attributes: quotes are escaped too.
    value = button_value(reply["html"], "client_open")
    assert htmllib.unescape(value).isdigit()


async def test_messages_for_other_people_wait_in_their_inbox(
    user: WebUser, client: TestClient[Any, Any]
) -> None:
    await user.say("Dana", "/touchbase help")
    app = client.server.app
    assert app is not None
    from app.server import SERVICES

    services = app[SERVICES]
    note = Message(text="Acme is yours now <3", tone=Tone.INFO)
    [ws] = [w for w in await services.store.workspaces() if w.platform is Platform.CONSOLE]
    async with services.store.unit(ws.id) as uow:  # through the outbox, as a handler's would
        ids = await services.app.queue(
            uow, Platform.CONSOLE, [Outbound({"user": "bob", "name": "Bob"}, note)]
        )
        await uow.commit()
    await services.app.drain(ids)
    inbox = await user.call("/api/chat/inbox", {"user": "Bob"})
    assert [i["label"] for i in inbox["items"]] == ["Direct message"]
    assert "Acme is yours now &lt;3" in inbox["items"][0]["html"]
    again = await user.call("/api/chat/inbox", {"user": "Bob"})
    assert again["items"] == []
    assert (await user.call("/api/chat/inbox", {"user": "Dana"}))["items"] == []


async def test_the_morning_digest_once_a_day(user: WebUser, client: TestClient[Any, Any]) -> None:
    from app.server import SERVICES

    app = client.server.app
    assert app is not None
    if "due" not in app[SERVICES].app.registry.commands:
        pytest.skip("the /due command is not in this tree yet")
    first = await user.call("/api/chat/digest", {"user": "Dana"})
    assert first["kind"] == "message"
    second = await user.call("/api/chat/digest", {"user": "Dana"})
    assert second["kind"] == "none"
    forced = await user.call("/api/chat/digest", {"user": "Dana", "force": True})
    assert forced["kind"] == "message"


async def test_text_without_a_slash_gets_a_hint(user: WebUser) -> None:
    reply = await user.say("Dana", "hello there")
    assert "Commands start with a slash" in reply["text"]


async def test_a_name_is_required(user: WebUser) -> None:
    response = await user.post("/api/chat/command", {"user": "  ", "text": "/touchbase help"})
    assert response.status == 400
    response = await user.post("/api/chat/command", {"user": "<x>", "text": "/touchbase help"})
    assert response.status == 400


async def test_the_browser_time_zone_is_kept_for_the_person(user: WebUser, store: SqlStore) -> None:
    async def dana_tz() -> str:
        ws = await store.workspace(Platform.CONSOLE, "local")
        async with store.unit(ws.id) as uow:
            dana = await uow.people.by_platform_id("dana")
        assert dana is not None
        return dana.tz

    body = {"user": "Dana", "text": "/touchbase help", "tz": "Europe/London"}
    assert (await user.call("/api/chat/command", body))["kind"] == "message"
    assert await dana_tz() == "Europe/London"
    body = {"user": "Dana", "text": "/touchbase help", "tz": "Mars/Base"}
    await user.call("/api/chat/command", body)  # not a zone: the one she has stays
    assert await dana_tz() == "Europe/London"
    body = {"user": "Dana", "action_id": "client_open", "value": "1", "tz": "Asia/Tokyo"}
    await user.call("/api/chat/action", body)
    assert await dana_tz() == "Asia/Tokyo"


def test_chat_script_sends_the_browser_time_zone() -> None:
    from pathlib import Path

    import adapters.web

    script = (Path(adapters.web.__file__).parent / "static" / "chat.js").read_text()
    assert "Intl.DateTimeFormat().resolvedOptions().timeZone" in script
    assert "tz: browserZone()" in script


async def test_portfolio_names_open_the_client_card(user: WebUser) -> None:
    await user.say("Dana", "/client add Acme")
    await user.say("Dana", "/client add Pied Piper Inc.")
    reply = await user.say("Dana", "/clients")
    html = reply["html"]
    for name in ("Acme", "Pied Piper Inc."):
        link = re.search(
            rf'<button type="button" class="client-link" data-action-id="client_open" '
            rf'data-value="(\d+)">{re.escape(name)}</button>'
            r'<span class="sr-only">: </span><span class="detail">never contacted, next due',
            html,
        )
        assert link, html
        card = await user.click("Dana", "client_open", link.group(1))
        assert card["kind"] == "message" and f"{name}" in card["text"] + card["html"]
        assert f'<h3 class="card-title">{htmllib.escape(name)}' in card["html"], card["html"]
    # Text that only looks like a name is left as it is.
    assert html.count('class="client-link"') == 2
