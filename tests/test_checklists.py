"""A checklist (handoff steps, the repair conversation) shows ticks and empty boxes in every
renderer, never a literal `[ ]` or `[x]`, and its items stay plain text."""

from __future__ import annotations

import json

from adapters.console import render
from adapters.slack.blocks import message_blocks
from adapters.teams.cards import message_card
from adapters.web.render import render_message
from bot.messages import CheckItem, Message, Section

MESSAGE = Message(
    "Handoff of Acme under way",
    sections=(
        Section(
            heading="Handoff from Bob to Jane",
            checklist=(
                CheckItem("Bob introduces Jane to Acme in person", done=True),
                CheckItem("Bob shares <notes> & *preferences*"),
            ),
        ),
    ),
)


def test_slack_draws_emoji_ticks_and_boxes() -> None:
    blocks = [b.to_dict() for b in message_blocks(MESSAGE)]
    text = blocks[1]["text"]["text"]
    assert text == (
        "*Handoff from Bob to Jane*\n"
        ":white_check_mark: Bob introduces Jane to Acme in person\n"
        ":white_large_square: Bob shares &lt;notes&gt; &amp; *preferences*"
    )
    assert "[ ]" not in json.dumps(blocks) and "[x]" not in json.dumps(blocks)


def test_teams_draws_one_line_per_item_with_a_tick_or_a_box() -> None:
    body = message_card(MESSAGE)["body"]
    lines = [b["text"] for b in body if b["type"] == "TextBlock"]
    assert "✅ Bob introduces Jane to Acme in person" in lines
    assert "⬜ Bob shares \\<notes\\> \\& \\*preferences\\*" in lines


def test_console_ticks_and_boxes() -> None:
    out = render(MESSAGE)
    assert "    ✓ Bob introduces Jane to Acme in person" in out
    assert "    ☐ Bob shares <notes> & *preferences*" in out
    assert "[ ]" not in out and "[x]" not in out


def test_web_list_with_boxes_and_words_for_screen_readers() -> None:
    html = render_message(MESSAGE)
    assert '<ul class="checklist">' in html
    assert (
        '<li class="done"><span class="box" aria-hidden="true">✓</span>'
        '<span class="sr-only">Done: </span>Bob introduces Jane to Acme in person</li>'
    ) in html
    assert (
        '<span class="sr-only">To do: </span>Bob shares &lt;notes&gt; &amp; *preferences*' in html
    )
