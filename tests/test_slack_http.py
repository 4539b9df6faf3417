"""The Slack adapter over HTTP: signed slash commands, signatures, retries, the ack budget."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import timedelta
from typing import Any

import pytest

from bot.app import Reply
from bot.clock import FixedClock
from bot.domain import Platform
from bot.inbound import CommandIn, Identity
from bot.messages import Message
from bot.ports import DeliveryError
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    USER,
    Harness,
    signed_headers,
    slack_fake_fixture,
    slack_fixture,
)


def texts(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


async def test_touch_is_stored_and_confirmed_in_the_ack(slack: Harness) -> None:
    status, body = await slack.command("add Acme", command="/client")
    assert status == 200
    assert "Added Acme" in body["text"]

    status, body = await slack.command("Acme lunch with CFO")
    assert status == 200
    assert body["response_type"] == "ephemeral"
    assert "Logged lunch" in body["text"]
    rendered = texts(body["blocks"])
    assert "Acme" in rendered
    assert "touch_undo::0" in rendered  # buttons carry the neutral action id, made unique

    [touch] = await slack.touches()
    assert touch.kind.value == "lunch"
    assert touch.source_id.startswith("slack:")


async def test_identity_comes_from_users_info(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    workspaces = await slack.store.workspaces()
    async with slack.store.unit(workspaces[0].id) as uow:
        person = await uow.people.by_platform_id(USER)
    assert person is not None
    assert person.display_name == "ada"
    assert person.tz == "Europe/London"
    assert person.email == "ada@example.com"
    assert person.profile_refreshed_at is not None
    assert workspaces[0].external_id == "T0FAKE"


async def test_users_info_at_most_once_per_user_per_day(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    for note in ("call", "lunch", "email"):
        await slack.command(f"Acme {note}")
    await slack.command("Acme", command="/client")
    assert len(slack.fake.calls("users.info")) == 1

    slack.adapter.people._cache.clear()  # a restart: the stored refresh time still counts
    await slack.command("Acme visit")
    assert len(slack.fake.calls("users.info")) == 1

    clock = slack.services.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(days=1, minutes=1))
    await slack.command("Acme coffee")
    assert len(slack.fake.calls("users.info")) == 2


async def _nothing_stored(slack: Harness) -> None:
    assert await slack.touches() == []
    assert await slack.store.workspaces() == []


@pytest.mark.security
async def test_bad_signature_is_refused(slack: Harness) -> None:
    body = slack.command_body("Acme lunch")
    headers = signed_headers(body, secret="not-the-secret")
    status, _ = await slack.post(body, headers=headers, sign=False)
    assert status == 401
    await _nothing_stored(slack)


@pytest.mark.security
async def test_stale_timestamp_is_refused(slack: Harness) -> None:
    body = slack.command_body("Acme lunch")
    headers = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    status, _ = await slack.post(body, headers=headers, sign=False)
    assert status == 401
    await _nothing_stored(slack)


@pytest.mark.security
async def test_altered_body_is_refused(slack: Harness) -> None:
    body = slack.command_body("Acme lunch")
    headers = signed_headers(body)
    altered = body.replace("lunch", "lunck")
    assert len(altered) == len(body) and altered != body
    status, _ = await slack.post(altered, headers=headers, sign=False)
    assert status == 401
    await _nothing_stored(slack)


@pytest.mark.security
@pytest.mark.parametrize("missing", ["X-Slack-Signature", "X-Slack-Request-Timestamp", "both"])
async def test_missing_headers_are_refused(slack: Harness, missing: str) -> None:
    body = slack.command_body("Acme lunch")
    headers = signed_headers(body)
    for name in ("X-Slack-Signature", "X-Slack-Request-Timestamp"):
        if missing in (name, "both"):
            del headers[name]
    status, _ = await slack.post(body, headers=headers, sign=False)
    assert status == 401
    await _nothing_stored(slack)


async def test_repeated_command_with_the_same_trigger_id_stores_one_touch(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    body = slack.command_body(
        "Acme lunch with the CFO", trigger_id="13345224609.738474920.8088930838d88f008e0"
    )
    first = await slack.post(body)
    again = await slack.post(body, headers={"X-Slack-Retry-Num": "1"})
    assert first[0] == again[0] == 200
    assert "Logged lunch" in json.loads(again[1])["text"]
    assert len(await slack.touches()) == 1


async def test_retried_event_delivery_is_processed_once(slack: Harness) -> None:
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": "D0ADA",
        "user": USER,
        "text": "touch help",
        "ts": "1700000000.000300",
    }
    assert await slack.event(event, event_id="Ev0RETRY1") == 200
    assert await slack.event(event, event_id="Ev0RETRY1", retry=1) == 200
    await slack.settle()
    assert len(slack.fake.calls("chat.postMessage")) == 1

    # A retry whose first delivery never arrived (another message) is still handled.
    other = {**event, "ts": "1700000000.000301"}
    assert await slack.event(other, event_id="Ev0RETRY2", retry=1) == 200
    await slack.settle()
    assert len(slack.fake.calls("chat.postMessage")) == 2


async def test_a_slow_store_acks_saving_and_confirms_through_response_url(
    slack: Harness,
) -> None:
    await slack.command("add Acme", command="/client")
    slack.adapter.ack_budget = 0.2
    release = asyncio.Event()
    inner = slack.services.app.command

    async def slow(who: Identity, cmd: CommandIn) -> Reply:
        await release.wait()
        return await inner(who, cmd)

    slack.services.app.command = slow  # type: ignore[method-assign]
    started = time.monotonic()
    status, body = await slack.command("Acme lunch with the CFO", response_id="slow1")
    assert status == 200
    assert time.monotonic() - started < 3
    assert body["text"].startswith("Saving")
    assert await slack.touches() == []

    release.set()
    [posted] = await slack.fake.wait_for("response_url", 1)
    assert posted.path.endswith("/slow1")
    assert posted.params["replace_original"] is True
    assert posted.params["response_type"] == "ephemeral"
    assert "Logged lunch" in posted.params["text"]
    assert len(await slack.touches()) == 1


async def test_mrkdwn_in_a_note_is_escaped(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    # Slack's entities (what a ping or a link looks like on the wire), and the same typed as
    # literal text, which Slack escapes before sending.
    status, body = await slack.command(
        "Acme call about <!channel> and <@U999> and <https://evil.example|x>"
        " and &lt;!channel&gt; &lt;https://evil.example|y&gt; &amp; more"
    )
    assert status == 200
    rendered = texts(body["blocks"]) + body["text"]
    for raw in ("<!channel>", "<https://evil", "<@U999>", "<!here>"):
        assert raw not in rendered
    assert "&amp; more" in rendered  # user text reaches mrkdwn escaped
    [touch] = await slack.touches()
    assert "<" not in touch.note.replace("<@", "")  # stored as plain text


@pytest.mark.security
async def test_no_note_text_token_or_response_url_in_logs(
    slack: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await slack.command("add Acme", command="/client")
    secret_note = "confidential merger talk"
    body = slack.command_body(f"Acme lunch {secret_note}", response_id="resp-secret-42")
    await slack.post(body, headers=signed_headers(body, secret="wrong"), sign=False)  # 401
    await slack.post(body)  # accepted
    unhandled = slack.block_actions_body("nobody_listens", secret_note, response_id="resp-2")
    await slack.post(unhandled)
    slack.fake.fail_next("chat.postMessage", error="channel_not_found")
    messenger = slack.services.messengers[Platform.SLACK]
    with pytest.raises(DeliveryError):
        await messenger.send({"channel": "C0GONE"}, Message(text=secret_note))
    await slack.settle()
    # What the adapter and the Slack libraries log (the database driver's DEBUG output is
    # the database's business, and off in production).
    ours = ("adapters", "slack_bolt", "slack_sdk", "aiohttp", "bot")
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith(ours)
    )
    assert "adapters.slack" in logged  # the adapter did log (the 401, the refusal)
    assert "confidential" not in logged
    assert "resp-secret-42" not in logged and "/response/" not in logged
    assert "xoxb-" not in logged
    assert "test-signing-secret" not in logged
