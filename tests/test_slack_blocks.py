"""Block Kit rendering: golden snapshots, escaping, Slack's limits, and the way back in.

Regenerate the goldens only on purpose: `UPDATE_GOLDEN=1 pytest tests/test_slack_blocks.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.blocks import (
    MAX_BLOCKS,
    ModalState,
    decode_action_id,
    encode_action_id,
    escape,
    form_view,
    from_slack_text,
    message_payload,
    view_values,
)
from bot.commands.touch import touch_form
from bot.messages import (
    Action,
    Field,
    Form,
    FormInput,
    InputKind,
    Message,
    Option,
    Section,
    Style,
    Tone,
)

GOLDEN = Path(__file__).parent / "golden"


def _golden(name: str, actual: Any) -> None:
    path = GOLDEN / name
    text = json.dumps(actual, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} is missing: run with UPDATE_GOLDEN=1 to write it"
    assert text == path.read_text(encoding="utf-8")


def representative_message() -> Message:
    return Message(
        text="Logged lunch with the CFO at Smith & Sons, yesterday.",
        title="Smith & Sons",
        sections=(
            Section(
                fields=(
                    Field("Client", "Smith & Sons"),
                    Field("Kind", "lunch"),
                    Field("When", "yesterday"),
                    Field("With", "the CFO"),
                )
            ),
            Section(heading="Note", text="Talked about <!channel> budgets & the Q3 audit."),
            Section(context="You typed: /touch Smith lunch with the CFO yesterday"),
        ),
        actions=(
            Action("touch_undo", "Undo", "41", Style.DANGER),
            Action("log_touch_open", "Log another", "7", Style.PRIMARY),
            Action("client_open", "Open client", "7"),
        ),
        tone=Tone.SUCCESS,
    )


def test_message_golden() -> None:
    _golden("slack_message.json", message_payload(representative_message()))


def test_form_golden() -> None:
    from datetime import date

    form = touch_form(note="Lunch & learn", today=date(2026, 11, 23))
    view = form_view(form, ModalState(form.private_value, None, "C0GENERAL")).to_dict()
    _golden("slack_form.json", view)


@pytest.mark.security
def test_every_user_string_is_escaped_in_mrkdwn() -> None:
    hostile = "<!channel> <@U999> <https://evil.example|x> & <#C1>"
    message = Message(
        text=hostile,
        title=hostile,
        sections=(
            Section(heading=hostile, text=hostile, fields=(Field(hostile, hostile),)),
            Section(context=hostile),
        ),
        actions=(Action("a", hostile, "v"),),
    )
    payload = message_payload(message)
    # The top-level text (notifications, fallback) is mrkdwn too.
    assert payload["text"] == escape(hostile)
    for block in payload["blocks"]:
        for text in _text_objects(block):
            if text["type"] == "mrkdwn":
                assert "<" not in text["text"] and ">" not in text["text"]
                assert "&amp;" in text["text"]
            else:  # plain_text shows as typed, and Slack never parses it
                assert text["type"] == "plain_text"


def _text_objects(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
            found.append(node)
        for value in node.values():
            found.extend(_text_objects(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_text_objects(value))
    return found


def test_limits_are_kept_by_clipping() -> None:
    long = "x" * 5000
    message = Message(
        text=long,
        title=long,
        sections=tuple(
            Section(text=long, fields=tuple(Field(f"f{i}", "&" * 3000) for i in range(12)))
            for _ in range(30)
        ),
        actions=tuple(Action("a", "label " * 30, str(i)) for i in range(30)),
    )
    blocks = message_payload(message)["blocks"]
    assert len(blocks) <= MAX_BLOCKS
    assert blocks[0]["type"] == "header" and len(blocks[0]["text"]["text"]) <= 150
    for block in blocks:
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            fields = block.get("fields", [])
            assert len(fields) <= 10
            assert all(len(f["text"]) <= 2000 for f in fields)
            assert all("&amp" in f["text"][-10:] or f["text"].endswith("…") for f in fields)
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            assert all(len(e["text"]["text"]) <= 75 for e in block["elements"])
    ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(ids) == len(set(ids)) == 30  # all buttons kept, each id unique


def test_action_ids_round_trip() -> None:
    assert decode_action_id(encode_action_id("touch_undo", 3)) == "touch_undo"
    assert decode_action_id("plain") == "plain"


def test_escape() -> None:
    assert escape("a & <b> & c") == "a &amp; &lt;b&gt; &amp; c"


def test_slack_text_becomes_plain_text_with_mentions() -> None:
    text, mentions = from_slack_text(
        "lunch with <@U123|jane> in <#C1|general> &lt;b&gt; &amp; <!here> <https://x.example|site>"
    )
    assert text == "lunch with <@U123> in #general <b> & @here site (https://x.example)"
    assert mentions == {"U123": "jane"}


def test_view_values_read_every_input_kind() -> None:
    form = Form(
        "f",
        "A form",
        (
            FormInput("t", "Text"),
            FormInput("m", "Lines", InputKind.MULTILINE),
            FormInput("d", "Date", InputKind.DATE),
            FormInput("s", "Pick", InputKind.SELECT, options=(Option("a", "A"),)),
            FormInput("c", "Client", InputKind.CLIENT),
            FormInput("x", "Tick", InputKind.CHECKBOX),
        ),
    )
    view = form_view(form).to_dict()
    assert [b["block_id"] for b in view["blocks"]] == ["t", "m", "d", "s", "c", "x"]
    state = {
        "values": {
            "t": {"value": {"type": "plain_text_input", "value": "hi"}},
            "m": {"value": {"type": "plain_text_input", "value": None}},
            "d": {"value": {"type": "datepicker", "selected_date": "2026-11-20"}},
            "s": {"value": {"type": "static_select", "selected_option": {"value": "a"}}},
            "c": {"client_search": {"type": "external_select", "selected_option": {"value": "7"}}},
            "x": {"value": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}},
        }
    }
    assert view_values({"state": state}) == {
        "t": "hi",
        "m": "",
        "d": "2026-11-20",
        "s": "a",
        "c": "7",
        "x": "yes",
    }


def test_modal_state_round_trips_and_tolerates_junk() -> None:
    state = ModalState("opaque", "https://hooks.slack.com/x", "C1")
    assert ModalState.load(state.dump()) == state
    assert ModalState.load("not json") == ModalState()
    assert ModalState.load(None) == ModalState()
