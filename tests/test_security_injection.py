"""Markup in user text stays text on every platform.

A client name or note holding `<!channel>`, `<@U…>`, `<https://evil|x>` (Slack mrkdwn), `<at>`,
`**`, `[x](http://evil)` (Adaptive Card Markdown), `<script>` (HTML) or terminal escape
sequences goes through the real core into each renderer, and comes out inert. Then the same
invariants are checked on generated text. (Golden and per-field escaping tests live with each
adapter: test_slack_blocks, test_teams_cards, test_web_chat.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.console import render as console_render
from adapters.slack.blocks import message_payload
from adapters.teams.cards import message_card
from adapters.web.render import render_message
from bot.app import Touchbase
from bot.domain import Platform
from bot.inbound import ActionIn, CommandIn, Identity
from bot.messages import Action, Field, Message, Section, Tone

pytestmark = pytest.mark.security

HOSTILE = [
    "<!channel>",
    "<!here|here>",
    "<@U0BOSS>",
    "<#C0SECRET>",
    "<https://evil.example|click me>",
    "<at>Everyone</at>",
    "**bold** _it_",
    "[x](http://evil.example)",
    "![img](http://evil.example/p.png)",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "\x1b[2J\x1b]0;pwned\x07",
    "\x9b31m",
    "&lt;not an entity&gt; & co",
    "# heading\n- item\n1. item\n> quote",
]
NOTE = " ".join(HOSTILE)

# --- invariants, one per platform ---------------------------------------------------------------

_ENTITY = re.compile(r"&(amp|lt|gt);")


def slack_mrkdwn(payload: Any) -> Iterator[str]:
    """Every string Slack reads as mrkdwn: mrkdwn objects and the top-level fallback text."""
    if isinstance(payload, dict):
        if payload.get("type") == "mrkdwn":
            yield payload["text"]
        for value in payload.values():
            yield from slack_mrkdwn(value)
    elif isinstance(payload, list):
        for value in payload:
            yield from slack_mrkdwn(value)


def assert_slack_inert(message: Message) -> None:
    payload = message_payload(message)
    for text in [payload["text"], *slack_mrkdwn(payload["blocks"])]:
        assert "<" not in text and ">" not in text, text
        assert "&" not in _ENTITY.sub("", text), text  # every & starts one of the 3 entities


_CARD_SPECIALS = set("\\`*_{}[]()<>#|!~&")


def unescaped_specials(text: str) -> list[str]:
    found, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] in _CARD_SPECIALS:
            found.append(text[i])
        i += 1
    return found


def card_markdown(card: Any) -> Iterator[str]:
    """Every string an Adaptive Card renders as Markdown: TextBlock text, FactSet facts."""
    if isinstance(card, dict):
        if card.get("type") == "TextBlock":
            yield card["text"]
        if card.get("type") == "FactSet":
            for fact in card["facts"]:
                yield fact["title"]
                yield fact["value"]
        for key, value in card.items():
            if key != "data":  # Action.Submit data is never shown
                yield from card_markdown(value)
    elif isinstance(card, list):
        for value in card:
            yield from card_markdown(value)


def assert_teams_inert(message: Message) -> None:
    card = message_card(message)
    for text in card_markdown(card):
        assert unescaped_specials(text) == [], text
        assert not re.match(r"\s*([-+>]|\d+[.)])", text), text  # no list or quote marker
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text), text


OUR_TAGS = {"article", "span", "div", "h3", "p", "br", "section", "h4", "dl", "dt", "dd", "button"}
OUR_TAGS |= {"ul", "li"}  # checklists, and lists of linked client names
OUR_ATTRS = {"class", "aria-hidden", "type", "data-action-id", "data-value"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_web_inert(message: Message) -> None:
    html = render_message(message)
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag in OUR_TAGS, (tag, html)
        assert {name for name, _ in attrs} <= OUR_ATTRS, (attrs, html)


_TERMINAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # tab and newline are fine


def assert_console_inert(message: Message) -> None:
    out = console_render(message)
    assert not _TERMINAL.search(out), repr(out)


def assert_inert_everywhere(message: Message) -> None:
    assert_slack_inert(message)
    assert_teams_inert(message)
    assert_web_inert(message)
    assert_console_inert(message)


def hostile_message(text: str) -> Message:
    return Message(
        text=text,
        title=text,
        sections=(
            Section(
                text=text,
                heading=text,
                context=text,
                fields=(Field(text, text),),
                actions=(Action("client_open", text, text),),
            ),
        ),
        actions=(Action("touch_undo", text, text),),
        tone=Tone.WARNING,
    )


# --- through the real core ------------------------------------------------------------------------


async def test_hostile_names_and_notes_come_out_inert_on_every_platform(app: Touchbase) -> None:
    who = Identity(Platform.CONSOLE, "firm", "alice", "Alice <@U0BOSS> \x1b[31m")
    name = "Evil <!channel> **Co** <script>"
    replies = [
        await app.command(who, CommandIn("client", f"add {name}, <at>x</at> [x](http://evil)")),
        await app.command(who, CommandIn("touch", f'"{name}" call {NOTE}')),
        await app.command(who, CommandIn("client", f'"{name}"')),
        await app.command(who, CommandIn("clients", "")),
        await app.command(who, CommandIn("due", "")),
        await app.command(who, CommandIn("touch", f"Nobody-Known {NOTE}")),
        await app.action(who, ActionIn("client_open", "1")),
    ]
    messages = [r for r in replies if isinstance(r, Message)]
    assert len(messages) == len(replies)
    shown = json.dumps([message_payload(m) for m in messages])
    assert "script" in shown and "channel" in shown  # the hostile text did reach the replies
    for message in messages:
        assert_inert_everywhere(message)


def test_known_payloads_are_inert() -> None:
    for text in [*HOSTILE, NOTE]:
        assert_inert_everywhere(hostile_message(text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20), st.characters()), max_size=8
    ).map("".join)
)
def test_any_text_is_inert(text: str) -> None:
    assert_inert_everywhere(hostile_message(text))
