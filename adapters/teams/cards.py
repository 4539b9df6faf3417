"""Neutral messages and forms → Adaptive Card 1.5 dicts, as Microsoft Teams renders them.

Pure functions over plain dicts: no botbuilder here, so the renderer can be snapshot-tested and
reused by a future Microsoft 365 Agents SDK adapter.

Safety: every string the core hands over is plain text. Where a card element renders Markdown
(TextBlock text, FactSet titles and values) it is escaped with backslashes, so a note holding
``**bold**``, ``[link](http://evil)``, ``<at>x</at>`` or ``<script>`` is shown as typed. Mention
entities (``msteams.entities``) are never produced from user text. Elements that Teams shows as
plain text (button titles, input labels, placeholders, choices) are left as they are.

Buttons are ``Action.Submit`` with ``{"action_id", "value"}``; a form's submit button carries
``{"form_id", "private_value", "form"}``, where ``form`` is the form's own compact description so
the adapter can show it again, with the errors, without keeping any state between turns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

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

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"

#: Keys an Action.Submit puts next to the input values; input names may not use them.
RESERVED_KEYS = frozenset({"action_id", "value", "form_id", "private_value", "form"})

Card = dict[str, Any]

_TONE_COLOR = {
    Tone.INFO: "Default",
    Tone.SUCCESS: "Good",
    Tone.WARNING: "Warning",
    Tone.ERROR: "Attention",
}
_BOXES = {True: "✅", False: "⬜"}
_STYLE = {Style.DEFAULT: "default", Style.PRIMARY: "positive", Style.DANGER: "destructive"}

# CommonMark lets any ASCII punctuation be escaped with a backslash. These are the characters
# that start emphasis, links, images, code, HTML, mentions, headings, tables or strikethrough.
_INLINE_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#|!~&])")
# At the start of a line: list items and quotes ("- x", "+ x", "1. x", "> x").
_LINE_START = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))", re.MULTILINE)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape(text: str) -> str:
    """Plain text → Adaptive Card Markdown that displays exactly that text."""
    text = _CONTROL.sub("", text)
    text = _INLINE_SPECIALS.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m.group(1) + _escape_marker(m.group(2)), text)


def _escape_marker(marker: str) -> str:
    if marker.isdigit():  # "1. " → "1\. ": the escape goes before the dot
        return marker + "\\"
    return "\\" + marker


def plain(text: str) -> str:
    """Text for elements Teams shows without Markdown: only control characters are removed."""
    return _CONTROL.sub("", text)


# --- messages ------------------------------------------------------------------------------------


def _text_block(text: str, **style: Any) -> Card:
    return {"type": "TextBlock", "text": escape(text), "wrap": True, **style}


def _lines(text: str) -> list[Card]:
    """One TextBlock per line: a lone newline is no line break in Markdown."""
    lines = text.replace("\r\n", "\n").split("\n")
    blocks = [_text_block(line) for line in lines]
    for block in blocks[1:]:
        block["spacing"] = "None"
    return blocks


def _submit(action: Action) -> Card:
    card: Card = {
        "type": "Action.Submit",
        "title": plain(action.label),
        "data": {"action_id": action.action_id, "value": action.value},
    }
    if action.style is not Style.DEFAULT:
        card["style"] = _STYLE[action.style]
    return card


def _facts(fields: tuple[Field, ...]) -> Card:
    return {
        "type": "FactSet",
        "facts": [{"title": escape(f.label), "value": escape(f.value)} for f in fields],
    }


def _section(section: Section) -> list[Card]:
    body: list[Card] = []
    if section.heading:
        body.append(_text_block(section.heading, weight="Bolder", spacing="Medium"))
    if section.text:
        body.extend(_lines(section.text))
    for item in section.checklist:
        # A tick or an empty box before each item; the item's own text is escaped as usual.
        body.append(
            {
                **_text_block(item.text, spacing="Small"),
                "text": f"{_BOXES[item.done]} {escape(item.text)}",
            }
        )
    if section.fields:
        body.append(_facts(section.fields))
    if section.context:
        body.append(_text_block(section.context, isSubtle=True, size="Small"))
    if section.actions:
        body.append({"type": "ActionSet", "actions": [_submit(a) for a in section.actions]})
    if body:
        body[0]["separator"] = True
    return body


def _card(body: list[Card], actions: list[Card], fallback: str) -> Card:
    card: Card = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "fallbackText": plain(fallback),
        "body": body,
    }
    if actions:
        card["actions"] = actions
    card["msteams"] = {"width": "Full"}
    return card


def message_card(message: Message) -> Card:
    """A neutral Message as an Adaptive Card: title, summary, sections, buttons."""
    body: list[Card] = []
    if message.title:
        body.append(_text_block(message.title, size="Medium", weight="Bolder"))
    summary: Card = _text_block(message.text)
    if message.tone is not Tone.INFO:
        summary["color"] = _TONE_COLOR[message.tone]
    if message.tone in (Tone.ERROR, Tone.WARNING) or not message.title:
        summary["weight"] = "Bolder"
    body.append(summary)
    for section in message.sections:
        body.extend(_section(section))
    return _card(body, [_submit(a) for a in message.actions], message.text)


# --- forms ---------------------------------------------------------------------------------------


def _input(item: FormInput, value: str | None, problem: str | None) -> Card:
    common: Card = {"id": item.name, "label": plain(item.label)}
    if item.required:
        common["isRequired"] = True
        common["errorMessage"] = plain(problem or f"{item.label} is required.")
    elif problem:
        common["errorMessage"] = plain(problem)
    if item.placeholder and item.kind is not InputKind.CHECKBOX:
        common["placeholder"] = plain(item.placeholder)
    kind = item.kind
    if kind in (InputKind.TEXT, InputKind.MULTILINE, InputKind.CLIENT):
        card: Card = {"type": "Input.Text", **common}
        if kind is InputKind.MULTILINE:
            card["isMultiline"] = True
        if value:
            card["value"] = plain(value)
        return card
    if kind is InputKind.DATE:
        card = {"type": "Input.Date", **common}
        if value and _ISO_DATE.fullmatch(value.strip()):  # the date picker takes nothing else
            card["value"] = value.strip()
        return card
    if kind is InputKind.SELECT:
        card = {
            "type": "Input.ChoiceSet",
            **common,
            "style": "compact",
            "choices": [_choice(o) for o in item.options],
        }
        if value:
            card["value"] = plain(value)
        return card
    if kind is InputKind.CHECKBOX:
        on = (value or "").strip().lower() in ("1", "true", "yes", "on")
        common.pop("label")  # the toggle's title is its label; both would show it twice
        return {
            "type": "Input.Toggle",
            **common,
            "title": plain(item.label),
            "valueOn": "true",
            "valueOff": "false",
            "value": "true" if on else "false",
        }
    raise ValueError(f"no Adaptive Card input for {kind!r}")


def _choice(option: Option) -> Card:
    return {"title": plain(option.label), "value": option.value}


def form_card(
    form: Form,
    *,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> Card:
    """A Form as an input card. With ``errors``, shown again with what was typed and why not."""
    errors = dict(errors or {})
    values = dict(values or {})
    for item in form.inputs:
        if item.name in RESERVED_KEYS:
            raise ValueError(f"form {form.form_id!r}: input name {item.name!r} is reserved")
    body: list[Card] = [_text_block(form.title, size="Medium", weight="Bolder")]
    known = {item.name for item in form.inputs}
    for name, problem in errors.items():
        label = next((i.label for i in form.inputs if i.name == name), None)
        text = f"{label}: {problem}" if label and name in known else problem
        body.append(_text_block(text, color="Attention"))
    for item in form.inputs:
        value = values.get(item.name, item.initial)
        body.append(_input(item, value, errors.get(item.name)))
    submit: Card = {
        "type": "Action.Submit",
        "title": plain(form.submit_label),
        "style": "positive",
        "data": {
            "form_id": form.form_id,
            "private_value": form.private_value,
            "form": describe_form(form),
        },
    }
    return _card(body, [submit], form.title)


# A compact, JSON-safe description of a form, carried in its submit button's data.


def describe_form(form: Form) -> dict[str, Any]:
    return {
        "title": form.title,
        "submit": form.submit_label,
        "inputs": [
            {
                k: v
                for k, v in (
                    ("name", i.name),
                    ("label", i.label),
                    ("kind", i.kind.value),
                    ("required", i.required or None),
                    ("placeholder", i.placeholder),
                    ("options", [[o.value, o.label] for o in i.options] or None),
                )
                if v is not None
            }
            for i in form.inputs
        ],
    }


def form_from_description(form_id: str, private_value: str, data: Any) -> Form | None:
    """The form a submit button described, or None when the description is unusable."""
    if not isinstance(data, Mapping):
        return None
    try:
        inputs = tuple(
            FormInput(
                name=str(i["name"]),
                label=str(i.get("label", i["name"])),
                kind=InputKind(i.get("kind", "text")),
                required=bool(i.get("required", False)),
                placeholder=str(i["placeholder"]) if i.get("placeholder") else None,
                options=tuple(Option(str(v), str(lbl)) for v, lbl in i.get("options") or ()),
            )
            for i in data.get("inputs", ())
        )
        return Form(
            form_id=form_id,
            title=str(data.get("title", "")),
            inputs=inputs,
            submit_label=str(data.get("submit", "Save")),
            private_value=private_value,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def attachment(card: Card) -> dict[str, Any]:
    """The card as an activity attachment (a plain dict, as the connector receives it)."""
    return {"contentType": CONTENT_TYPE, "content": card}
