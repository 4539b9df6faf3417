"""/owner through Slack: signed slash commands in, Web API calls to the fake out."""

from __future__ import annotations

import json

from tests.slack_helpers import (  # noqa: F401  (fixtures)
    USER,
    Harness,
    slack_fake_fixture,
    slack_fixture,
)


def _posts(slack: Harness) -> list[tuple[str, str]]:
    return [
        (str(c.params["channel"]), json.dumps(c.params.get("blocks", "")) + str(c.params["text"]))
        for c in slack.fake.calls("chat.postMessage")
    ]


async def test_owner_posts_once_to_the_channel_and_messages_both_owners(slack: Harness) -> None:
    status, body = await slack.command("channel", command="/touchbase", channel_id="C0RELATE")
    assert status == 200 and "relationships channel" in json.dumps(body)
    await slack.command("add Acme", command="/client")
    await slack.command("", command="/clients", user="U0BOB", user_name="bob")
    status, body = await slack.command("Acme <@U0BOB|bob>", command="/owner")
    await slack.settle()
    assert status == 200
    assert "Acme is now bob's client." in json.dumps(body)
    posts = _posts(slack)
    to_channel = [text for channel, text in posts if channel == "C0RELATE"]
    assert len(to_channel) == 1 and "Acme: bob takes over from ada." in to_channel[0]
    assert {channel for channel, _ in posts} == {"C0RELATE", "U0BOB", USER}


async def test_a_staff_non_owner_is_refused_over_slack(slack: Harness) -> None:
    await slack.command("channel", command="/touchbase", channel_id="C0RELATE")
    await slack.command("add Acme", command="/client")
    _status, body = await slack.command(
        "Acme <@U0BOB|bob>", command="/owner", user="U0BOB", user_name="bob"
    )
    await slack.settle()
    assert "Only ada, a principal or an admin can hand Acme" in json.dumps(body)
    assert slack.fake.calls("chat.postMessage") == []
