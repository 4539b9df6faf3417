"""SlackMessenger, the Messenger port on Slack, against FakeSlackApi; and manifest ↔ code."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.manifests import bot_events, slack_manifest
from adapters.slack.app import make_client
from adapters.slack.messenger import SlackMessenger
from bot.domain import Platform
from bot.messages import Action, Message, Tone
from bot.ports import DeliveryError
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    USER,
    Harness,
    slack_fake_fixture,
    slack_fixture,
    slack_settings,
)

MESSAGE = Message(
    text="3 clients are due today <!channel>",
    actions=(Action("client_open", "Open Acme", "1"),),
    tone=Tone.WARNING,
)


@pytest.fixture
async def messenger(slack_fake: FakeSlackApi) -> AsyncIterator[SlackMessenger]:
    client = make_client(slack_settings(slack_fake), "xoxb-test-token")

    async def client_for(_team: str | None) -> object:
        return client

    yield SlackMessenger(client_for)  # type: ignore[arg-type]


async def test_sends_blocks_to_a_person(
    slack_fake: FakeSlackApi, messenger: SlackMessenger
) -> None:
    await messenger.send({"channel": USER, "team": "T0FAKE"}, MESSAGE)
    [call] = slack_fake.calls("chat.postMessage")
    assert call.params["channel"] == USER
    assert call.token == "xoxb-test-token"
    assert call.params["text"] == "3 clients are due today &lt;!channel&gt;"
    assert call.params["blocks"][-1]["elements"][0]["action_id"] == "client_open::0"


async def test_a_rate_limit_is_retried_by_the_sdk(
    slack_fake: FakeSlackApi, messenger: SlackMessenger
) -> None:
    slack_fake.fail_next("chat.postMessage", status=429, retry_after=1)
    await messenger.send({"channel": "C0GENERAL"}, MESSAGE)
    first, second = slack_fake.calls("chat.postMessage")
    assert first.status == 429 and second.status == 200
    assert second.at - first.at >= 1.0  # Retry-After was honoured


@pytest.mark.slow
async def test_a_lasting_rate_limit_becomes_a_retryable_delivery_error(
    slack_fake: FakeSlackApi, messenger: SlackMessenger
) -> None:
    slack_fake.fail_next("chat.postMessage", status=429, retry_after=1, times=3)
    with pytest.raises(DeliveryError) as caught:
        await messenger.send({"channel": "C0GENERAL"}, MESSAGE)
    assert caught.value.permanent is False
    assert caught.value.retry_after == 1.0


@pytest.mark.parametrize(
    "error",
    ["channel_not_found", "account_inactive", "user_not_found", "not_in_channel", "is_archived"],
)
async def test_gone_for_good_is_permanent(
    slack_fake: FakeSlackApi, messenger: SlackMessenger, error: str
) -> None:
    slack_fake.fail_next("chat.postMessage", error=error)
    with pytest.raises(DeliveryError) as caught:
        await messenger.send({"channel": "C0GONE"}, MESSAGE)
    assert caught.value.permanent is True
    assert caught.value.detail == error


async def test_a_server_error_is_retried_then_transient(
    slack_fake: FakeSlackApi, messenger: SlackMessenger
) -> None:
    slack_fake.fail_next("chat.postMessage", status=503, times=5)
    with pytest.raises(DeliveryError) as caught:
        await messenger.send({"channel": "C0GENERAL"}, MESSAGE)
    assert caught.value.permanent is False
    assert len(slack_fake.calls("chat.postMessage")) == 3  # one try and two retries


async def test_mount_wires_the_messenger(slack: Harness) -> None:
    messenger = slack.services.messengers[Platform.SLACK]
    assert slack.services.app.messengers[Platform.SLACK] is messenger
    await messenger.send({"channel": USER, "team": "T0FAKE"}, MESSAGE)
    [call] = slack.fake.calls("chat.postMessage")
    assert call.token == "xoxb-test-token"


# --- manifest ↔ code -----------------------------------------------------------------------------


def test_listeners_match_the_manifest(slack: Harness) -> None:
    manifest = slack_manifest()
    features = manifest["features"]
    registered = slack.adapter.registered
    assert registered["commands"] == {c["command"] for c in features["slash_commands"]}
    assert registered["shortcuts"] == {s["callback_id"] for s in features["shortcuts"]}
    assert registered["events"] == set(bot_events(manifest))
    for url in (c["url"] for c in features["slash_commands"]):
        assert url.endswith("/slack/events")
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["request_url"].endswith("/slack/events")
    assert interactivity["message_menu_options_url"].endswith("/slack/events")


async def test_every_manifest_command_is_answered(slack: Harness) -> None:
    for spec in slack_manifest()["features"]["slash_commands"]:
        status, body = await slack.command("", command=spec["command"])
        assert status == 200, spec["command"]  # bolt answers 404 when nothing listens
        assert body.get("text") or body.get("raw") == "", spec["command"]


async def test_every_manifest_event_is_answered(slack: Harness) -> None:
    samples = {
        "app_home_opened": {"type": "app_home_opened", "user": USER, "tab": "messages"},
        "app_mention": {
            "type": "app_mention",
            "user": USER,
            "text": "hi",
            "channel": "C1",
            "ts": "1.1",
        },
        "message.im": {
            "type": "message",
            "channel_type": "im",
            "user": USER,
            "text": "hi",
            "channel": "D1",
            "ts": "1.2",
        },
        "app_uninstalled": {"type": "app_uninstalled"},
        "tokens_revoked": {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": []}},
    }
    for name in bot_events(slack_manifest()):
        assert await slack.event(samples[name]) == 200, name
    await slack.settle()
