"""Events as Slack delivers them: a DM that @mentions the bot comes twice and is read once;
events nobody handles are answered 200 (a 404 makes Slack retry); a DM with a file is a
message; a first-time user's button opens its modal within the trigger's life."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FixedClock
from bot.privacy import UNVERIFIED_REFUSAL
from store.repositories import SqlStore
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    TEAM,
    USER,
    Harness,
    slack_fake_fixture,
    slack_fixture,
    start_harness,
)

TS = "1700000300.000100"


def dm_events(slack: Harness, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two events Slack sends for one DM that @mentions the bot."""
    mention = f"<@{slack.fake.bot_user_id}> {text}"
    blocks = [
        {
            "type": "rich_text",
            "block_id": "xYz1",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "user", "user_id": slack.fake.bot_user_id},
                        {"type": "text", "text": f" {text}"},
                    ],
                }
            ],
        }
    ]
    common = {
        "client_msg_id": "5a1f0c3e-0000-4000-8000-000000000001",
        "text": mention,
        "user": USER,
        "ts": TS,
        "blocks": blocks,
        "team": TEAM,
        "channel": "D0ADABOT",
        "event_ts": TS,
    }
    return (
        {**common, "type": "message", "channel_type": "im"},
        {**common, "type": "app_mention"},
    )


async def _replies(slack: Harness) -> list[Any]:
    return [
        c
        for method in ("chat.postMessage", "chat.postEphemeral")
        for c in slack.fake.calls(method)
        if "Logged" in str(c.params.get("text"))
    ]


async def test_a_dm_mentioning_the_bot_is_handled_once(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    message, mention = dm_events(slack, "touch Acme call with Dana")
    assert await slack.event(message, event_id="Ev0DM000001") == 200
    assert await slack.event(mention, event_id="Ev0DM000002") == 200
    await slack.settle()
    assert len(await slack.touches()) == 1
    [reply] = await _replies(slack)
    assert reply.method == "chat.postMessage" and reply.params["channel"] == "D0ADABOT"


async def test_the_two_deliveries_arriving_together_log_one_touch(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    message, mention = dm_events(slack, "touch Acme lunch")
    statuses = await asyncio.gather(
        slack.event(mention, event_id="Ev0DM000003"), slack.event(message, event_id="Ev0DM000004")
    )
    assert statuses == [200, 200]
    await slack.settle()
    assert len(await slack.touches()) == 1
    assert len(await _replies(slack)) == 1


async def test_a_retried_event_is_still_read_once(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    message, _ = dm_events(slack, "touch Acme email")
    assert await slack.event(message, event_id="Ev0DM000005") == 200
    assert await slack.event(message, event_id="Ev0DM000005", retry=1) == 200
    await slack.settle()
    assert len(await slack.touches()) == 1


async def test_events_nobody_handles_get_200(slack: Harness) -> None:
    reaction = {
        "type": "reaction_added",
        "user": USER,
        "item": {"type": "message", "channel": "C0GENERAL", "ts": "1599529504.000400"},
        "reaction": "heart_eyes",
        "item_user": "U0BOB",
        "event_ts": "1599616881.000800",
    }
    assert await slack.event(reaction) == 200
    joined = {
        "type": "member_joined_channel",
        "user": "U0BOB",
        "channel": "C0GENERAL",
        "channel_type": "C",
        "team": TEAM,
        "inviter": USER,
    }
    assert await slack.event(joined) == 200
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "D0ADABOT",
        "channel_type": "im",
        "hidden": True,
        "message": {"type": "message", "user": USER, "text": "touch Acme call", "ts": TS},
        "previous_message": {"type": "message", "user": USER, "text": "touch Acme", "ts": TS},
        "event_ts": "1700000301.000200",
        "ts": "1700000301.000200",
    }
    assert await slack.event(edited) == 200
    await slack.settle()
    assert slack.fake.calls("chat.postMessage") == []
    assert await slack.touches() == []


async def test_a_dm_with_a_file_is_read_as_a_message(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    event = {
        "type": "message",
        "subtype": "file_share",
        "text": "touch Acme visit, agenda attached",
        "files": [
            {
                "id": "F0AGENDA",
                "created": 1700000400,
                "name": "agenda.pdf",
                "title": "agenda.pdf",
                "mimetype": "application/pdf",
                "filetype": "pdf",
                "user": USER,
                "size": 1024,
                "mode": "hosted",
                "is_external": False,
                "url_private": "https://files.slack.com/files-pri/T0FAKE-F0AGENDA/agenda.pdf",
            }
        ],
        "upload": False,
        "user": USER,
        "display_as_bot": False,
        "ts": "1700000400.000100",
        "channel": "D0ADABOT",
        "event_ts": "1700000400.000100",
        "channel_type": "im",
    }
    assert await slack.event(event) == 200
    await slack.settle()
    [touch] = await slack.touches()
    assert touch.kind.value == "visit"


class SlowProfiles(FakeSlackApi):
    """users.info answers after `delay` seconds (a slow Slack, a first-time user)."""

    delay = 3.5

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "users.info":
            await asyncio.sleep(self.delay)
        return await super()._handle_api(request)


@pytest.fixture(name="slow_slack")
async def slow_slack_fixture(
    db_url: str, engine: AsyncEngine, store: SqlStore, clock: FixedClock
) -> AsyncIterator[Harness]:
    async with SlowProfiles(team_id=TEAM) as fake:
        fake.add_user(USER, "ada", tz="Europe/London", email="ada@example.com")
        async for harness in start_harness(db_url, engine, store, clock, fake):
            yield harness


async def test_a_first_time_users_click_is_answered_in_time_and_lets_nothing_in(
    slow_slack: Harness,
) -> None:
    """users.info is too slow for the click's trigger: someone never met could be a guest, so
    they are told to try again (in time), and no form opens; once Slack has answered, the next
    click opens it at once."""
    slack = slow_slack
    body = slack.block_actions_body("log_touch_open", "", trigger_id="333.444.first")
    clicked = time.monotonic()
    status, _ = await slack.post(body)
    assert status == 200
    assert time.monotonic() - clicked < 0.5  # acknowledged at once
    [answer] = await slack.fake.wait_for("response_url")
    assert answer.at - clicked < 2.5  # inside the trigger's 3 seconds
    assert answer.params["text"] == UNVERIFIED_REFUSAL
    assert slack.fake.calls("views.open") == []
    await slack.settle()  # the profile lookup finishes afterwards, and is remembered
    assert len(slack.fake.calls("users.info")) == 1

    clicked = time.monotonic()
    await slack.post(slack.block_actions_body("log_touch_open", "", trigger_id="333.444.again"))
    [opened] = await slack.fake.wait_for("views.open")
    assert opened.params["trigger_id"] == "333.444.again"
    assert opened.at - clicked < 2.5
    view = opened.params["view"]
    view = view if isinstance(view, dict) else json.loads(view)
    assert view["callback_id"] == "log_touch"
    assert len(slack.fake.calls("users.info")) == 1


async def test_every_event_the_manifest_subscribes_to_gets_200(slack: Harness) -> None:
    from adapters.manifests import bot_events, slack_manifest

    shapes: dict[str, dict[str, Any]] = {
        "app_home_opened": {
            "type": "app_home_opened",
            "user": USER,
            "channel": "D0ADABOT",
            "tab": "messages",
            "event_ts": "1700000600.000100",
        },
        "app_mention": {
            "type": "app_mention",
            "user": USER,
            "channel": "C0GENERAL",
            "text": f"<@{slack.fake.bot_user_id}> hello",
            "ts": "1700000600.000200",
            "event_ts": "1700000600.000200",
        },
        "message.im": {
            "type": "message",
            "channel_type": "im",
            "channel": "D0ADABOT",
            "user": USER,
            "text": "hello",
            "ts": "1700000600.000300",
            "event_ts": "1700000600.000300",
        },
        "tokens_revoked": {"type": "tokens_revoked", "tokens": {"oauth": [USER], "bot": []}},
        "app_uninstalled": {"type": "app_uninstalled"},
    }
    subscribed = bot_events(slack_manifest())
    assert set(subscribed) == set(shapes)
    for name in sorted(subscribed, key=lambda n: n == "app_uninstalled"):
        assert await slack.event(shapes[name]) == 200, name
    await slack.settle()
