"""Slack Connect: people of another organisation in a shared channel, on every surface, get one
polite refusal, nothing of the firm's data, and nothing of theirs is stored. Payloads as Slack
sends them in shared channels (`user_team`, `user_profile.team`, `user.team_id`,
`is_ext_shared_channel`, `authorizations` naming the host), signed, over HTTP."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

from bot.clock import FixedClock
from bot.privacy import REFUSAL, UNVERIFIED_REFUSAL
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    TEAM,
    USER,
    Harness,
    slack_fake_fixture,
    slack_fixture,
    trigger,
)

OUTSIDER = "U0VENDOR"
OTHER_TEAM = "T0OTHERORG"
SHARED = "C0SHARED"


def add_outsider(slack: Harness, user_id: str = OUTSIDER) -> None:
    """A Slack Connect user as users.info describes them from the host: their own team."""
    user = slack.fake.add_user(user_id, "vendor.val", email="val@vendor.example")
    user["team_id"] = OTHER_TEAM
    user["profile"]["team"] = OTHER_TEAM
    user["is_stranger"] = True


def shared_event(slack: Harness, event: dict[str, Any], *, event_id: str | None = None) -> str:
    """An event in a Slack Connect channel: the host in `authorizations`, the sender's team on
    the event."""
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "context_team_id": TEAM,
            "context_enterprise_id": None,
            "api_app_id": slack.fake.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM,
                    "user_id": slack.fake.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": True,
            "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
        }
    )


def outsider_mention(slack: Harness, text: str) -> dict[str, Any]:
    return {
        "client_msg_id": str(uuid.uuid4()),
        "type": "app_mention",
        "text": f"<@{slack.fake.bot_user_id}> {text}",
        "user": OUTSIDER,
        "ts": "1700000100.000100",
        "team": OTHER_TEAM,
        "user_team": OTHER_TEAM,
        "source_team": OTHER_TEAM,
        "user_profile": {
            "avatar_hash": "g123",
            "image_72": "https://example.invalid/72.png",
            "first_name": "Val",
            "real_name": "Val Vendor",
            "display_name": "val",
            "team": OTHER_TEAM,
            "name": "vendor.val",
            "is_restricted": False,
            "is_ultra_restricted": False,
        },
        "blocks": [],
        "channel": SHARED,
        "event_ts": "1700000100.000100",
    }


def outsider_user(slack: Harness) -> dict[str, Any]:
    return {"id": OUTSIDER, "username": "vendor.val", "name": "vendor.val", "team_id": OTHER_TEAM}


async def people_ids(slack: Harness) -> set[str]:
    ids: set[str] = set()
    for ws in await slack.store.workspaces():
        async with slack.store.unit(ws.id) as uow:
            ids |= {p.platform_user_id for p in await uow.people.list()}
    return ids


async def firm_with_a_client(slack: Harness) -> None:
    status, body = await slack.command("add Acme", command="/client")
    assert status == 200 and "Added Acme" in body["text"]
    status, body = await slack.command("Acme lunch, secret fee talk")
    assert "Logged" in body["text"]


async def test_an_outsider_mentioning_the_bot_gets_only_the_refusal(slack: Harness) -> None:
    add_outsider(slack)
    await firm_with_a_client(slack)
    body = shared_event(slack, outsider_mention(slack, "client Acme"))
    status, _ = await slack.post(body, content_type="application/json")
    assert status == 200
    await slack.settle()
    [reply] = slack.fake.calls("chat.postEphemeral")
    assert reply.params["user"] == OUTSIDER
    assert reply.params["text"] == REFUSAL
    assert slack.fake.calls("chat.postMessage") == []
    assert "secret" not in json.dumps([c.params for c in slack.fake.calls()])
    assert OUTSIDER not in await people_ids(slack)


async def test_an_outsiders_touch_by_mention_is_not_logged(slack: Harness) -> None:
    add_outsider(slack)
    await firm_with_a_client(slack)
    body = shared_event(slack, outsider_mention(slack, "touch Acme call with Dana"))
    await slack.post(body, content_type="application/json")
    await slack.settle()
    assert len(await slack.touches()) == 1  # the firm's own
    assert OUTSIDER not in await people_ids(slack)


async def test_an_outsiders_slash_command_is_refused(slack: Harness) -> None:
    add_outsider(slack)
    await firm_with_a_client(slack)
    for command, text in (("/client", "Acme"), ("/touch", "Acme call"), ("/clients", "")):
        status, body = await slack.command(
            text, command=command, user=OUTSIDER, user_name="vendor.val", channel_id=SHARED
        )
        assert status == 200
        assert body["response_type"] == "ephemeral"
        assert body["text"] == REFUSAL
    assert len(await slack.touches()) == 1
    assert OUTSIDER not in await people_ids(slack)


async def test_an_outsider_speaking_first_never_becomes_admin(slack: Harness) -> None:
    add_outsider(slack)
    _status, body = await slack.command(
        "role", command="/touchbase", user=OUTSIDER, user_name="vendor.val", channel_id=SHARED
    )
    assert body["text"] == REFUSAL
    assert await people_ids(slack) == set()
    await slack.command("add Acme", command="/client")
    [workspace] = await slack.store.workspaces()
    async with slack.store.unit(workspace.id) as uow:
        [ada] = await uow.people.list()
    assert ada.platform_user_id == USER
    assert ada.role.value == "admin"


async def test_an_outsider_gets_no_clients_in_the_picker(slack: Harness) -> None:
    add_outsider(slack)
    await firm_with_a_client(slack)
    payload = {
        "type": "block_suggestion",
        "user": outsider_user(slack),
        "container": {"type": "view", "view_id": "V0PICK"},
        "api_app_id": slack.fake.app_id,
        "token": "legacy-verification-token",
        "action_id": "client_search",
        "block_id": "client",
        "value": "ac",
        "team": {"id": TEAM, "domain": "fake-workspace"},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {
            "id": "V0PICK",
            "team_id": TEAM,
            "type": "modal",
            "callback_id": "log_touch",
            "app_installed_team_id": TEAM,
        },
    }
    status, body = await slack.post(urlencode({"payload": json.dumps(payload)}))
    assert status == 200
    assert json.loads(body)["options"] == []

    payload["user"] = {"id": USER, "username": "ada", "name": "ada", "team_id": TEAM}
    status, body = await slack.post(urlencode({"payload": json.dumps(payload)}))
    assert [o["text"]["text"] for o in json.loads(body)["options"]] == ["Acme"]


def _touch_view() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "log_touch",
        "private_metadata": "",
        "app_installed_team_id": TEAM,
        "blocks": [
            {"type": "input", "block_id": b, "label": {"type": "plain_text", "text": b}}
            for b in ("client", "kind", "contact", "date", "note", "awaiting")
        ],
    }


def _touch_state() -> dict[str, dict[str, Any]]:
    return {
        "client": {
            "client_search": {
                "type": "external_select",
                "selected_option": {"value": "Acme", "text": {"type": "plain_text", "text": "A"}},
            }
        },
        "kind": {
            "value": {
                "type": "static_select",
                "selected_option": {"value": "call", "text": {"type": "plain_text", "text": "c"}},
            }
        },
        "contact": {"value": {"type": "plain_text_input", "value": "Dana"}},
        "date": {"value": {"type": "datepicker", "selected_date": "2026-11-20"}},
        "note": {"value": {"type": "plain_text_input", "value": "from outside"}},
        "awaiting": {"value": {"type": "checkboxes", "selected_options": []}},
    }


async def test_an_outsiders_log_touch_modal_saves_nothing(slack: Harness) -> None:
    add_outsider(slack)
    await firm_with_a_client(slack)
    body = {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "fake-workspace"},
        "user": outsider_user(slack),
        "api_app_id": slack.fake.app_id,
        "token": "legacy-verification-token",
        "trigger_id": trigger(),
        "view": {
            **_touch_view(),
            "id": "V0OUT",
            "team_id": TEAM,
            "state": {"values": _touch_state()},
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    status, answer = await slack.post(urlencode({"payload": json.dumps(body)}))
    assert status == 200
    await slack.settle()
    assert len(await slack.touches()) == 1
    assert OUTSIDER not in await people_ids(slack)
    [dm] = slack.fake.calls("chat.postMessage")
    assert dm.params["channel"] == OUTSIDER and dm.params["text"] == REFUSAL
    assert answer == ""


async def test_an_outsiders_button_does_nothing_but_refuse(slack: Harness) -> None:
    add_outsider(slack)
    await firm_with_a_client(slack)
    raw = slack.block_actions_body("touch_undo", "1", user=OUTSIDER, response_id="out1")
    payload = json.loads(parse_qs(raw)["payload"][0])
    payload["user"] = outsider_user(slack)
    payload["channel"] = {"id": SHARED, "name": "shared-with-vendor"}
    status, _ = await slack.post(urlencode({"payload": json.dumps(payload)}))
    assert status == 200
    await slack.settle()
    [answer] = slack.fake.calls("response_url")
    assert answer.params["text"] == REFUSAL
    assert answer.params["response_type"] == "ephemeral"
    assert len(await slack.touches()) == 1
    assert slack.fake.calls("views.open") == []


async def test_a_shared_channel_cannot_be_the_relationships_channel(slack: Harness) -> None:
    slack.fake.add_channel(SHARED, "shared-with-vendor", is_ext_shared=True)
    await slack.command("add Acme", command="/client")  # ada, first, is the admin
    _status, body = await slack.command("channel", command="/touchbase", channel_id=SHARED)
    assert "shared with another organisation" in body["text"]
    [call] = slack.fake.calls("conversations.info")
    assert call.params["channel"] == SHARED
    [workspace] = await slack.store.workspaces()
    async with slack.store.unit(workspace.id) as uow:
        assert await uow.ownership.channel() is None

    _status, body = await slack.command("channel", command="/touchbase", channel_id="C0FIRM")
    assert "This is now the relationships channel" in body["text"]
    assert body["response_type"] == "in_channel"


async def test_the_relationships_channel_is_never_a_dm_or_group_dm(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    for channel_id, name in (("D0ADABOT", "directmessage"), ("G0GROUP", "mpdm-ada--bob-1")):
        body = slack.command_body("channel", command="/touchbase", channel_id=channel_id)
        body = body.replace("channel_name=general", f"channel_name={name}")
        status, raw = await slack.post(body)
        assert status == 200
        assert "not a direct or group message" in json.loads(raw)["text"]
    [workspace] = await slack.store.workspaces()
    async with slack.store.unit(workspace.id) as uow:
        assert await uow.ownership.channel() is None


async def test_a_channel_slack_will_not_describe_is_not_taken(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    slack.fake.set_handler(
        "conversations.info", lambda _p: {"ok": False, "error": "not_in_channel"}
    )
    _status, body = await slack.command("channel", command="/touchbase", channel_id="C0PRIVATE")
    assert "couldn't check who is in this channel" in body["text"]


async def _owner(slack: Harness, mention: str) -> str:
    _status, body = await slack.command(f"Acme {mention}", command="/owner")
    await slack.settle()
    return str(body.get("text", ""))


async def test_the_bot_cannot_own_a_client(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    text = await _owner(slack, f"<@{slack.fake.bot_user_id}|touchbase>")
    assert "is a bot" in text
    assert slack.fake.bot_user_id not in await people_ids(slack)


async def test_an_external_user_cannot_own_a_client(slack: Harness) -> None:
    add_outsider(slack)
    await slack.command("add Acme", command="/client")
    text = await _owner(slack, f"<@{OUTSIDER}|vendor.val>")
    assert "isn't part of the firm" in text
    assert OUTSIDER not in await people_ids(slack)


async def test_a_guest_or_a_deactivated_account_cannot_own_a_client(slack: Harness) -> None:
    guest = slack.fake.add_user("U0GUEST", "gus", email="gus@contractor.example")
    guest["is_restricted"] = True
    slack.fake.add_user("U0GONE", "gone", deleted=True)
    slack.fake.add_user("U0HELPER", "helper", is_bot=True)
    await slack.command("add Acme", command="/client")
    assert "isn't part of the firm" in await _owner(slack, "<@U0GUEST|gus>")
    assert "deactivated" in await _owner(slack, "<@U0GONE|gone>")
    assert "is a bot" in await _owner(slack, "<@U0HELPER|helper>")
    assert "I don't know" in await _owner(slack, "<@U0NOBODY|nobody>")
    assert await people_ids(slack) == {USER}


async def test_a_member_named_with_at_becomes_the_owner(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    assert "Acme is now bob's client." in await _owner(slack, "<@U0BOB|bob>")


async def test_a_guest_is_refused_like_an_outsider(slack: Harness) -> None:
    guest = slack.fake.add_user("U0GUEST", "gus")
    guest["is_ultra_restricted"] = True
    await slack.command("add Acme", command="/client")
    _status, body = await slack.command("Acme", command="/client", user="U0GUEST")
    assert body["text"] == REFUSAL
    assert "U0GUEST" not in await people_ids(slack)


async def test_an_outsiders_home_tab_shows_only_the_refusal(slack: Harness) -> None:
    add_outsider(slack)
    await firm_with_a_client(slack)
    home = {
        "type": "app_home_opened",
        "user": OUTSIDER,
        "channel": "D0VENDOR",
        "tab": "home",
        "event_ts": "1700000200.000100",
    }
    assert await slack.event(home) == 200
    await slack.settle()
    [published] = slack.fake.calls("views.publish")
    shown = json.dumps(published.params["view"])
    assert "only for people at the firm" in shown
    assert "Acme" not in shown
    assert OUTSIDER not in await people_ids(slack)


async def test_an_outsiders_message_shortcut_opens_no_form(slack: Harness) -> None:
    add_outsider(slack)
    await firm_with_a_client(slack)
    raw = slack.message_shortcut_body("Met Acme's CFO about fees", user=OUTSIDER)
    payload = json.loads(parse_qs(raw)["payload"][0])
    payload["user"] = outsider_user(slack)
    status, _ = await slack.post(urlencode({"payload": json.dumps(payload)}))
    assert status == 200
    await slack.settle()
    assert slack.fake.calls("views.open") == []
    [answer] = slack.fake.calls("response_url")
    assert answer.params["text"] == REFUSAL


async def test_a_command_from_another_team_is_refused_without_a_lookup(slack: Harness) -> None:
    await firm_with_a_client(slack)
    slack.fake.clear_calls()
    slack.team = OTHER_TEAM  # the sender's own team, as the payload names it
    _status, body = await slack.command("Acme", command="/client", user="U0NEVERSEEN")
    assert body["text"] == REFUSAL
    assert slack.fake.calls("users.info") == []
    assert [w.external_id for w in await slack.store.workspaces()] == [TEAM]


async def test_a_guest_slack_will_not_describe_is_asked_to_try_again_not_let_in(
    slack: Harness,
) -> None:
    """users.info failing is no licence: someone Touchbase has never met could be a guest, so
    they get nothing of the firm's and nothing is stored until Slack can say who they are."""
    guest = slack.fake.add_user("U0GUEST", "gus")
    guest["is_restricted"] = True
    await firm_with_a_client(slack)
    slack.fake.fail_next("users.info", error="internal_error")
    _status, body = await slack.command("Acme call with the CFO", user="U0GUEST")
    assert body["response_type"] == "ephemeral"
    assert body["text"] == UNVERIFIED_REFUSAL
    assert len(await slack.touches()) == 1
    assert "U0GUEST" not in await people_ids(slack)
    # Once Slack answers, the guest is a guest.
    _status, body = await slack.command("Acme call with the CFO", user="U0GUEST")
    assert body["text"] == REFUSAL
    assert len(await slack.touches()) == 1


async def test_a_member_already_met_keeps_working_while_slack_will_not_describe_them(
    slack: Harness, clock: FixedClock
) -> None:
    await firm_with_a_client(slack)
    clock.advance(timedelta(days=2))  # the stored profile is due a refresh
    slack.fake.fail_next("users.info", error="internal_error", times=3)
    _status, body = await slack.command("Acme call with the CFO")
    assert "Logged" in body["text"]
    assert len(await slack.touches()) == 2
    assert len(slack.fake.calls("users.info")) >= 2  # the refresh was tried, not skipped


async def test_a_click_from_someone_never_met_waits_for_slack_to_say_who_they_are(
    slack: Harness,
) -> None:
    """A click cannot wait for a slow users.info; someone met before is taken as last seen,
    but someone never met could be a guest, so they are asked to try again."""
    guest = slack.fake.add_user("U0GUEST", "gus")
    guest["is_restricted"] = True
    await firm_with_a_client(slack)
    slack.adapter.profile_wait = 0  # users.info never answers in time
    await slack.post(slack.block_actions_body("touch_undo", "1", user="U0GUEST"))
    await slack.settle()
    [answer] = slack.fake.calls("response_url")
    assert answer.params["text"] == UNVERIFIED_REFUSAL
    assert len(await slack.touches()) == 1
    assert "U0GUEST" not in await people_ids(slack)


async def test_a_click_from_a_member_met_before_goes_on_while_slack_is_slow(
    slack: Harness,
) -> None:
    await firm_with_a_client(slack)
    slack.adapter.profile_wait = 0
    await slack.post(slack.block_actions_body("touch_undo", "1"))
    await slack.settle()
    [answer] = slack.fake.calls("response_url")
    assert answer.params["text"] != UNVERIFIED_REFUSAL
    assert await slack.touches() == []


async def test_a_user_slack_says_it_does_not_know_is_asked_about_once_a_minute(
    slack: Harness, clock: FixedClock
) -> None:
    """users.info answers user_not_found for someone it will not describe: they are told to
    try again in a minute, and Slack is not asked again (nor a warning logged) before then."""
    await firm_with_a_client(slack)

    def asked() -> int:
        return sum(c.params.get("user") == "U0NOBODY" for c in slack.fake.calls("users.info"))

    for _ in range(3):
        _status, body = await slack.command("Acme call with the CFO", user="U0NOBODY")
        assert body["text"] == UNVERIFIED_REFUSAL
    assert asked() == 1
    clock.advance(timedelta(minutes=2))
    _status, body = await slack.command("Acme call with the CFO", user="U0NOBODY")
    assert body["text"] == UNVERIFIED_REFUSAL
    assert asked() == 2
    assert "U0NOBODY" not in await people_ids(slack)
    assert len(await slack.touches()) == 1
