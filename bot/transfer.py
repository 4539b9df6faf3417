"""Import clients from the files firms already have, and export the history.

Tables come from our own CSV, Outlook contacts, Salesforce account and contact reports, Act!,
GoldMine and HubSpot exports, or any CSV with a `--map` of its headers. Decoding the file's bytes
happens at the edge; this module gets text (or parsed vCards) and works on a unit of work.

An import is one transaction: a row Touchbase cannot read is reported with its line number and
nothing is saved. Rows without a company (a personal contact in Outlook) are skipped and counted.
A value already set in Touchbase is kept unless `overwrite` is asked for, and every field either
way is reported. Importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from dateutil import parser as dateutil_parser

from bot.domain import INVITED_PREFIX, Client, Contact, Person
from bot.ports import UnitOfWork
from bot.text import plural

DateOrder = Literal["us", "day-first"]

# What a column can mean, with the words `--map` accepts.
FIELDS: dict[str, str] = {
    "name": "the client (company) name",
    "aliases": "other names for the client, separated by ;",
    "owner": "the owner's name or e-mail",
    "cadence_days": "days between contacts, 1 to 3650",
    "segment": "the client's segment",
    "last_contact": "the date of the last contact with the client",
    "person": "a key person's full name",
    "first_name": "a key person's first name",
    "last_name": "a key person's last name",
    "title": "a key person's job title",
    "email": "a key person's e-mail",
    "phone": "a key person's phone",
    "ignore": "a column to leave out",
}

# Header spellings by meaning, compared casefolded and trimmed. The earlier spelling wins when a
# file has several (Outlook has "Title", a courtesy title, beside "Job Title").
HEADERS: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "client",
        "client name",
        "company",
        "company name",
        "account name",
        "account",
        "organization",
        "organisation",
    ),
    "aliases": ("aliases", "alias", "also known as", "aka"),
    "owner": (
        "owner",
        "account owner",
        "contact owner",
        "company owner",
        "record manager",
        "relationship owner",
        "owner email",
        "account owner email",
    ),
    "cadence_days": ("cadence_days", "cadence", "cadence (days)"),
    "segment": ("segment", "industry", "account type", "type", "tier"),
    "person": ("person", "contact", "contact name", "full name", "key person"),
    "first_name": ("first name", "first_name", "given name"),
    "last_name": ("last name", "last_name", "surname", "family name"),
    "title": ("job title", "title", "position"),
    "email": ("email", "e-mail", "e-mail address", "email address", "e-mail 1"),
    "phone": (
        "phone",
        "business phone",
        "phone number",
        "phone1",
        "work phone",
        "mobile phone",
    ),
}
# Every one of these columns counts: the latest date wins (Act! has both Last Reach and Last
# Meeting). A last attempt counts only where nothing reached the client.
LAST_CONTACT = (
    "last_contact",
    "last contact",
    "last contacted",
    "last contact on",
    "lastconton",
    "last activity",
    "last activity date",
    "last reach",
    "last meeting",
)
LAST_ATTEMPT = ("last attempt", "lastatmpon")

FIELD_LABELS = {
    "owner_id": "owner",
    "cadence_days": "cadence",
    "segment": "segment",
    "aliases": "aliases",
    "last_contact_on": "last contact",
    "title": "title",
    "email": "e-mail",
    "phone": "phone",
}


class ImportError_(ValueError):
    """The file as a whole cannot be read (no header, an unknown --map field)."""


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    problem: str


@dataclass(frozen=True, slots=True)
class PersonRecord:
    name: str
    title: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class ClientRecord:
    line: int
    name: str
    aliases: tuple[str, ...] = ()
    owner: str | None = None
    cadence_days: int | None = None
    segment: str | None = None
    last_contact_on: date | None = None
    person: PersonRecord | None = None


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of one client or key person: set (old -> new), or kept as it was."""

    field: str
    old: str | None
    new: str | None
    applied: bool


@dataclass
class RowOutcome:
    line: int
    client: str
    action: Literal["add", "update", "same"]
    changes: list[FieldChange] = field(default_factory=list)
    people: list[str] = field(default_factory=list)  # key people added, as described


@dataclass
class ImportReport:
    source: str = "CSV"  # the format recognised, e.g. "Outlook contacts"
    encoding: str = ""  # set by whoever decoded the file
    delimiter: str = ","
    rows: list[RowOutcome] = field(default_factory=list)
    skipped: list[RowError] = field(default_factory=list)
    ignored_lines: int = 0  # report footers and notes below or beside the table
    errors: list[RowError] = field(default_factory=list)
    invited: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def _clients(self, action: str) -> list[str]:
        return list(dict.fromkeys(r.client for r in self.rows if r.action == action))

    @property
    def added(self) -> list[str]:
        return self._clients("add")

    @property
    def updated(self) -> list[str]:
        done = set(self.added)
        return [c for c in self._clients("update") if c not in done]

    @property
    def unchanged(self) -> int:
        busy = set(self.added) | set(self.updated)
        return len([c for c in self._clients("same") if c not in busy])

    @property
    def kept(self) -> int:
        return sum(1 for r in self.rows for c in r.changes if not c.applied)

    @property
    def contacts_added(self) -> int:
        return sum(len(r.people) for r in self.rows)

    @property
    def people_added(self) -> list[str]:
        return self.invited


# --- reading a table ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line number, cells)
    delimiter: str
    ignored_lines: int


def _delimiter(first_line: str) -> str:
    """The delimiter that splits the header into the most columns: comma, semicolon or tab."""
    best, most = ",", 1
    for candidate in (",", ";", "\t"):
        cells = next(csv.reader([first_line], delimiter=candidate), [])
        if len(cells) > most:
            best, most = candidate, len(cells)
    return best


def read_table(text: str) -> Table:
    text = text.lstrip("\ufeff")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = _delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    ignored = 0
    end = 0
    for cells in reader:
        line, end = end + 1, reader.line_num  # where the row starts: a cell may span lines
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = cells
            continue
        if len(cells) == 1 and len(header) > 1:
            # A line of its own below or inside the table: a report's footer ("Copyright…",
            # "Generated By…", the firm's name) or a grouping title. Not a client.
            ignored += 1
            continue
        rows.append((line, cells))
    if header is None:
        raise ImportError_("the file is empty")
    return Table(header, rows, delimiter, ignored)


def _key(header: str) -> str:
    return " ".join(header.strip().lstrip("\ufeff").casefold().split())


def parse_map(spec: str) -> dict[str, str]:
    """`"Firma=name, Letzter Kontakt=last_contact"` -> {"firma": "name", ...}."""
    out: dict[str, str] = {}
    for part in next(csv.reader([spec], skipinitialspace=True), []):
        if not part.strip():
            continue
        header, sep, meaning = part.rpartition("=")
        meaning = meaning.strip().casefold()
        if not sep or not header.strip():
            raise ImportError_(f"--map: {part.strip()!r} is not Header=field")
        if meaning not in FIELDS:
            raise ImportError_(
                f"--map: {meaning!r} is not a field Touchbase knows; use one of "
                + ", ".join(FIELDS)
            )
        out[_key(header)] = meaning
    return out


@dataclass(frozen=True, slots=True)
class Columns:
    single: dict[str, int]
    last_contact: tuple[int, ...]
    last_attempt: tuple[int, ...]


def columns(header: Sequence[str], mapping: Mapping[str, str] | None = None) -> Columns:
    keys = [_key(h) for h in header]
    mapping = dict(mapping or {})
    missing = [h for h in mapping if h not in keys]
    if missing:
        raise ImportError_(
            f"--map names {', '.join(repr(m) for m in missing)}, which the file does not have; "
            f"its headers are: {', '.join(h.strip() for h in header)}"
        )
    taken = {keys.index(h) for h in mapping}
    single: dict[str, int] = {}
    last: list[int] = []
    for h, meaning in mapping.items():
        if meaning == "last_contact":
            last.append(keys.index(h))
        elif meaning != "ignore":
            single.setdefault(meaning, keys.index(h))

    def free(spelling: str) -> int | None:
        return next((i for i, k in enumerate(keys) if k == spelling and i not in taken), None)

    for meaning, spellings in HEADERS.items():
        if meaning in single:
            continue
        for spelling in spellings:
            index = free(spelling)
            if index is not None:
                single[meaning] = index
                taken.add(index)
                break
    if not last:
        last = [i for s in LAST_CONTACT if (i := free(s)) is not None]
    attempt = tuple(i for s in LAST_ATTEMPT if (i := free(s)) is not None)
    return Columns(single, tuple(last), attempt)


def recognise(header: Sequence[str]) -> str:
    """The product a header comes from, for the report: "Outlook contacts", "Salesforce report"…"""
    keys = {_key(h) for h in header}
    if {"record id"} <= keys and ("company owner" in keys or "company domain name" in keys):
        return "HubSpot companies"
    if {"record id", "contact owner"} <= keys or {"record id", "email", "first name"} <= keys:
        return "HubSpot contacts"
    if {"first name", "e-mail address", "job title"} <= keys:
        return "Outlook contacts"
    if "account name" in keys and "first name" in keys:
        return "Salesforce contacts report"
    if "account name" in keys:
        return "Salesforce accounts report"
    if "record manager" in keys or "last reach" in keys or "last meeting" in keys:
        return "Act! contacts"
    if {"company", "contact"} <= keys and keys & {"phone1", "key1", "lastconton", "dear"}:
        return "GoldMine contacts"
    if "name" in keys and keys & {"cadence_days", "aliases", "owner", "last_contact"}:
        return "Touchbase CSV"
    return "CSV"


# --- dates ----------------------------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_NUMERIC = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})(?:[ ,T].*)?$")


def date_order(values: Iterable[str]) -> DateOrder | Literal["both"] | None:
    """What the numeric dates of a column say: US (12/31), day-first (31/12), both, or nothing."""
    us = day_first = False
    for value in values:
        m = _NUMERIC.match(value.strip())
        if not m or m.group(2) == ".":  # 31.12.2026 is day-first wherever it is written
            continue
        a, b = int(m.group(1)), int(m.group(3))
        us = us or b > 12
        day_first = day_first or a > 12
    if us and day_first:
        return "both"
    return "us" if us else "day-first" if day_first else None


def ambiguous(value: str) -> bool:
    m = _NUMERIC.match(value.strip())
    if not m or m.group(2) == ".":
        return False
    a, b = int(m.group(1)), int(m.group(3))
    return a != b and a <= 12 and b <= 12


def parse_date(value: str, order: DateOrder | None) -> date:
    """A date as exports write it: ISO, 11/20/2026 (US), 20/11/2026 or 20.11.2026 (day-first),
    "Nov 20, 2026"; a time after it is left out. Raises ValueError."""
    text = value.strip()
    if m := _ISO.match(text):
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _NUMERIC.match(text):
        a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if year < 100:
            year += 2000
        if m.group(2) == "." or order == "day-first":
            return date(year, b, a)
        return date(year, a, b)
    if re.search(r"[a-z]{3}", text, re.IGNORECASE):
        try:
            return dateutil_parser.parse(text, dayfirst=order == "day-first").date()
        except (ValueError, OverflowError) as exc:
            raise ValueError(str(exc)) from None
    raise ValueError(f"not a date: {value!r}")


# --- rows -> records ------------------------------------------------------------------------------

_WHOLE = re.compile(r"^\+?\d{1,6}(?:\.0*)?$")


def _cadence(text: str) -> int:
    if not _WHOLE.match(text.strip()):
        raise ValueError(
            f"cadence_days {text!r} is not a whole number of days: write a number from 1 to 3650"
        )
    days = int(text.strip().split(".")[0])
    if not 1 <= days <= 3650:
        raise ValueError(f"cadence_days {days} is not between 1 and 3650")
    return days


def read_clients(
    text: str,
    mapping: Mapping[str, str] | None = None,
    *,
    today: date | None = None,
    dates: DateOrder | None = None,
) -> tuple[list[ClientRecord], ImportReport]:
    """Parse the CSV into records. Problems come back in the report, each with its line number."""
    report = ImportReport()
    try:
        table = read_table(text)
        cols = columns(table.header, mapping)
    except ImportError_ as exc:
        report.errors.append(RowError(1, str(exc)))
        return [], report
    report.source = "CSV with --map" if mapping else recognise(table.header)
    report.delimiter = table.delimiter
    report.ignored_lines = table.ignored_lines
    if "name" not in cols.single:
        report.errors.append(
            RowError(
                1,
                "no client name column: expected one of name, Company, Account Name "
                '(or say which column it is with --map "Header=name")',
            )
        )
        return [], report

    def cell(row: list[str], index: int | None) -> str:
        return row[index].strip() if index is not None and index < len(row) else ""

    def get(row: list[str], meaning: str) -> str:
        return cell(row, cols.single.get(meaning))

    date_cells = [
        (line, cell(row, i))
        for line, row in table.rows
        for i in (*cols.last_contact, *cols.last_attempt)
        if cell(row, i)
    ]
    order: DateOrder | None = dates
    if order is None:
        said = date_order(v for _, v in date_cells)
        if said == "both":
            report.errors.append(
                RowError(
                    date_cells[0][0],
                    "the dates in this file are written both month-first and day-first; "
                    "say which with --dates us or --dates day-first",
                )
            )
            return [], report
        order = said
        if order is None:
            unclear = next(((ln, v) for ln, v in date_cells if ambiguous(v)), None)
            if unclear is not None:
                report.errors.append(
                    RowError(
                        unclear[0],
                        f"the date {unclear[1]!r} could be read month-first or day-first, and "
                        "no date in the file settles it; say which with --dates us or "
                        "--dates day-first",
                    )
                )
                return [], report

    def last_contact(line: int, row: list[str]) -> date | None:
        found: list[date] = []
        for group in (cols.last_contact, cols.last_attempt):
            for index in group:
                value = cell(row, index)
                if not value:
                    continue
                try:
                    day = parse_date(value, order)
                except ValueError:
                    raise ValueError(f"last contact {value!r} is not a date") from None
                if today is not None and day > today:
                    raise ValueError(f"last contact {value!r} is in the future")
                found.append(day)
            if found:
                break
        return max(found) if found else None

    records: list[ClientRecord] = []
    for line, row in table.rows:
        name = " ".join(get(row, "name").split())
        person = _person(
            get(row, "person"),
            get(row, "first_name"),
            get(row, "last_name"),
            get(row, "title"),
            get(row, "email"),
            get(row, "phone"),
        )
        if not name:
            who = f" ({person.name})" if person else ""
            report.skipped.append(RowError(line, f"no company{who}"))
            continue
        if len(name) > 200:
            report.errors.append(RowError(line, "the client name is longer than 200 characters"))
            continue
        try:
            cadence_text = get(row, "cadence_days")
            records.append(
                ClientRecord(
                    line=line,
                    name=name,
                    aliases=tuple(a.strip() for a in get(row, "aliases").split(";") if a.strip()),
                    owner=get(row, "owner") or None,
                    cadence_days=_cadence(cadence_text) if cadence_text else None,
                    segment=get(row, "segment")[:100] or None,
                    last_contact_on=last_contact(line, row),
                    person=person,
                )
            )
        except ValueError as exc:
            report.errors.append(RowError(line, str(exc)))
    return records, report


def _person(
    full: str, first: str, last: str, title: str, email: str, phone: str
) -> PersonRecord | None:
    name = " ".join((full or f"{first} {last}").split())
    email = email.strip()
    if not name:
        if not email:
            return None
        name = email
    return PersonRecord(
        name=name[:200],
        title=title[:200] or None,
        email=email[:320] or None,
        phone=phone.strip()[:64] or None,
    )


# --- applying records -----------------------------------------------------------------------------


def _find_person(people: Iterable[Person], who: str) -> Person | None:
    key = who.casefold().strip().lstrip("@")
    for p in people:
        if key in (
            p.display_name.casefold(),
            (p.email or "").casefold(),
            p.platform_user_id.casefold(),
            p.platform_user_id.removeprefix(INVITED_PREFIX).casefold(),
        ):
            return p
    return None


def _describe(person: PersonRecord) -> str:
    extra = ", ".join(x for x in (person.title, person.email, person.phone) if x)
    return f"{person.name} ({extra})" if extra else person.name


async def apply_records(
    uow: UnitOfWork,
    records: Sequence[ClientRecord],
    report: ImportReport,
    *,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Apply the records to the workspace. The caller commits only when the report is ok, and
    not at all for a dry run: the report is the same either way."""
    if report.errors:
        return report
    people = await uow.people.list()
    names = {p.id: p.display_name for p in people}
    by_name: dict[str, Client] = {c.name.casefold(): c for c in await uow.clients.list()}
    ids = [c.id for c in by_name.values()]
    known_last: dict[int, date] = {}
    for start in range(0, len(ids), 5000):  # within every database's limit on parameters
        known_last.update(await uow.clients.last_touch_on(ids[start : start + 5000]))
    contacts: dict[int, list[Contact]] = {}
    batch = _NewClients()
    for done, record in enumerate(records, 1):
        if progress:
            progress(done, len(records))
        owner_id: int | None = None
        if record.owner:
            owner = _find_person(people, record.owner)
            if owner is None:
                # Someone who has not used Touchbase yet: a pending invitation, taken up when
                # they first use it (matched by their verified e-mail only), never shown as a colleague.
                key = record.owner.strip().lstrip("@")
                email = key if "@" in key else None
                owner = await uow.people.ensure(
                    f"{INVITED_PREFIX}{key.casefold()}", key, email=email
                )
                people.append(owner)
                names[owner.id] = owner.display_name
                report.invited.append(key)
            owner_id = owner.id
        existing = by_name.get(record.name.casefold())
        if existing is None:
            # New clients wait in memory and are written together at the end, a thousand to a
            # statement, with their key people and owners: an import of 100,000 rows is a few
            # hundred statements rather than several hundred thousand.
            client = Client(
                id=-(len(batch.clients) + 1),
                workspace_id=0,
                name=record.name.strip(),
                aliases=tuple(record.aliases),
                owner_id=owner_id,
                cadence_days=record.cadence_days,
                segment=record.segment,
                last_contact_on=record.last_contact_on,
            )
            batch.clients[client.id] = client
            contacts[client.id] = []  # new: no key people yet, nothing to look up
            if record.last_contact_on is not None:
                known_last[client.id] = record.last_contact_on
            outcome = RowOutcome(record.line, client.name, "add")
            for label, value in (
                ("owner", names.get(owner_id) if owner_id else None),
                ("aliases", "; ".join(record.aliases) or None),
                ("cadence", f"{record.cadence_days} days" if record.cadence_days else None),
                ("segment", record.segment),
                ("last contact", str(record.last_contact_on) if record.last_contact_on else None),
            ):
                if value:
                    outcome.changes.append(FieldChange(label, None, value, True))
        else:
            client, outcome = await _update(
                uow, existing, record, owner_id, names, known_last, overwrite, batch
            )
        by_name[client.name.casefold()] = client
        if record.person is not None:
            await _key_person(uow, client, record.person, outcome, contacts, overwrite)
        if outcome.action == "same" and (outcome.people or outcome.changes):
            outcome.action = "update"
        report.rows.append(outcome)
    await batch.write(uow, contacts)
    return report


@dataclass
class _NewClients:
    """The clients an import adds, kept until the end (ids below zero until then)."""

    clients: dict[int, Client] = field(default_factory=dict)

    async def write(self, uow: UnitOfWork, contacts: Mapping[int, list[Contact]]) -> None:
        if not self.clients:
            return
        pending = list(self.clients.values())
        added = await uow.clients.add_many(pending)
        ids = {p.id: a.id for p, a in zip(pending, added, strict=True)}
        await uow.contacts.add_many(
            [replace(c, client_id=ids[c.client_id]) for temp in ids for c in contacts.get(temp, [])]
        )
        await uow.history.add_owner_changes(
            [(ids[p.id], None, p.owner_id, None) for p in pending if p.owner_id is not None]
        )


async def _update(
    uow: UnitOfWork,
    existing: Client,
    record: ClientRecord,
    owner_id: int | None,
    names: Mapping[int, str],
    known_last: dict[int, date],
    overwrite: bool,
    batch: _NewClients,
) -> tuple[Client, RowOutcome]:
    outcome = RowOutcome(record.line, existing.name, "same")
    changes: dict[str, Any] = {}
    aliases = tuple(dict.fromkeys((*existing.aliases, *record.aliases)))
    if aliases != existing.aliases:
        changes["aliases"] = aliases
        added = "; ".join(a for a in aliases if a not in existing.aliases)
        outcome.changes.append(FieldChange("aliases", None, f"+ {added}", True))

    def compare(attr: str, new: Any, show: Callable[[Any], str | None]) -> None:
        old = getattr(existing, attr)
        if new is None or new == old:
            return
        applied = old is None or overwrite
        if applied:
            changes[attr] = new
        outcome.changes.append(FieldChange(FIELD_LABELS[attr], show(old), show(new), applied))

    compare("owner_id", owner_id, lambda v: names.get(v) if v is not None else None)
    compare("cadence_days", record.cadence_days, lambda v: f"{v} days" if v else None)
    compare("segment", record.segment, lambda v: v)
    last = known_last.get(existing.id)
    if record.last_contact_on is not None and (last is None or record.last_contact_on > last):
        # A later contact than Touchbase knows of is news, not a conflict.
        changes["last_contact_on"] = record.last_contact_on
        known_last[existing.id] = record.last_contact_on
        outcome.changes.append(
            FieldChange(
                "last contact", str(last) if last else None, str(record.last_contact_on), True
            )
        )
    client = existing
    if changes and existing.id < 0:  # added earlier in this file: not written yet
        client = replace(existing, **changes)
        batch.clients[client.id] = client
    elif changes:
        client = await uow.clients.update(existing.id, **changes)
        if "owner_id" in changes:
            await uow.history.add_owner_change(client.id, existing.owner_id, owner_id, None)
    return client, outcome


async def _key_person(
    uow: UnitOfWork,
    client: Client,
    person: PersonRecord,
    outcome: RowOutcome,
    contacts: dict[int, list[Contact]],
    overwrite: bool,
) -> None:
    if client.id not in contacts:
        contacts[client.id] = await uow.contacts.for_client(client.id)
    known = contacts[client.id]
    email = (person.email or "").casefold()
    match = next(
        (
            c
            for c in known
            if c.name.casefold() == person.name.casefold()
            or (email and (c.email or "").casefold() == email)
        ),
        None,
    )
    if match is None:
        if client.id < 0:  # a new client's key person: written with it
            added = Contact(
                id=-(len(known) + 1),
                workspace_id=0,
                client_id=client.id,
                name=person.name,
                title=person.title,
                email=person.email,
                phone=person.phone,
            )
        else:
            added = await uow.contacts.add(
                client.id, person.name, title=person.title, email=person.email, phone=person.phone
            )
        known.append(added)
        outcome.people.append(_describe(person))
        return
    changes: dict[str, Any] = {}
    for attr in ("title", "email", "phone"):
        new, old = getattr(person, attr), getattr(match, attr)
        if (
            new is None
            or new == old
            or (attr == "email" and new.casefold() == (old or "").casefold())
        ):
            continue
        applied = old is None or overwrite
        if applied:
            changes[attr] = new
        outcome.changes.append(
            FieldChange(f"{match.name}'s {FIELD_LABELS[attr]}", old, new, applied)
        )
    if changes:
        if client.id < 0:
            updated = replace(match, **changes)
        else:
            updated = await uow.contacts.update(match.id, **changes)
        known[known.index(match)] = updated


async def import_clients(
    uow: UnitOfWork,
    text: str,
    mapping: Mapping[str, str] | None = None,
    *,
    today: date | None = None,
    dates: DateOrder | None = None,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Read the CSV and apply it. The caller commits only when the report is ok."""
    records, report = read_clients(text, mapping, today=today, dates=dates)
    return await apply_records(uow, records, report, overwrite=overwrite, progress=progress)


# --- vCard ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Card:
    """One vCard, as the edge read it: where it starts, ORG, FN, TITLE, EMAIL, TEL."""

    line: int
    org: str | None
    name: str | None
    title: str | None = None
    email: str | None = None
    phone: str | None = None


async def import_cards(
    uow: UnitOfWork,
    cards: Sequence[Card],
    *,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """ORG becomes the client, FN/TITLE/EMAIL/TEL its key person; a card without ORG is skipped."""
    report = ImportReport(source="vCard")
    records = []
    for card in cards:
        org = " ".join((card.org or "").split())
        person = _person(
            card.name or "", "", "", card.title or "", card.email or "", card.phone or ""
        )
        if not org:
            who = f" ({person.name})" if person else ""
            report.skipped.append(RowError(card.line, f"no organisation{who}"))
            continue
        records.append(ClientRecord(line=card.line, name=org[:200], person=person))
    return await apply_records(uow, records, report, overwrite=overwrite, progress=progress)


# --- what an import did, in words -----------------------------------------------------------------


def _value(text: str | None) -> str:
    return f"'{text}'" if text else "none"


def describe(report: ImportReport, *, dry_run: bool) -> list[str]:
    """The report as lines for a terminal: per row what is (or would be) added and changed."""
    out: list[str] = []
    for row in report.rows:
        if row.action == "add":
            details = ", ".join(f"{c.field} {c.new}" for c in row.changes)
            out.append(f"line {row.line}: add {row.client}" + (f" ({details})" if details else ""))
        else:
            for c in row.changes:
                if c.applied:
                    arrow = (
                        c.new
                        if c.old is None and c.new and c.new.startswith("+")
                        else (f"{_value(c.old)} → {_value(c.new)}")
                    )
                    out.append(f"line {row.line}: update {row.client}: {c.field} {arrow}")
                else:
                    out.append(
                        f"line {row.line}: keep {row.client}: {c.field} stays {_value(c.old)} "
                        f"(the file has {_value(c.new)}; --overwrite replaces it)"
                    )
        for person in row.people:
            out.append(f"line {row.line}: add key person to {row.client}: {person}")
    for skip in report.skipped:
        out.append(f"line {skip.line}: skip: {skip.problem}")
    would = "would be " if dry_run else ""
    summary = (
        f"{plural(len(report.added), 'client')} {would}added, "
        f"{len(report.updated)} {would}updated, {report.unchanged} unchanged, "
        f"{plural(report.contacts_added, 'key person', 'key people')} {would}added, "
        f"{plural(len(report.skipped), 'row')} skipped"
    )
    if report.kept:
        summary += f", {plural(report.kept, 'value')} kept as in Touchbase"
    if report.ignored_lines:
        summary += f", {plural(report.ignored_lines, 'line')} outside the table ignored"
    out.append(summary + ".")
    if report.invited:
        out.append(
            "Owners not using Touchbase yet, invited (they take their clients on first use): "
            + ", ".join(dict.fromkeys(report.invited))
        )
    return out
