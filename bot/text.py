"""Small wording helpers shared by the cards: dates, counts, names."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from bot.domain import Person, Role


def when(day: date | None, today: date) -> str:
    if day is None:
        return "never"
    delta = (today - day).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "yesterday"
    if delta == -1:
        return "tomorrow"
    if 1 < delta < 7:
        return f"{day:%A} ({delta} days ago)"
    if -7 < delta < -1:
        return f"{day:%A} (in {-delta} days)"
    if day.year == today.year:
        return f"{day:%a} {day.day} {day:%b}"
    return f"{day.day} {day:%b %Y}"


_ENDS_A_SENTENCE = (".", "!", "?", "…")


def stop(text: str) -> str:
    """A sentence with one full stop at its end: none is added after a name that ends in one
    already ("Pied Piper Inc."), nor after "!", "?" or "…"."""
    return text if text.rstrip().endswith(_ENDS_A_SENTENCE) else text + "."


# A role as a person is named by it: "staff" is the firm's people, one of them a staff member.
_ROLE_NOUNS = {Role.STAFF: "staff member"}


def role_noun(role: Role) -> str:
    """ "staff member", "senior", "principal", "admin": one person in the role."""
    return _ROLE_NOUNS.get(role, role.value)


def a_role(role: Role) -> str:
    """ "a staff member", "a senior", "a principal", "an admin"."""
    noun = role_noun(role)
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def name_of(person: Person | None, fallback: str = "nobody") -> str:
    return person.display_name if person else fallback


_PACKER = json.JSONEncoder(separators=(",", ":"), default=str, ensure_ascii=False)


def pack(**values: Any) -> str:
    """An action value: compact JSON, kept under Slack's 2,000-character limit."""
    text = _PACKER.encode(values)
    if len(text) > 1900:
        raise ValueError("action value too long")
    return text


def unpack(value: str) -> dict[str, Any]:
    try:
        loaded = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def row_id(value: object) -> int | None:
    """A row id from a button value or form state: plain ASCII digits within a database
    integer, else None, so a stale or tampered value gets a kind answer, not a database error."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**31 else None
    text = value.strip() if isinstance(value, str) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    number = int(text)
    return number if 0 < number < 2**31 else None


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_MENTION = re.compile(r"<@([A-Za-z0-9:._\-]+)(?:\|([^>]*))?>")


def find_mentions(text: str) -> tuple[list[tuple[str, str]], str]:
    """Mentions in the neutral form `<@ID>` or `<@ID|name>`, and the text without them."""
    found = [(m.group(1), m.group(2) or "") for m in _MENTION.finditer(text)]
    return found, " ".join(_MENTION.sub(" ", text).split())
