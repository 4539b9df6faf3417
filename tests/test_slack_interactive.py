"""Buttons, modals, the message shortcut, App Home and chat messages, over signed HTTP."""

from __future__ import annotations

import json
from typing import Any

from tests.slack_helpers import (  # noqa: F401  (fixtures)
    USER,
    Harness,
    slack_fake_fixture,
    slack_fixture,
)


def _button(blocks: list[dict[str, Any]], action_prefix: str) -> dict[str, Any]:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("type") == "button" and element["action_id"].startswith(action_prefix):
                return dict(element)
    raise AssertionError(f"no {action_prefix} button in {blocks}")


async def _log_one(slack: Harness) -> dict[str, Any]:
    await slack.command("add Acme", command="/client")
    status, body = await slack.command("Acme lunch with the CFO")
    assert status == 200
    return body


async def _open_log_another(slack: Harness) -> dict[str, Any]:
    body = await _log_one(slack)
    button = _button(body["blocks"], "log_touch_open::")
    status, _ = await slack.post(
        slack.block_actions_body(button["action_id"], button["value"], trigger_id="111.222.abc")
    )
    assert status == 200
    await slack.settle()
    [call] = slack.fake.calls("views.open")
    assert call.params["trigger_id"] == "111.222.abc"
    view = call.params["view"]
    return view if isinstance(view, dict) else json.loads(view)


async def test_log_another_opens_the_form_as_a_modal(slack: Harness) -> None:
    view = await _open_log_another(slack)
    assert view["type"] == "modal"
    assert view["callback_id"] == "log_touch"
    assert view["title"]["text"] == "Log a touch"
    assert [b["block_id"] for b in view["blocks"]] == [
        "client",
        "kind",
        "contact",
        "date",
        "note",
        "awaiting",
    ]
    kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"]}
    assert kinds == {
        "client": "external_select",
        "kind": "static_select",
        "contact": "plain_text_input",
        "date": "datepicker",
        "note": "plain_text_input",
        "awaiting": "checkboxes",
    }
    client = view["blocks"][0]["element"]
    assert client["initial_option"]["text"]["text"] == "Acme"
    assert view["blocks"][3]["element"]["initial_date"] == "2026-11-23"
    assert view["blocks"][4]["element"]["multiline"] is True


def _state(client: str, date: str, note: str = "", kind: str = "call") -> dict[str, Any]:
    return {
        "client": {
            "client_search": {
                "type": "external_select",
                "selected_option": {"value": client, "text": {"type": "plain_text", "text": "x"}},
            }
        },
        "kind": {
            "value": {
                "type": "static_select",
                "selected_option": {"value": kind, "text": {"type": "plain_text", "text": kind}},
            }
        },
        "contact": {"value": {"type": "plain_text_input", "value": "Dana"}},
        "date": {"value": {"type": "datepicker", "selected_date": date}},
        "note": {"value": {"type": "plain_text_input", "value": note}},
        "awaiting": {"value": {"type": "checkboxes", "selected_options": []}},
    }


async def test_a_bad_date_is_shown_inline_and_a_good_one_is_stored(slack: Harness) -> None:
    view = await _open_log_another(slack)
    before = len(await slack.touches())

    status, body = await slack.post(
        slack.view_submission_body(view, _state("Acme", "2027-01-01"), view_id="V1")
    )
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert "future" in answer["errors"]["date"]
    assert len(await slack.touches()) == before

    status, body = await slack.post(
        slack.view_submission_body(view, _state("Acme", "2026-11-20", "Budget talk"), view_id="V1")
    )
    assert status == 200
    assert body == ""  # closes the modal
    await slack.settle()
    touches = await slack.touches()
    assert len(touches) == before + 1
    [logged] = [t for t in touches if t.note == "Budget talk"]
    assert logged.contact == "Dana"
    # The confirmation goes back where the button was clicked.
    [confirm] = [c for c in slack.fake.calls("response_url") if "Logged" in c.params["text"]]
    assert confirm.params["response_type"] == "ephemeral"


async def test_client_picker_searches_as_you_type(slack: Harness) -> None:
    for name in ("Acme", "Acme Labs", "Beta Corp"):
        await slack.command(f"add {name}", command="/client")
    payload = {
        "type": "block_suggestion",
        "action_id": "client_search",
        "block_id": "client",
        "value": "acm",
        "team": {"id": slack.team, "domain": "fake-workspace"},
        "user": {"id": USER, "team_id": slack.team},
        "api_app_id": slack.fake.app_id,
        "container": {"type": "view", "view_id": "V1"},
        "view": {"id": "V1", "type": "modal", "callback_id": "log_touch"},
    }
    from urllib.parse import urlencode

    status, body = await slack.post(urlencode({"payload": json.dumps(payload)}))
    assert status == 200
    options = json.loads(body)["options"]
    assert [o["text"]["text"] for o in options] == ["Acme", "Acme Labs"]


async def test_message_shortcut_opens_a_prefilled_modal(slack: Harness) -> None:
    status, _ = await slack.post(
        slack.message_shortcut_body("Great lunch with Acme's CFO; they want a proposal & <!here>")
    )
    assert status == 200
    await slack.settle()
    [call] = slack.fake.calls("views.open")
    view = call.params["view"]
    note = next(b for b in view["blocks"] if b["block_id"] == "note")
    assert note["element"]["initial_value"].startswith("Great lunch with Acme's CFO")
    assert "& @here" in note["element"]["initial_value"]  # plain text in a plain_text input


async def test_app_home_shows_the_portfolio(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    await slack.command("add Beta", command="/client")
    await slack.command("Beta call")
    event = {"type": "app_home_opened", "user": USER, "channel": "D0ADA", "tab": "home"}
    assert await slack.event(event, event_id="Ev0HOME1") == 200
    await slack.settle()
    [call] = slack.fake.calls("views.publish")
    assert call.params["user_id"] == USER
    view = call.params["view"]
    assert view["type"] == "home"
    rendered = json.dumps(view["blocks"])
    assert "Your portfolio" in rendered
    assert "Acme: never contacted" in rendered and "Beta: on schedule" in rendered
    assert "Load" in rendered
    assert "no target for your role (admin)" in rendered  # the first person is the admin


async def test_a_dm_is_read_as_a_command(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": "D0ADA",
        "user": USER,
        "text": "touch Acme call with Dana",
        "ts": "1700000000.000400",
    }
    assert await slack.event(event) == 200
    await slack.settle()
    [reply] = slack.fake.calls("chat.postMessage")
    assert reply.params["channel"] == "D0ADA"
    assert "Logged call" in reply.params["text"]
    assert len(await slack.touches()) == 1


async def test_a_mention_replies_privately_in_the_thread(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    event = {
        "type": "app_mention",
        "channel": "C0GENERAL",
        "user": USER,
        "text": f"<@{slack.fake.bot_user_id}> touch Acme email",
        "ts": "1700000000.000500",
    }
    assert await slack.event(event) == 200
    await slack.settle()
    [reply] = slack.fake.calls("chat.postEphemeral")
    assert reply.params["user"] == USER
    assert reply.params["thread_ts"] == "1700000000.000500"
    assert "Logged email" in reply.params["text"]


async def test_uninstall_marks_the_workspace_inactive(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    assert len(await slack.store.workspaces()) == 1
    assert await slack.event({"type": "app_uninstalled"}) == 200
    await slack.settle()
    assert await slack.store.workspaces() == []  # only active ones are listed
