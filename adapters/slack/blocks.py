"""Neutral messages and forms → Block Kit; and back again.

Messages (every reply, DM and digest, so the hot path) are rendered straight to the plain dicts
chat.postMessage takes: the same keys, in the same order, that slack_sdk's typed models give from
`.to_dict()`, without building, validating and serialising a model tree per reply
(tests/test_slack_blocks_plain.py holds the typed rendering as the reference they must equal).
Modals and the App Home tab, which are rare, still go through the typed models.

The neutral model is plain text. Everything placed in a mrkdwn object here goes through
`escape`, so a note holding `<!channel>` or `<https://evil|x>` shows as typed and never pings or
links; wherever Block Kit allows plain_text, plain_text is used. Slack's size limits are kept by
clipping, never by failing: a long note loses its tail, not the whole reply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    ExternalDataSelectElement,
    InputBlock,
    InputInteractiveElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.messages import (
    Action,
    CheckItem,
    Form,
    FormInput,
    InputKind,
    Message,
    Section,
    Style,
    Tone,
)

# Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks).
MAX_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTIONS = 25
MAX_HEADER = 150
MAX_CONTEXT_TEXT = 3000
MAX_FALLBACK_TEXT = 3000
MAX_VIEW_TITLE = 24
MAX_INPUT_LABEL = 2000
MAX_PLACEHOLDER = 150
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_PRIVATE_METADATA = 3000
MAX_INITIAL_TEXT = 3000
MAX_ACTION_ID = 255  # slack_sdk's ButtonElement refused a longer one

ACTION_SEPARATOR = "::"
VALUE_ACTION = "value"  # the action_id of every form input element except the client picker
CLIENT_SEARCH_ACTION = "client_search"  # external_select options are loaded by this action_id

_ICONS = {
    Tone.INFO: "",
    Tone.SUCCESS: ":white_check_mark: ",
    Tone.WARNING: ":warning: ",
    Tone.ERROR: ":x: ",
}
_STYLES = {Style.PRIMARY: "primary", Style.DANGER: "danger"}
_BOXES = {True: ":white_check_mark:", False: ":white_large_square:"}
_CHECKED = "yes"


def escape(text: str) -> str:
    """User text made inert for mrkdwn: `&`, `<` and `>` as Slack's entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clip_escaped(text: str, limit: int) -> str:
    """Escape, then clip without cutting an entity such as `&amp;` in half."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def _plain(text: str, limit: int) -> PlainTextObject:
    return PlainTextObject(text=clip(text, limit) or " ", emoji=False)


# Messages are built as the dicts the typed models' `.to_dict()` gives: keys in sorted order,
# empty ones left out.


def _plain_text(text: str, limit: int) -> dict[str, Any]:
    """`PlainTextObject(text=..., emoji=False).to_dict()`."""
    return {"emoji": False, "text": clip(text, limit) or " ", "type": "plain_text"}


def _mrkdwn_text(escaped: str) -> dict[str, Any]:
    """`MarkdownTextObject(text=..., verbatim=True).to_dict()`."""
    return {"text": escaped or " ", "type": "mrkdwn", "verbatim": True}


# --- action ids ---------------------------------------------------------------------------------


def encode_action_id(action_id: str, index: int) -> str:
    """Block Kit wants action ids unique within a message; the neutral id may repeat."""
    return f"{action_id}{ACTION_SEPARATOR}{index}"


def decode_action_id(action_id: str) -> str:
    return action_id.split(ACTION_SEPARATOR, 1)[0]


def _button(action: Action, index: int) -> dict[str, Any]:
    value = action.value
    if len(value) > MAX_BUTTON_VALUE:  # the core keeps values short; never send a broken one
        raise ValueError(f"button value for {action.action_id!r} is too long for Slack")
    action_id = encode_action_id(action.action_id, index)
    if len(action_id) > MAX_ACTION_ID:  # what ButtonElement.to_dict() refused with
        raise SlackObjectFormationError(
            f"action_id attribute cannot exceed {MAX_ACTION_ID} characters"
        )
    button: dict[str, Any] = {"action_id": action_id}
    style = _STYLES.get(action.style)
    if style:
        button["style"] = style
    button["text"] = _plain_text(action.label, MAX_BUTTON_TEXT)
    button["type"] = "button"
    if value:
        button["value"] = value
    return button


def _actions_blocks(actions: Iterable[Action], start: int) -> list[dict[str, Any]]:
    buttons = [_button(a, start + i) for i, a in enumerate(actions)]
    return [
        {"elements": buttons[i : i + MAX_ACTIONS], "type": "actions"}
        for i in range(0, len(buttons), MAX_ACTIONS)
    ]


def _context_block(text: str, limit: int) -> dict[str, Any]:
    return {"elements": [_plain_text(text, limit)], "type": "context"}


# --- messages -----------------------------------------------------------------------------------


def _checklist(items: Iterable[CheckItem], limit: int) -> str:
    """One line per item, an emoji tick or an empty box before it; items past the limit go."""
    lines: list[str] = []
    used = 0
    for item in items:
        line = f"{_BOXES[item.done]} {clip_escaped(item.text, 500)}"
        if used + len(line) + 1 > limit:
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def _section_blocks(section: Section, start: int) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    heading = f"*{clip_escaped(section.heading, 200)}*" if section.heading else ""
    room = MAX_SECTION_TEXT - len(heading) - 2
    ticks = _checklist(section.checklist, room // 2 if section.text else room)
    body = clip_escaped(section.text, room - len(ticks) - 1) if section.text else ""
    text = "\n".join(part for part in (heading, body, ticks) if part)
    if text:
        blocks.append({"text": _mrkdwn_text(text), "type": "section"})
    fields = [
        _mrkdwn_text(
            f"*{clip_escaped(f.label, 200)}*\n{clip_escaped(f.value, MAX_FIELD_TEXT - 210)}"
        )
        for f in section.fields
    ]
    for i in range(0, len(fields), MAX_FIELDS):
        blocks.append({"fields": fields[i : i + MAX_FIELDS], "type": "section"})
    if section.context:
        blocks.append(_context_block(section.context, MAX_CONTEXT_TEXT))
    blocks.extend(_actions_blocks(section.actions, start))
    return blocks


def message_block_dicts(message: Message, *, limit: int = MAX_BLOCKS) -> list[dict[str, Any]]:
    """The Block Kit blocks for a message, as dicts: header, summary, sections, buttons.

    Slack's limits are kept as above: at most `limit` blocks, the trailing buttons always kept
    and "(more not shown)" standing in for the sections that did not fit.
    """
    blocks: list[dict[str, Any]] = []
    if message.title:
        blocks.append({"text": _plain_text(message.title, MAX_HEADER), "type": "header"})
    summary = _ICONS[message.tone] + clip_escaped(message.text, MAX_SECTION_TEXT - 30)
    blocks.append({"text": _mrkdwn_text(summary), "type": "section"})
    index = 0
    for section in message.sections:
        blocks.extend(_section_blocks(section, index))
        index += len(section.actions)
    trailing = _actions_blocks(message.actions, index)
    if len(blocks) + len(trailing) > limit:
        keep = limit - len(trailing) - 1
        blocks = blocks[:keep]
        blocks.append(_context_block("(more not shown)", 100))
    blocks.extend(trailing)
    return blocks[:limit]


def message_blocks(message: Message, *, limit: int = MAX_BLOCKS) -> list[Block]:
    """The same blocks as slack_sdk's typed models, for views that are built from models."""
    return Block.parse_all(message_block_dicts(message, limit=limit))


def fallback_text(message: Message) -> str:
    """The notification text: plain, escaped, short."""
    return clip_escaped(message.text, MAX_FALLBACK_TEXT) or " "


def message_payload(message: Message) -> dict[str, Any]:
    """`text` and `blocks` as chat.postMessage, ack() and response_url take them."""
    return {"text": fallback_text(message), "blocks": message_block_dicts(message)}


def home_view(message: Message) -> View:
    """The App Home tab showing one message."""
    return View(type="home", blocks=message_blocks(message, limit=MAX_MODAL_BLOCKS))


# --- forms --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModalState:
    """What a modal carries through Slack and back in private_metadata."""

    private_value: str = ""
    response_url: str | None = None
    channel_id: str | None = None

    def dump(self) -> str:
        data: dict[str, str] = {"v": self.private_value}
        if self.response_url:
            data["r"] = self.response_url
        if self.channel_id:
            data["c"] = self.channel_id
        text = json.dumps(data, separators=(",", ":"))
        if len(text) > MAX_PRIVATE_METADATA:
            raise ValueError("form state too long for a Slack modal")
        return text

    @staticmethod
    def load(text: str | None) -> ModalState:
        try:
            data = json.loads(text or "{}")
        except ValueError:
            return ModalState()
        if not isinstance(data, dict):
            return ModalState()
        return ModalState(
            private_value=str(data.get("v", "")),
            response_url=data.get("r") if isinstance(data.get("r"), str) else None,
            channel_id=data.get("c") if isinstance(data.get("c"), str) else None,
        )


def _option(value: str, label: str) -> Option:
    return Option(value=clip(value, MAX_OPTION_VALUE), text=_plain(label, MAX_OPTION_TEXT))


def client_option(client_id: int, name: str) -> Option:
    return _option(str(client_id), name)


def _element(item: FormInput) -> InputInteractiveElement:
    placeholder = _plain(item.placeholder, MAX_PLACEHOLDER) if item.placeholder else None
    initial = item.initial or None
    if item.kind is InputKind.DATE:
        return DatePickerElement(
            action_id=VALUE_ACTION, initial_date=initial, placeholder=placeholder
        )
    if item.kind is InputKind.SELECT:
        options = [_option(o.value, o.label) for o in item.options[:MAX_OPTIONS]]
        chosen = next((o for o in options if o.value == initial), None)
        return StaticSelectElement(
            action_id=VALUE_ACTION,
            options=options,
            initial_option=chosen,
            placeholder=placeholder or _plain("Choose", MAX_PLACEHOLDER),
        )
    if item.kind is InputKind.CLIENT:
        picker: InputInteractiveElement = ExternalDataSelectElement(
            action_id=CLIENT_SEARCH_ACTION,
            min_query_length=0,
            initial_option=_option(initial, initial) if initial else None,
            placeholder=placeholder or _plain("Start typing", MAX_PLACEHOLDER),
        )
        return picker
    if item.kind is InputKind.CHECKBOX:
        option = _option(_CHECKED, item.label)
        return CheckboxesElement(
            action_id=VALUE_ACTION,
            options=[option],
            initial_options=[option] if _truthy(initial) else None,
        )
    return PlainTextInputElement(
        action_id=VALUE_ACTION,
        multiline=item.kind is InputKind.MULTILINE,
        initial_value=clip(initial, MAX_INITIAL_TEXT) if initial else None,
        placeholder=placeholder,
    )


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def form_view(form: Form, state: ModalState | None = None) -> View:
    """A modal for a neutral form: one input block per input, its name as the block_id."""
    blocks: list[Block] = [
        InputBlock(
            block_id=item.name,
            label=_plain(item.label, MAX_INPUT_LABEL),
            element=_element(item),
            optional=not item.required,
        )
        for item in form.inputs[:MAX_MODAL_BLOCKS]
    ]
    return View(
        type="modal",
        callback_id=form.form_id,
        title=_plain(form.title, MAX_VIEW_TITLE),
        submit=_plain(form.submit_label, MAX_VIEW_TITLE),
        close=_plain("Cancel", MAX_VIEW_TITLE),
        blocks=blocks,
        private_metadata=(state or ModalState(form.private_value)).dump(),
    )


def view_values(view: Mapping[str, Any]) -> dict[str, str]:
    """A submitted modal's state as the neutral `{input name: text}`."""
    values: dict[str, str] = {}
    state = view.get("state", {}).get("values", {})
    for block_id, actions in state.items():
        for element in actions.values():
            values[block_id] = _element_value(element)
    return values


def _element_value(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    if kind == "datepicker":
        return str(element.get("selected_date") or "")
    if kind in ("static_select", "external_select"):
        selected = element.get("selected_option") or {}
        return str(selected.get("value") or "")
    if kind == "checkboxes":
        return _CHECKED if element.get("selected_options") else ""
    return str(element.get("value") or "")


# --- inbound text -------------------------------------------------------------------------------

_ENTITY = re.compile(r"<([^<>]*)>")


def from_slack_text(text: str) -> tuple[str, dict[str, str]]:
    """Slack's escaped text as the core's plain text, and the user mentions in it.

    User mentions stay as `<@U123>` (the core's mention form); other entities become what a
    person sees: `#channel`, `@here`, a link's text; `&amp;`, `&lt;`, `&gt;` are unescaped.
    """
    mentions: dict[str, str] = {}
    parts: list[str] = []
    last = 0
    for m in _ENTITY.finditer(text):
        parts.append(_unescape(text[last : m.start()]))
        parts.append(_entity(m.group(1), mentions))
        last = m.end()
    parts.append(_unescape(text[last:]))
    return "".join(parts), mentions


def _entity(inner: str, mentions: dict[str, str]) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        user_id = target[1:]
        mentions[user_id] = _unescape(label) or mentions.get(user_id, "")
        return f"<@{user_id}>"
    if target.startswith("#"):
        return "#" + _unescape(label or target[1:])
    if target.startswith("!"):
        special = target[1:].split("^", 1)[0]
        return _unescape(label) if label else "@" + special
    if label and label != target:
        return f"{_unescape(label)} ({_unescape(target)})"
    return _unescape(target)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
