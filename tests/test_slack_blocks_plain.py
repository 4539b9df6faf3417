"""Messages are rendered to Block Kit as plain dicts: exactly what slack_sdk's typed models gave.

`tests/slack_blocks_typed.py` keeps the typed-model renderer as the reference. Each case here
compares the JSON both produce, key order included (chat.postMessage sends the dicts as they are),
for hand-picked messages at every limit and for generated ones.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackObjectFormationError

from adapters.slack.blocks import (
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_FIELD_TEXT,
    MAX_HEADER,
    MAX_MODAL_BLOCKS,
    MAX_SECTION_TEXT,
    home_view,
    message_block_dicts,
    message_blocks,
    message_payload,
)
from bot.messages import Action, CheckItem, Field, Message, Section, Style, Tone
from tests.slack_blocks_typed import typed_home_view, typed_message_blocks, typed_message_payload

HOSTILE = "<!channel> <!here|here> <@U0123ABC> <#C1|general> <https://evil.example|click> & &amp;"
UNICODE = "Zoë & Søren — 東京 ✅ 👩‍💻 مرحبا e\u0301 \u200b 𝔘𝔫𝔦"
LONG = "word " * 1000  # 5000 characters: past every limit

CONFIRMATION = Message(
    text="Logged lunch with the CFO at Smith & Sons, yesterday.",
    sections=(
        Section(
            fields=(
                Field("Client", "Smith & Sons"),
                Field("Kind", "lunch"),
                Field("When", "yesterday"),
                Field("With", "the CFO"),
                Field("Awaiting reply", "yes: I'll remind you to follow up"),
            )
        ),
        Section(heading="Note", text="Talked about <!channel> budgets & the Q3 audit."),
        Section(context='I read "smith" as the client, "yday" as the day. Not right? Use Edit.'),
    ),
    actions=(
        Action("touch_undo", "Undo", "id=41;rev=0", Style.DANGER),
        Action("log_touch_open", "Log another", "7"),
        Action("client_open", "Open client", "7"),
        Action("touch_edit", "Edit", "id=41;rev=0"),
    ),
    tone=Tone.SUCCESS,
)


def _same(message: Message) -> dict[str, Any]:
    """Both renderers agree on the payload, the home view and the typed blocks; the payload."""
    plain = message_payload(message)
    typed = typed_message_payload(message)
    assert plain == typed
    assert json.dumps(plain, ensure_ascii=False) == json.dumps(typed, ensure_ascii=False)
    home = home_view(message).to_dict()
    assert json.dumps(home, ensure_ascii=False) == json.dumps(
        typed_home_view(message), ensure_ascii=False
    )
    assert [b.to_dict() for b in message_blocks(message)] == typed["blocks"]
    return plain


def _sizes(payload: dict[str, Any]) -> list[int]:
    """The length of every text in the payload's blocks."""
    found: list[int] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text"):
                found.append(len(node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(payload["blocks"])
    return found


# --- hand-picked messages -----------------------------------------------------------------------

CASES: dict[str, Message] = {
    "touch confirmation": CONFIRMATION,
    "empty": Message(text=""),
    "empty parts": Message(
        text="",
        title="",
        sections=(Section(), Section(heading="", context=""), Section(text=" ")),
        actions=(Action("a", "", ""),),
    ),
    "whitespace only": Message(text="   \n  ", title="  ", sections=(Section(text="\n\n"),)),
    **{
        f"tone {tone.value}": Message(text=f"A {tone.value} notice", tone=tone, title="T")
        for tone in Tone
    },
    "styles": Message(
        text="Pick one",
        actions=tuple(Action(f"s_{s.value}", s.value.title(), s.value, s) for s in Style),
    ),
    "section of every part": Message(
        text="All parts",
        title="Acme",
        sections=(
            Section(
                heading="Handoff from Bob to Jane",
                text="Some text & more",
                fields=(Field("Client", "Acme"), Field("Owner", "Jane")),
                context="small print",
                checklist=(CheckItem("Intro in person", done=True), CheckItem("Share <notes>")),
                actions=(Action("open", "Open", "1", Style.PRIMARY), Action("open", "Open", "2")),
                links=(Action("client_open", "Acme", "1"),),
            ),
        ),
    ),
    "checklist only": Message(
        text="Steps",
        sections=(Section(checklist=tuple(CheckItem(f"step {i}", i % 2 == 0) for i in range(9))),),
    ),
    "checklist that does not fit": Message(
        text="Steps",
        sections=(
            Section(heading="Long", checklist=tuple(CheckItem(LONG, done=True) for _ in range(12))),
            Section(text=LONG, checklist=tuple(CheckItem(LONG) for _ in range(12))),
        ),
    ),
    "more than ten fields": Message(
        text="Fields", sections=(Section(fields=tuple(Field(f"f{i}", str(i)) for i in range(23))),)
    ),
    "long texts clip": Message(
        text=LONG,
        title=LONG,
        sections=(
            Section(heading=LONG, text=LONG, context=LONG),
            Section(text="&" * 5000),
            Section(fields=(Field(LONG, LONG), Field("amp", "&" * 3000), Field("lt", "<" * 2500))),
        ),
        actions=(Action("a", LONG, "v" * MAX_BUTTON_VALUE),),
    ),
    "texts exactly at the limits": Message(
        text="x" * (MAX_SECTION_TEXT - 30),
        title="h" * MAX_HEADER,
        sections=(
            Section(text="y" * MAX_SECTION_TEXT),
            Section(fields=(Field("l" * 200, "v" * (MAX_FIELD_TEXT - 210)),)),
        ),
        actions=(Action("a", "b" * MAX_BUTTON_TEXT, "v" * MAX_BUTTON_VALUE),),
    ),
    "texts one past the limits": Message(
        text="x" * (MAX_SECTION_TEXT - 29),
        title="h" * (MAX_HEADER + 1),
        sections=(Section(fields=(Field("l" * 201, "v" * (MAX_FIELD_TEXT - 209)),)),),
        actions=(Action("a", "b" * (MAX_BUTTON_TEXT + 1), "v"),),
    ),
    "more than 25 actions": Message(
        text="Buttons",
        sections=(
            Section(text="in a section", actions=tuple(Action("s", "S", "") for _ in range(30))),
        ),
        actions=tuple(Action("t", f"T{i}", str(i)) for i in range(60)),
    ),
    "more than 50 blocks": Message(
        text="Many",
        title="Many",
        sections=tuple(Section(heading=f"h{i}", text=f"t{i}", context=f"c{i}") for i in range(40)),
        actions=tuple(Action("t", f"T{i}", str(i)) for i in range(30)),
    ),
    "more than 100 blocks": Message(
        text="Lots",
        sections=tuple(
            Section(text=f"t{i}", fields=(Field("a", "b"),), actions=(Action("x", "X", str(i)),))
            for i in range(60)
        ),
    ),
    "trailing buttons alone past the limit": Message(
        text="Too many buttons", actions=tuple(Action("t", "T", str(i)) for i in range(26 * 52))
    ),
    "escaping": Message(
        text=HOSTILE,
        title=HOSTILE,
        sections=(
            Section(heading=HOSTILE, text=HOSTILE, fields=(Field(HOSTILE, HOSTILE),)),
            Section(context=HOSTILE, checklist=(CheckItem(HOSTILE),)),
        ),
        actions=(Action("a", HOSTILE, HOSTILE),),
    ),
    "unicode": Message(
        text=UNICODE * 200,
        title=UNICODE * 10,
        sections=(
            Section(heading=UNICODE, text=UNICODE, fields=(Field(UNICODE, UNICODE * 100),)),
            Section(context=UNICODE, checklist=(CheckItem(UNICODE, True),)),
        ),
        actions=(Action("a", UNICODE * 5, UNICODE),),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_plain_blocks_equal_the_typed_models(name: str) -> None:
    _same(CASES[name])


def test_the_cases_reach_every_limit() -> None:
    """The hand-picked cases do exercise what they are named after."""
    long = _same(CASES["long texts clip"])
    sizes = _sizes(long)
    assert sizes[:2] == [MAX_HEADER, MAX_SECTION_TEXT - 30] and max(sizes) <= MAX_SECTION_TEXT
    header, summary = long["blocks"][0], long["blocks"][1]
    assert header["type"] == "header" and len(header["text"]["text"]) <= MAX_HEADER
    assert header["text"]["text"].endswith("…") and summary["text"]["text"].endswith("…")
    button = long["blocks"][-1]["elements"][0]
    assert len(button["text"]["text"]) <= MAX_BUTTON_TEXT and button["text"]["text"].endswith("…")
    assert all(
        len(f["text"]) <= MAX_FIELD_TEXT for b in long["blocks"] for f in b.get("fields", [])
    )

    fields = _same(CASES["more than ten fields"])["blocks"]
    assert [len(b["fields"]) for b in fields if "fields" in b] == [10, 10, 3]

    actions = _same(CASES["more than 25 actions"])["blocks"]
    assert [len(b["elements"]) for b in actions if b["type"] == "actions"] == [25, 5, 25, 25, 10]
    ids = [e["action_id"] for b in actions if b["type"] == "actions" for e in b["elements"]]
    assert len(set(ids)) == 90 and ids[30] == "t::30"

    many = _same(CASES["more than 50 blocks"])["blocks"]
    assert len(many) == MAX_BLOCKS
    assert many[-3]["elements"][0]["text"] == "(more not shown)"
    assert [b["type"] for b in many[-2:]] == ["actions", "actions"]
    assert len(home_view(CASES["more than 100 blocks"]).to_dict()["blocks"]) == MAX_MODAL_BLOCKS

    styles = _same(CASES["styles"])["blocks"][1]["elements"]
    assert [b.get("style") for b in styles] == [None, "primary", "danger"]

    empty = _same(CASES["empty"])
    assert empty == {
        "text": " ",
        "blocks": [{"text": {"text": " ", "type": "mrkdwn", "verbatim": True}, "type": "section"}],
    }


def test_a_touch_confirmation_is_rendered_as_before() -> None:
    payload = _same(CONFIRMATION)
    assert [b["type"] for b in payload["blocks"]] == [
        "section",
        "section",
        "section",
        "context",
        "actions",
    ]
    undo = payload["blocks"][-1]["elements"][0]
    assert list(undo) == ["action_id", "style", "text", "type", "value"]
    assert undo == {
        "action_id": "touch_undo::0",
        "style": "danger",
        "text": {"emoji": False, "text": "Undo", "type": "plain_text"},
        "type": "button",
        "value": "id=41;rev=0",
    }
    assert "&lt;!channel&gt; budgets &amp; the Q3" in payload["blocks"][2]["text"]["text"]


def test_escaping_leaves_no_markup_in_mrkdwn() -> None:
    payload = _same(CASES["escaping"])
    shown = json.dumps(payload["blocks"])
    for block in payload["blocks"]:
        for text in [block.get("text", {}), *block.get("fields", [])]:
            if text.get("type") == "mrkdwn":
                assert "<" not in text["text"] and ">" not in text["text"]
    assert "&lt;!channel&gt;" in shown and "&amp;amp;" in shown
    assert payload["text"].startswith("&lt;!channel&gt;")


def test_every_payload_is_new() -> None:
    """Callers may add to a payload (channel, thread_ts): nothing is shared between replies."""
    first, second = message_payload(CONFIRMATION), message_payload(CONFIRMATION)
    assert first == second
    first["blocks"][0]["text"]["text"] = "changed"
    first["blocks"][-1]["elements"].clear()
    assert message_payload(CONFIRMATION) == second


def test_a_value_too_long_is_refused_by_both() -> None:
    message = Message(text="x", actions=(Action("a", "A", "v" * (MAX_BUTTON_VALUE + 1)),))
    with pytest.raises(ValueError, match="too long for Slack"):
        message_payload(message)
    with pytest.raises(ValueError, match="too long for Slack"):
        typed_message_payload(message)


def test_an_action_id_too_long_is_refused_by_both() -> None:
    fits = Message(text="x", actions=(Action("a" * 252, "A"),))  # "…::0" is 255
    assert message_payload(fits) == typed_message_payload(fits)
    message = Message(text="x", actions=(Action("a" * 253, "A"),))
    with pytest.raises(SlackObjectFormationError, match="action_id"):
        message_payload(message)
    with pytest.raises(SlackObjectFormationError, match="action_id"):
        typed_message_payload(message)


def test_message_block_dicts_take_a_limit_as_the_home_tab_does() -> None:
    message = CASES["more than 100 blocks"]
    blocks = message_block_dicts(message, limit=MAX_MODAL_BLOCKS)
    assert blocks == [b.to_dict() for b in typed_message_blocks(message, limit=MAX_MODAL_BLOCKS)]
    assert len(blocks) == MAX_MODAL_BLOCKS


# --- generated messages -------------------------------------------------------------------------

EXAMPLES = int(os.environ.get("TOUCHBASE_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PIECES = st.sampled_from(
    ["<!channel>", "<@U0123>", "<https://x|y>", "&", "&amp;", "<", ">", "*", "_", "~", "`", "\n"]
)
SHORT = st.one_of(st.text(max_size=40), PIECES)
# Long ones: a short piece repeated to just under, at, or past a limit (cheaper to generate
# than thousands of drawn characters, and it lands entities on the clipping points).
LONGER = st.builds(
    lambda piece, times: piece * times,
    st.one_of(PIECES, st.text(min_size=1, max_size=6)),
    st.integers(min_value=1, max_value=3200),
)
TEXT = st.one_of(SHORT, SHORT, SHORT, LONGER)
ACTION = st.builds(
    Action,
    action_id=st.from_regex(r"[a-z_]{1,30}", fullmatch=True),
    label=TEXT,
    value=st.one_of(SHORT, LONGER.map(lambda text: text[:MAX_BUTTON_VALUE])),
    style=st.sampled_from(Style),
)
SECTION = st.builds(
    Section,
    text=st.one_of(st.just(""), TEXT),
    fields=st.lists(st.builds(Field, TEXT, TEXT), max_size=12).map(tuple),
    actions=st.lists(ACTION, max_size=27).map(tuple),
    heading=st.one_of(st.none(), TEXT),
    context=st.one_of(st.none(), TEXT),
    checklist=st.lists(st.builds(CheckItem, TEXT, st.booleans()), max_size=6).map(tuple),
)
MESSAGE = st.builds(
    Message,
    text=TEXT,
    title=st.one_of(st.none(), TEXT),
    sections=st.lists(SECTION, max_size=6).map(tuple),
    actions=st.lists(ACTION, max_size=27).map(tuple),
    tone=st.sampled_from(Tone),
)
# Many small sections, so the block limits are reached often.
CROWDED = st.builds(
    Message,
    text=SHORT,
    sections=st.lists(
        st.builds(Section, text=SHORT, context=st.one_of(st.none(), SHORT)),
        min_size=20,
        max_size=70,
    ).map(tuple),
    actions=st.lists(ACTION, max_size=60).map(tuple),
)


@FUZZ
@given(MESSAGE)
def test_generated_messages_render_as_the_typed_models_do(message: Message) -> None:
    _same(message)


@FUZZ
@given(CROWDED)
def test_generated_crowded_messages_render_as_the_typed_models_do(message: Message) -> None:
    payload = _same(message)
    assert len(payload["blocks"]) <= MAX_BLOCKS
