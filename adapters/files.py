"""Files at the edge: bytes to text in whatever encoding an export was written, vCards to cards.

Outlook writes contacts in Windows-1252, or UTF-16 with a byte-order mark when "Unicode" is
chosen; Excel's "CSV UTF-8" starts with a UTF-8 BOM; Salesforce and HubSpot write UTF-8. A BOM
settles it; otherwise strict UTF-8, then charset-normalizer's best guess among the encodings
spreadsheet and CRM exports use.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass
from pathlib import Path

from bot.transfer import Card

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# What Western exports are written in when not UTF: charset-normalizer's guesses among these
# are read as Windows-1252, its superset for the printable range.
WESTERN = {"cp1252", "latin_1", "iso8859_15", "cp1250", "mac_roman", "cp850", "ascii"}
LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
    "cp1252": "Windows-1252",
}


class DecodeError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # for people: "Windows-1252", "UTF-16"


def decode(data: bytes, encoding: str | None = None) -> Decoded:
    if encoding:
        try:
            return Decoded(data.decode(encoding), encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise DecodeError(f"the file is not {encoding}: {exc}") from None
    for bom, name in BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(name).lstrip("\ufeff"), LABELS[name])
            except UnicodeDecodeError:
                break
    try:
        return Decoded(data.decode("utf-8"), "UTF-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise DecodeError(
            "Touchbase cannot tell which encoding this file is in; save it as CSV UTF-8, "
            "or say which with --encoding (e.g. --encoding cp1252)"
        )
    name = "cp1252" if best.encoding in WESTERN else best.encoding
    try:
        text = data.decode(name)
    except UnicodeDecodeError:
        text = str(best)
        name = best.encoding
    return Decoded(text, LABELS.get(name, name))


def read_text(path: Path, encoding: str | None = None) -> Decoded:
    return decode(path.read_bytes(), encoding)


def read_cards(text: str) -> list[Card]:
    """Every vCard (3.0 or 4.0) in the text, with the line it starts on."""
    import vobject

    starts = [
        i + 1 for i, line in enumerate(text.splitlines()) if line.strip().upper() == "BEGIN:VCARD"
    ]
    cards: list[Card] = []
    try:
        for index, component in enumerate(vobject.readComponents(text, ignoreUnreadable=True)):
            cards.append(_card(component, starts[index] if index < len(starts) else 0))
    except Exception as exc:  # vobject raises its own ParseError and bare exceptions
        raise DecodeError(f"this is not a vCard file Touchbase can read: {exc}") from None
    return cards


def _first(component: object, name: str) -> str | None:
    values = [c.value for c in getattr(component, "contents", {}).get(name, [])]
    for value in values:
        if isinstance(value, list):  # ORG: organisation name, then units
            value = next((v for v in value if str(v).strip()), "")
        text = str(value).strip()
        if text:
            return text
    return None


def _card(component: object, line: int) -> Card:
    name = _first(component, "fn")
    if name is None:
        n = getattr(component, "contents", {}).get("n")
        if n:
            parts = n[0].value
            name = " ".join(x for x in (parts.given, parts.family) if x).strip() or None
    return Card(
        line=line,
        org=_first(component, "org"),
        name=name,
        title=_first(component, "title"),
        email=_first(component, "email"),
        phone=(_first(component, "tel") or "").removeprefix("tel:") or None,
    )


def write_private(path: Path, text: str) -> None:
    """Write an export only its owner can read (0600), even where the file already existed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            fd = -1
            out.write(text)
    finally:
        if fd >= 0:
            os.close(fd)
