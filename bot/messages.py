"""The neutral message model: what the core says, before any platform renders it.

Every string here is plain text exactly as a person should read it. Adapters escape it for
their own markup (mrkdwn, Adaptive Card Markdown, HTML), so user text can never turn into a
mention, a link or a script. Emphasis is expressed by structure (title, field label), not markup.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Style(enum.StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


class Tone(enum.StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Action:
    """A button. `action_id` names the handler; `value` is an opaque string it gets back."""

    action_id: str
    label: str
    value: str = ""
    style: Style = Style.DEFAULT


@dataclass(frozen=True, slots=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class CheckItem:
    """One line of a checklist: each renderer draws its own tick or empty box."""

    text: str
    done: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    text: str = ""
    fields: tuple[Field, ...] = ()
    actions: tuple[Action, ...] = ()
    heading: str | None = None
    context: str | None = None  # small print under the section
    checklist: tuple[CheckItem, ...] = ()  # shown after the text, before the fields
    # Names in the text that open something (a client's card): a renderer that can link text
    # makes the start of a line that reads "<label>:" into that action; others show the text.
    links: tuple[Action, ...] = ()


@dataclass(frozen=True, slots=True)
class Message:
    """One reply, card or DM."""

    text: str  # the one-line summary: notification text and plain fallback
    title: str | None = None
    sections: tuple[Section, ...] = ()
    actions: tuple[Action, ...] = ()
    tone: Tone = Tone.INFO
    private: bool = True  # shown only to the person who asked, where the platform can

    def all_actions(self) -> tuple[Action, ...]:
        nested = tuple(a for s in self.sections for a in s.actions)
        return nested + self.actions


class InputKind(enum.StrEnum):
    TEXT = "text"
    MULTILINE = "multiline"
    DATE = "date"
    SELECT = "select"
    CLIENT = "client"  # a client picker that searches as you type, where the platform can
    CHECKBOX = "checkbox"


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class FormInput:
    name: str
    label: str
    kind: InputKind = InputKind.TEXT
    required: bool = False
    initial: str | None = None
    placeholder: str | None = None
    options: tuple[Option, ...] = ()


@dataclass(frozen=True, slots=True)
class Form:
    """A modal (Slack), an input card (Teams), an HTML form (web)."""

    form_id: str
    title: str
    inputs: tuple[FormInput, ...]
    submit_label: str = "Save"
    private_value: str = ""  # opaque state carried through the submission


@dataclass(frozen=True, slots=True)
class FormErrors:
    """A submission that failed validation: errors by input name, shown inline."""

    errors: dict[str, str] = field(default_factory=dict)


def error(text: str, hint: str | None = None) -> Message:
    """A short, friendly error that says what to type instead."""
    sections = (Section(text=hint),) if hint else ()
    return Message(text=text, sections=sections, tone=Tone.ERROR)


def notice(text: str, *actions: Action, tone: Tone = Tone.INFO) -> Message:
    return Message(text=text, actions=tuple(actions), tone=tone)
