"""The Adaptive Card renderer: golden snapshots, and user text that must stay plain text.

Snapshots live in tests/golden/teams_*.json. After an intended change to the cards, regenerate
them with ``TOUCHBASE_UPDATE_GOLDEN=1 pytest tests/test_teams_cards.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from adapters.teams import cards
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
from tests.teams_helpers import card_text, submits, unescape

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("TOUCHBASE_UPDATE_GOLDEN") == "1"

MESSAGE = Message(
    text="Logged lunch with CFO at Acme Corp, today.",
    title="Acme Corp",
    sections=(
        Section(
            fields=(
                Field("Client", "Acme Corp"),
                Field("Kind", "lunch"),
                Field("When", "today"),
                Field("Awaiting reply", "yes: I'll remind you to follow up"),
            )
        ),
        Section(heading="Recent history", text="today: Ada, lunch with CFO\nMonday: Ben, call"),
        Section(
            text="Overdue since Friday.",
            context="Cadence: every 30 days",
            actions=(Action("client_open", "Open client", "7"),),
        ),
    ),
    actions=(
        Action("touch_undo", "Undo", "42", Style.DANGER),
        Action("log_touch_open", "Log another", "7", Style.PRIMARY),
        Action("client_open", "Open client", "7"),
    ),
    tone=Tone.SUCCESS,
)

FORM = Form(
    form_id="log_touch",
    title="Log a touch",
    submit_label="Log it",
    private_value='{"client":7}',
    inputs=(
        FormInput(
            "client",
            "Client",
            InputKind.CLIENT,
            required=True,
            initial="Acme Corp",
            placeholder="Start typing a client",
        ),
        FormInput(
            "kind",
            "Kind",
            InputKind.SELECT,
            required=True,
            initial="call",
            options=(Option("call", "Call"), Option("lunch", "Lunch")),
        ),
        FormInput("contact", "With whom", placeholder="e.g. the CFO, Dana"),
        FormInput("date", "When", InputKind.DATE, required=True, initial="2026-11-23"),
        FormInput("note", "Note", InputKind.MULTILINE),
        FormInput("awaiting", "Waiting for their reply", InputKind.CHECKBOX),
    ),
)


def check_golden(name: str, card: dict[str, Any]) -> None:
    path = GOLDEN / name
    text = json.dumps(card, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if not path.exists():
        pytest.fail(f"{path} is missing: run with TOUCHBASE_UPDATE_GOLDEN=1 to create it")
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} changed; if intended, regenerate with TOUCHBASE_UPDATE_GOLDEN=1"
    )


def test_message_card_matches_the_golden_file() -> None:
    check_golden("teams_message.json", cards.message_card(MESSAGE))


def test_form_card_matches_the_golden_file() -> None:
    check_golden("teams_form.json", cards.form_card(FORM))


def test_form_card_with_errors_matches_the_golden_file() -> None:
    card = cards.form_card(
        FORM,
        errors={"date": "Use a date like 2026-11-03."},
        values={"client": "Acme Corp", "kind": "lunch", "date": "23/11", "awaiting": "true"},
    )
    check_golden("teams_form_errors.json", card)


def test_message_card_shape() -> None:
    card = cards.message_card(MESSAGE)
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    assert card["fallbackText"] == MESSAGE.text
    assert all(b.get("wrap") for b in card["body"] if b["type"] == "TextBlock")
    [facts] = [b for b in card["body"] if b["type"] == "FactSet"]
    assert facts["facts"][0] == {"title": "Client", "value": "Acme Corp"}
    data = [s["data"] for s in submits(card)]
    assert {"action_id": "touch_undo", "value": "42"} in data
    styles = {s["data"]["action_id"]: s.get("style") for s in card["actions"]}
    assert styles == {
        "touch_undo": "destructive",
        "log_touch_open": "positive",
        "client_open": None,
    }


def test_form_card_round_trips_its_own_description() -> None:
    card = cards.form_card(FORM)
    [submit] = submits(card)
    data = json.loads(json.dumps(submit["data"]))  # as Teams sends it back
    again = cards.form_from_description(data["form_id"], data["private_value"], data["form"])
    assert again is not None
    assert again.form_id == FORM.form_id and again.private_value == FORM.private_value
    assert [(i.name, i.kind, i.required) for i in again.inputs] == [
        (i.name, i.kind, i.required) for i in FORM.inputs
    ]
    assert cards.form_from_description("x", "", {"inputs": [{"kind": "nonsense"}]}) is None
    assert cards.form_from_description("x", "", "not a dict") is None


def test_reserved_input_names_are_refused() -> None:
    bad = Form("f", "F", (FormInput("action_id", "Sneaky"),))
    with pytest.raises(ValueError, match="reserved"):
        cards.form_card(bad)


# --- injection --------------------------------------------------------------------------------

HOSTILE = (
    "<at>x</at> **bold** _it_ [link](http://evil) <script>alert(1)</script> "
    "![img](http://evil/i.png) `code` &lt;at&gt; ~~gone~~"
)


@pytest.mark.security
def test_user_text_renders_escaped_everywhere() -> None:
    message = Message(
        text=f"Logged call at Acme: {HOSTILE}",
        title=HOSTILE,
        sections=(
            Section(
                heading=HOSTILE,
                text=f"{HOSTILE}\n- list item\n1. numbered\n# heading",
                fields=(Field(HOSTILE, HOSTILE),),
                context=HOSTILE,
            ),
        ),
    )
    card = cards.message_card(message)
    shown = card_text(card)
    # Every Markdown or HTML special is preceded by a backslash...
    for raw in ("**bold**", "[link](http://evil)", "<at>", "<script>", "](", "`code`", "~~"):
        assert raw not in shown
    for escaped in (
        r"\*\*bold\*\*",
        r"\[link\]\(http://evil\)",
        r"\<at\>x\</at\>",
        r"\<script\>",
        r"\&lt;at\&gt;",
        r"\_it\_",
    ):
        assert escaped in shown
    assert r"\- list item" in shown and r"1\. numbered" in shown and r"\# heading" in shown
    # ...so the reader sees exactly what was typed, and no mention entity is ever produced.
    assert HOSTILE in unescape(shown)
    assert "entities" not in json.dumps(card.get("msteams", {}))


@pytest.mark.security
def test_plain_text_fields_are_not_escaped_but_stay_data() -> None:
    action = Action("client_open", "<at>x</at> **Open**", "7")
    form = Form(
        "f", "<b>Title</b>", (FormInput("note", "[label](http://evil)", initial="**typed**"),)
    )
    card = cards.message_card(Message(text="x", actions=(action,)))
    assert card["actions"][0]["title"] == "<at>x</at> **Open**"  # Teams shows titles as text
    form_card = cards.form_card(form)
    note = next(b for b in form_card["body"] if b.get("id") == "note")
    assert note["label"] == "[label](http://evil)"
    assert note["value"] == "**typed**"
    assert form_card["body"][0]["text"] == r"\<b\>Title\</b\>"


def test_escape_is_exact_for_ordinary_text() -> None:
    assert cards.escape("Acme Corp lunch with CFO, today.") == "Acme Corp lunch with CFO, today."
    assert cards.escape("2026-11-23") == "2026-11-23"
    assert unescape(cards.escape("a\\b")) == "a\\b"
