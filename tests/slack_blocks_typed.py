"""The message renderer as it was built on slack_sdk's typed Block Kit models: kept only as the
reference the plain-dict renderer in `adapters.slack.blocks` is checked against.

Copied from `adapters/slack/blocks.py` as it stood before messages were rendered to plain dicts;
change it only together with the renderer, and only on purpose. The text helpers (escape, clip)
and the limits are imported, not copied: they are what both renderers share.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from adapters.slack.blocks import (
    MAX_ACTIONS,
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_CONTEXT_TEXT,
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_HEADER,
    MAX_MODAL_BLOCKS,
    MAX_SECTION_TEXT,
    clip,
    clip_escaped,
    encode_action_id,
    fallback_text,
)
from bot.messages import Action, CheckItem, Message, Section, Style, Tone

_ICONS = {
    Tone.INFO: "",
    Tone.SUCCESS: ":white_check_mark: ",
    Tone.WARNING: ":warning: ",
    Tone.ERROR: ":x: ",
}
_STYLES = {Style.PRIMARY: "primary", Style.DANGER: "danger"}
_BOXES = {True: ":white_check_mark:", False: ":white_large_square:"}


def _plain(text: str, limit: int) -> PlainTextObject:
    return PlainTextObject(text=clip(text, limit) or " ", emoji=False)


def _mrkdwn(escaped: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=escaped or " ", verbatim=True)


def _button(action: Action, index: int) -> ButtonElement:
    value = action.value
    if len(value) > MAX_BUTTON_VALUE:  # the core keeps values short; never send a broken one
        raise ValueError(f"button value for {action.action_id!r} is too long for Slack")
    return ButtonElement(
        text=_plain(action.label, MAX_BUTTON_TEXT),
        action_id=encode_action_id(action.action_id, index),
        value=value or None,
        style=_STYLES.get(action.style),
    )


def _actions_blocks(actions: Iterable[Action], start: int) -> list[Block]:
    buttons = [_button(a, start + i) for i, a in enumerate(actions)]
    return [
        ActionsBlock(elements=buttons[i : i + MAX_ACTIONS])
        for i in range(0, len(buttons), MAX_ACTIONS)
    ]


def _checklist(items: Iterable[CheckItem], limit: int) -> str:
    lines: list[str] = []
    used = 0
    for item in items:
        line = f"{_BOXES[item.done]} {clip_escaped(item.text, 500)}"
        if used + len(line) + 1 > limit:
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def _section_blocks(section: Section, start: int) -> list[Block]:
    blocks: list[Block] = []
    heading = f"*{clip_escaped(section.heading, 200)}*" if section.heading else ""
    room = MAX_SECTION_TEXT - len(heading) - 2
    ticks = _checklist(section.checklist, room // 2 if section.text else room)
    body = clip_escaped(section.text, room - len(ticks) - 1) if section.text else ""
    text = "\n".join(part for part in (heading, body, ticks) if part)
    if text:
        blocks.append(SectionBlock(text=_mrkdwn(text)))
    fields = [
        _mrkdwn(f"*{clip_escaped(f.label, 200)}*\n{clip_escaped(f.value, MAX_FIELD_TEXT - 210)}")
        for f in section.fields
    ]
    for i in range(0, len(fields), MAX_FIELDS):
        blocks.append(SectionBlock(fields=fields[i : i + MAX_FIELDS]))
    if section.context:
        blocks.append(ContextBlock(elements=[_plain(section.context, MAX_CONTEXT_TEXT)]))
    blocks.extend(_actions_blocks(section.actions, start))
    return blocks


def typed_message_blocks(message: Message, *, limit: int = MAX_BLOCKS) -> list[Block]:
    blocks: list[Block] = []
    if message.title:
        blocks.append(HeaderBlock(text=_plain(message.title, MAX_HEADER)))
    summary = _ICONS[message.tone] + clip_escaped(message.text, MAX_SECTION_TEXT - 30)
    blocks.append(SectionBlock(text=_mrkdwn(summary)))
    index = 0
    for section in message.sections:
        blocks.extend(_section_blocks(section, index))
        index += len(section.actions)
    trailing = _actions_blocks(message.actions, index)
    if len(blocks) + len(trailing) > limit:
        keep = limit - len(trailing) - 1
        blocks = blocks[:keep]
        blocks.append(ContextBlock(elements=[_plain("(more not shown)", 100)]))
    blocks.extend(trailing)
    return blocks[:limit]


def typed_message_payload(message: Message) -> dict[str, Any]:
    return {
        "text": fallback_text(message),
        "blocks": [b.to_dict() for b in typed_message_blocks(message)],
    }


def typed_home_view(message: Message) -> dict[str, Any]:
    view = View(type="home", blocks=typed_message_blocks(message, limit=MAX_MODAL_BLOCKS))
    return view.to_dict()
