"""Install lifecycle and Enterprise Grid, through signed HTTP against the fake Slack API:
uninstall pauses, a valid request with a working token (or a reinstall) resumes, `touchbase
workspaces` says "paused"; an org-wide install gives each team one workspace whichever surface
the payload comes from."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from app.cli import run
from bot.clock import FixedClock
from bot.domain import Platform
from store import slack_installations
from store.repositories import SqlStore
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    BOT_TOKEN,
    TEAM,
    USER,
    Harness,
    make_settings,
    slack_fake_fixture,
    slack_fixture,
    slack_settings,
    start_harness,
    trigger,
)
from tests.test_slack_oauth import install

ORG = "E0ORG"
GRID_TEAM = "T0GRID1"


async def paused(slack: Harness) -> list[str]:
    return [
        w.external_id
        for w in await slack.store.workspaces(include_paused=True)
        if w.platform is Platform.SLACK and not w.active
    ]


async def test_uninstall_pauses_and_the_next_working_request_resumes(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    assert await slack.event({"type": "app_uninstalled"}) == 200
    await slack.settle()
    assert await paused(slack) == [TEAM]

    slack.fake.clear_calls()
    status, body = await slack.command("Acme", command="/client")  # the token works again
    assert status == 200 and "Acme" in json.dumps(body)
    assert await paused(slack) == []
    assert slack.fake.calls("auth.test")  # checked afresh, not from bolt's cache
    assert [w.external_id for w in await slack.store.workspaces()] == [TEAM]


async def test_revoked_tokens_pause_until_a_token_works(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [slack.fake.bot_user_id]}}
    assert await slack.event(revoked) == 200
    await slack.settle()
    assert await paused(slack) == [TEAM]

    slack.fake.valid_tokens = {"xoxb-the-new-one"}  # the old token is dead
    await slack.command("Acme", command="/client")
    await slack.settle()
    assert await paused(slack) == [TEAM]

    slack.fake.valid_tokens = {BOT_TOKEN}
    await slack.command("Acme", command="/client")
    assert await paused(slack) == []


async def test_touchbase_workspaces_says_paused(
    slack: Harness, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await slack.command("add Acme", command="/client")
    await slack.event({"type": "app_uninstalled"})
    await slack.settle()
    settings = make_settings(db_url, slack_settings(slack.fake))
    assert await run(settings, ["workspaces"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    [row] = [r for r in rows if r[:2] == ["slack", TEAM]]
    assert row[-1] == "paused"


@pytest.fixture
async def oauth(
    db_url: str, engine: AsyncEngine, store: SqlStore, clock: FixedClock, slack_fake: FakeSlackApi
) -> AsyncIterator[Harness]:
    settings = slack_settings(
        slack_fake, bot_token=None, client_id="1111.2222", client_secret=SecretStr("shh")
    )
    async for harness in start_harness(db_url, engine, store, clock, slack_fake, settings):
        yield harness


async def test_a_reinstall_resumes_the_workspace(oauth: Harness) -> None:
    await install(oauth)
    await oauth.command("add Acme", command="/client")
    await oauth.event({"type": "app_uninstalled"})
    await oauth.settle()
    assert await paused(oauth) == [TEAM]
    status, _ = await oauth.command("Acme", command="/client")
    assert status == 200 and await paused(oauth) == [TEAM]  # no token: nothing served
    await install(oauth)
    assert await paused(oauth) == []
    _status, body = await oauth.command("Acme", command="/client")
    assert "Acme" in json.dumps(body)


# --- Enterprise Grid, org-wide ----------------------------------------------------------------


def org_wide_access(params: dict[str, Any]) -> dict[str, Any]:
    """oauth.v2.access for an org-wide install, as Slack answers it: no team."""
    return {
        "ok": True,
        "app_id": "A0FAKE",
        "access_token": "xoxb-E0ORG-org-wide",
        "token_type": "bot",
        "scope": "chat:write,commands,im:history,im:write,users:read,users:read.email",
        "bot_user_id": "U0BOT",
        "team": None,
        "enterprise": {"id": ORG, "name": "Big Org"},
        "is_enterprise_install": True,
        "authed_user": {"id": "U0INSTALLER", "scope": "", "access_token": None},
    }


def grid_command(slack: Harness, text: str, command: str) -> str:
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": GRID_TEAM,
            "team_domain": "big-org-sales",
            "enterprise_id": ORG,
            "enterprise_name": "Big Org",
            "channel_id": "C0GRID",
            "channel_name": "sales",
            "user_id": USER,
            "user_name": "ada",
            "command": command,
            "text": text,
            "api_app_id": slack.fake.app_id,
            "is_enterprise_install": "true",
            "response_url": slack.fake.response_url(uuid.uuid4().hex),
            "trigger_id": trigger(),
        }
    )


def grid_event(slack: Harness, event: dict[str, Any]) -> str:
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": GRID_TEAM,
            "enterprise_id": ORG,
            "context_team_id": GRID_TEAM,
            "context_enterprise_id": ORG,
            "api_app_id": slack.fake.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": ORG,
                    "team_id": None,
                    "user_id": "U0BOT",
                    "is_bot": True,
                    "is_enterprise_install": True,
                }
            ],
            "is_ext_shared_channel": False,
        }
    )


def grid_user(slack: Harness) -> None:
    """users.info of a Grid user: their home team, and the org in `enterprise_user`."""
    user = slack.fake.add_user(USER, "ada", tz="Europe/London", email="ada@example.com")
    user["team_id"] = GRID_TEAM
    user["profile"]["team"] = GRID_TEAM
    user["enterprise_user"] = {
        "id": USER,
        "enterprise_id": ORG,
        "enterprise_name": "Big Org",
        "is_admin": False,
        "is_owner": False,
        "is_primary_owner": False,
        "teams": [GRID_TEAM],
    }


async def test_an_org_wide_install_is_one_workspace_per_team_on_every_surface(
    oauth: Harness,
) -> None:
    oauth.fake.set_handler("oauth.v2.access", org_wide_access)
    grid_user(oauth)
    await install(oauth)
    assert await slack_installations.find_installation(oauth.store, ORG, None) is not None
    assert await oauth.store.workspaces() == []  # teams appear on first use

    status, raw = await oauth.post(grid_command(oauth, "add Acme", "/client"))
    assert status == 200 and "Added Acme" in raw

    home = {"type": "app_home_opened", "user": USER, "channel": "D0ADA", "tab": "home"}
    home["event_ts"] = "1700000500.000100"
    status, _ = await oauth.post(grid_event(oauth, home), content_type="application/json")
    assert status == 200
    dm = {
        "type": "message",
        "channel_type": "im",
        "channel": "D0ADA",
        "user": USER,
        "text": "touch Acme call",
        "ts": "1700000500.000200",
        "team": GRID_TEAM,
    }
    status, _ = await oauth.post(grid_event(oauth, dm), content_type="application/json")
    assert status == 200
    suggestion = {
        "type": "block_suggestion",
        "user": {"id": USER, "username": "ada", "name": "ada", "team_id": GRID_TEAM},
        "container": {"type": "view", "view_id": "V0G"},
        "api_app_id": oauth.fake.app_id,
        "token": "legacy-verification-token",
        "action_id": "client_search",
        "block_id": "client",
        "value": "acm",
        "team": None,
        "enterprise": {"id": ORG, "name": "Big Org"},
        "is_enterprise_install": True,
        "view": {"id": "V0G", "team_id": GRID_TEAM, "type": "modal", "callback_id": "log_touch"},
    }
    status, raw = await oauth.post(urlencode({"payload": json.dumps(suggestion)}))
    assert status == 200
    assert [o["text"]["text"] for o in json.loads(raw)["options"]] == ["Acme"]
    await oauth.settle()

    [workspace] = await oauth.store.workspaces()
    assert workspace.external_id == f"{ORG}:{GRID_TEAM}"
    [published] = oauth.fake.calls("views.publish")
    assert "Acme" in json.dumps(published.params["view"])
    assert len(await oauth.touches()) == 1
    assert {c.token for c in oauth.fake.calls("users.info")} == {"xoxb-E0ORG-org-wide"}


async def test_uninstalling_an_org_wide_install_pauses_its_teams(oauth: Harness) -> None:
    oauth.fake.set_handler("oauth.v2.access", org_wide_access)
    grid_user(oauth)
    await install(oauth)
    await oauth.post(grid_command(oauth, "add Acme", "/client"))
    status, _ = await oauth.post(
        grid_event(oauth, {"type": "app_uninstalled"}), content_type="application/json"
    )
    assert status == 200
    await oauth.settle()
    assert await paused(oauth) == [f"{ORG}:{GRID_TEAM}"]
    assert await slack_installations.find_installation(oauth.store, ORG, None) is None
    await install(oauth)
    assert await paused(oauth) == []
