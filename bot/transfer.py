"""Import clients from a CSV file (ours, Outlook's or Salesforce's) and export the history.

An import is one transaction: a bad row is reported with its line number and nothing is saved.
Importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.domain import Client, Person
from bot.ports import UnitOfWork
from bot.rules import open_follow_ups

# Header spellings we recognise, by what they mean. Compared casefolded and trimmed.
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
    "owner": ("owner", "account owner", "relationship owner", "owner email", "account owner email"),
    "cadence_days": ("cadence_days", "cadence", "cadence (days)"),
    "segment": ("segment", "industry", "type", "account type", "tier"),
    "first_name": ("first name", "first_name", "given name"),
    "last_name": ("last name", "last_name", "surname", "family name"),
    "title": ("job title", "position"),
}


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    problem: str


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    contacts_added: int = 0
    people_added: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class ClientRecord:
    line: int
    name: str
    aliases: tuple[str, ...]
    owner: str | None
    cadence_days: int | None
    segment: str | None
    contact_name: str | None
    contact_title: str | None


def _columns(header: Sequence[str]) -> dict[str, int]:
    """Column index by meaning; the earlier spelling wins (Outlook has "Title" and "Job Title")."""
    keys = [raw.strip().lstrip("\ufeff").casefold() for raw in header]
    found: dict[str, int] = {}
    for meaning, spellings in HEADERS.items():
        for spelling in spellings:
            if spelling in keys:
                found[meaning] = keys.index(spelling)
                break
    return found


def read_clients(text: str) -> tuple[list[ClientRecord], list[RowError]]:
    """Parse the CSV into records; every problem comes back with its line number."""
    rows = csv.reader(io.StringIO(text))
    try:
        header = next(rows)
    except StopIteration:
        return [], [RowError(1, "the file is empty")]
    cols = _columns(header)
    if "name" not in cols:
        return [], [
            RowError(1, "no client name column: expected one of name, Company, Account Name")
        ]
    records: list[ClientRecord] = []
    errors: list[RowError] = []

    def cell(row: list[str], meaning: str) -> str:
        index = cols.get(meaning)
        return row[index].strip() if index is not None and index < len(row) else ""

    for row in rows:
        line = rows.line_num
        if not any(c.strip() for c in row):
            continue
        name = " ".join(cell(row, "name").split())
        if not name:
            errors.append(RowError(line, "the client name is empty"))
            continue
        if len(name) > 200:
            errors.append(RowError(line, "the client name is longer than 200 characters"))
            continue
        cadence_text = cell(row, "cadence_days")
        cadence: int | None = None
        if cadence_text:
            try:
                cadence = int(float(cadence_text))
            except ValueError:
                errors.append(RowError(line, f"cadence_days {cadence_text!r} is not a number"))
                continue
            if not 1 <= cadence <= 3650:
                errors.append(RowError(line, f"cadence_days {cadence} is not between 1 and 3650"))
                continue
        contact = " ".join(f"{cell(row, 'first_name')} {cell(row, 'last_name')}".split())
        records.append(
            ClientRecord(
                line=line,
                name=name,
                aliases=tuple(a.strip() for a in cell(row, "aliases").split(";") if a.strip()),
                owner=cell(row, "owner") or None,
                cadence_days=cadence,
                segment=cell(row, "segment") or None,
                contact_name=contact or None,
                contact_title=cell(row, "title") or None,
            )
        )
    return records, errors


def _find_person(people: Iterable[Person], who: str) -> Person | None:
    key = who.casefold().strip().lstrip("@")
    for p in people:
        if key in (
            p.display_name.casefold(),
            (p.email or "").casefold(),
            p.platform_user_id.casefold(),
            p.platform_user_id.removeprefix("import:").casefold(),
        ):
            return p
    return None


async def import_clients(uow: UnitOfWork, text: str) -> ImportReport:
    """Apply the file to the workspace. The caller commits only when the report is ok."""
    report = ImportReport()
    records, report.errors = read_clients(text)
    if report.errors:
        return report
    people = await uow.people.list()
    by_name: dict[str, Client] = {c.name.casefold(): c for c in await uow.clients.list()}
    seen_contacts: set[tuple[int, str]] = set()
    touched: set[str] = set()
    for record in records:
        owner_id: int | None = None
        if record.owner:
            owner = _find_person(people, record.owner)
            if owner is None:
                # Someone who has not used Touchbase yet: a placeholder they take over on first
                # contact (matched by email or name).
                key = record.owner.strip().lstrip("@")
                email = key if "@" in key else None
                owner = await uow.people.ensure(f"import:{key.casefold()}", key, email=email)
                people.append(owner)
                report.people_added.append(key)
            owner_id = owner.id
        existing = by_name.get(record.name.casefold())
        if existing is None:
            client = await uow.clients.add(
                record.name,
                aliases=record.aliases,
                owner_id=owner_id,
                cadence_days=record.cadence_days,
                segment=record.segment,
            )
            if owner_id is not None:
                await uow.history.add_owner_change(client.id, None, owner_id, None)
            by_name[record.name.casefold()] = client
            report.added.append(client.name)
            touched.add(client.name)
        else:
            client = existing
            changes: dict[str, Any] = {}
            aliases = tuple(dict.fromkeys((*existing.aliases, *record.aliases)))
            if aliases != existing.aliases:
                changes["aliases"] = aliases
            if owner_id is not None and owner_id != existing.owner_id:
                changes["owner_id"] = owner_id
            if record.cadence_days is not None and record.cadence_days != existing.cadence_days:
                changes["cadence_days"] = record.cadence_days
            if record.segment is not None and record.segment != existing.segment:
                changes["segment"] = record.segment
            if changes:
                client = await uow.clients.update(existing.id, **changes)
                if "owner_id" in changes:
                    await uow.history.add_owner_change(client.id, existing.owner_id, owner_id, None)
                by_name[record.name.casefold()] = client
                if client.name not in touched:
                    report.updated.append(client.name)
            elif client.name not in touched:
                report.unchanged += 1
            touched.add(client.name)
        if record.contact_name:
            contact_key = (client.id, record.contact_name.casefold())
            if contact_key not in seen_contacts:
                seen_contacts.add(contact_key)
                known = {c.name.casefold() for c in await uow.contacts.for_client(client.id)}
                if record.contact_name.casefold() not in known:
                    await uow.contacts.add(
                        client.id, record.contact_name, title=record.contact_title
                    )
                    report.contacts_added += 1
    return report


EXPORT_TOUCH_FIELDS = (
    "client",
    "kind",
    "contact",
    "occurred_on",
    "awaiting_reply",
    "note",
    "logged_by",
)


async def export_data(uow: UnitOfWork) -> dict[str, list[dict[str, Any]]]:
    people = {p.id: p for p in await uow.people.list()}
    clients = {c.id: c for c in await uow.clients.list()}
    client_rows = [
        {
            "name": c.name,
            "aliases": list(c.aliases),
            "owner": people[c.owner_id].display_name if c.owner_id in people else None,
            "cadence_days": c.cadence_days,
            "segment": c.segment,
            "status": c.status.value,
        }
        for c in clients.values()
    ]
    touches = await uow.touches.all()
    waiting = open_follow_ups(touches)
    touch_rows = [
        {
            "client": clients[t.client_id].name,
            "kind": t.kind.value,
            "contact": t.contact,
            "occurred_on": t.occurred_on.isoformat(),
            "awaiting_reply": t.id in waiting,
            "note": t.note,
            "logged_by": people[t.person_id].display_name if t.person_id in people else None,
        }
        for t in touches
    ]
    return {"clients": client_rows, "touches": touch_rows}


def touches_csv(data: dict[str, list[dict[str, Any]]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_TOUCH_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in data["touches"]:
        writer.writerow({k: ("" if row[k] is None else row[k]) for k in EXPORT_TOUCH_FIELDS})
    return out.getvalue()
