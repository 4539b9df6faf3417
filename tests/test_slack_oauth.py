"""OAuth mode: install through /slack/install and /slack/oauth_redirect, with our database as
bolt's installation and state store, oauth.v2.access answered by FakeSlackApi."""

from __future__ import annotations

import pytest

from adapters.slack.installation_store import DbOAuthStateStore
from bot.clock import FixedClock
from bot.domain import Platform
from bot.messages import Message
from bot.ports import DeliveryError
from store import slack_installations
from store.repositories import SqlStore
from store.secrets import TokenCipher
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    SECRET_KEY,
    USER,
    Harness,
    install,
    oauth_fixture,
    slack_fake_fixture,
    slack_settings,
    start_harness,
)

CIPHER = TokenCipher([SECRET_KEY])


async def test_install_stores_the_workspace_token_and_uses_it(oauth: Harness) -> None:
    await install(oauth)
    [exchange] = oauth.fake.calls("oauth.v2.access")
    assert exchange.params["code"] == "the-code"
    data = await slack_installations.find_installation(oauth.store, None, "T0FAKE", CIPHER)
    assert data is not None
    token = data["bot_token"]
    assert token.startswith("xoxb-T0FAKE-")

    status, body = await oauth.command("add Acme", command="/client")
    assert status == 200 and "Added Acme" in body["text"]
    assert {c.token for c in oauth.fake.calls("users.info")} == {token}

    messenger = oauth.services.messengers[Platform.SLACK]
    await messenger.send({"channel": USER, "team": "T0FAKE"}, Message(text="hello"))
    assert oauth.fake.calls("chat.postMessage")[-1].token == token
    with pytest.raises(DeliveryError) as caught:
        await messenger.send({"channel": USER, "team": "T0OTHER"}, Message(text="hello"))
    assert caught.value.permanent


async def test_a_request_from_a_workspace_never_installed_is_not_served(oauth: Harness) -> None:
    status, _ = await oauth.command("add Acme", command="/client")
    assert status == 200  # bolt tells the person, but nothing runs
    assert oauth.fake.calls("users.info") == []
    assert await oauth.touches() == []


async def test_uninstall_deletes_the_installation(oauth: Harness) -> None:
    await install(oauth)
    await oauth.command("add Acme", command="/client")
    assert await oauth.event({"type": "app_uninstalled"}) == 200
    await oauth.settle()
    assert await slack_installations.find_installation(oauth.store, None, "T0FAKE", CIPHER) is None
    assert await oauth.store.workspaces() == []


async def test_a_redirect_with_a_forged_state_installs_nothing(oauth: Harness) -> None:
    done = await oauth.http.get(
        "/slack/oauth_redirect",
        params={"code": "the-code", "state": "forged"},
        headers={"Cookie": "slack-app-oauth-state=forged"},
    )
    assert done.status >= 400
    assert oauth.fake.calls("oauth.v2.access") == []
    assert await slack_installations.find_installation(oauth.store, None, "T0FAKE", CIPHER) is None


async def test_oauth_states_are_single_use_and_expire(store: SqlStore, clock: FixedClock) -> None:
    from datetime import timedelta

    states = DbOAuthStateStore(store, expiration_seconds=600)
    state = await states.async_issue()
    assert await states.async_consume(state)
    assert not await states.async_consume(state)
    late = await states.async_issue()
    clock.advance(timedelta(minutes=11))
    assert not await states.async_consume(late)
