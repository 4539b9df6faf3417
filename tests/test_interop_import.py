"""Importing the files firms have: Outlook, Salesforce, Act!, GoldMine, HubSpot, Excel, vCard.

The files in tests/data/imports are written as those products write them: Outlook's contacts
CSV in Windows-1252 and as "Unicode" (UTF-16 LE with a BOM), Salesforce reports with their
footer, Excel's semicolon CSV with a UTF-8 BOM, vCard 3.0 and 4.0 with CRLF line ends.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from adapters.files import decode, read_cards, read_text
from adapters.progress import Progress
from bot.domain import Contact, Platform
from bot.transfer import (
    ImportReport,
    describe,
    import_cards,
    import_clients,
    parse_date,
    parse_map,
    read_clients,
)
from store.repositories import SqlStore

from .conftest import T0, Chat

DATA = Path(__file__).parent / "data" / "imports"
TODAY = T0.date()


async def _run(store: SqlStore, name: str, *, commit: bool = True, **kw: Any) -> ImportReport:
    decoded = read_text(DATA / name)
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        if name.endswith(".vcf"):
            report = await import_cards(uow, read_cards(decoded.text))
        else:
            report = await import_clients(uow, decoded.text, today=TODAY, **kw)
        report.encoding = decoded.encoding
        if report.ok and commit:
            await uow.commit()
    return report


async def _state(store: SqlStore) -> dict[str, dict[str, Any]]:
    """Every client with its owner's name, segment, last contact and key people."""
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        people = {p.id: p.display_name for p in await uow.people.list()}
        clients = await uow.clients.list()
        last = await uow.clients.last_touch_on([c.id for c in clients])
        out = {}
        for c in clients:
            contacts: list[Contact] = await uow.contacts.for_client(c.id)
            out[c.name] = {
                "owner": people.get(c.owner_id) if c.owner_id else None,
                "segment": c.segment,
                "cadence": c.cadence_days,
                "last": last.get(c.id),
                "people": [(k.name, k.title, k.email) for k in contacts],
            }
        return out


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("outlook-contacts-cp1252.csv", "Windows-1252"),
        ("outlook-contacts-unicode.csv", "UTF-16"),
    ],
)
async def test_outlook_contacts_in_both_encodings(
    store: SqlStore, name: str, encoding: str
) -> None:
    raw = (DATA / name).read_bytes()
    assert raw.startswith(b"\xff\xfe") == (encoding == "UTF-16")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    report = await _run(store, name)
    assert report.ok, report.errors
    assert report.encoding == encoding and report.source == "Outlook contacts"
    assert report.added == ["Café Größe GmbH", "Ashworth & Daughters"]
    # The personal contact without a company is skipped and counted, not fatal.
    assert [(s.line, s.problem) for s in report.skipped] == [(5, "no company (Mum)")]
    state = await _state(store)
    assert state["Café Größe GmbH"]["people"] == [
        ("Renée Müller", "Finanzchefin", "renee.mueller@cafe-groesse.example"),
        ("José Núñez", "Geschäftsführer", "jose.nunez@cafe-groesse.example"),
    ]
    # "Title" is Outlook's courtesy title (Dr.); the job title is "Job Title".
    assert state["Ashworth & Daughters"]["people"] == [
        ("Zoë Ashworth", "Managing Partner", "zoe@ashworth.example")
    ]
    # A note spanning two lines does not shift the line numbers after it.
    assert [r.line for r in report.rows] == [2, 4, 6]
    again = await _run(store, name)
    assert again.added == [] and again.updated == [] and again.contacts_added == 0


async def test_salesforce_accounts_report_footer_is_not_clients(store: SqlStore) -> None:
    report = await _run(store, "salesforce-accounts.csv")
    assert report.ok, report.errors
    assert report.source == "Salesforce accounts report"
    assert report.added == ["Umbrella Corporation", "Wayne Enterprises", "Stark Industries"]
    assert report.ignored_lines == 5  # "Accounts with Owner", Copyright, ..., the firm's name
    state = await _state(store)
    assert state["Umbrella Corporation"]["last"] == date(2026, 11, 14)  # Last Activity, US
    assert state["Wayne Enterprises"]["last"] == date(2026, 9, 3)
    assert state["Stark Industries"]["last"] is None
    assert state["Umbrella Corporation"]["segment"] == "Biotechnology"  # Industry over Type


async def test_salesforce_industry_never_silently_overwrites_a_segment(store: SqlStore) -> None:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        await uow.clients.add("Umbrella Corporation", segment="Pharma, key account")
        await uow.commit()
    dry = await _run(store, "salesforce-accounts.csv", commit=False)
    lines = describe(dry, dry_run=True)
    assert (
        "line 2: keep Umbrella Corporation: segment stays 'Pharma, key account' "
        "(the file has 'Biotechnology'; --overwrite replaces it)"
    ) in lines
    assert "line 2: update Umbrella Corporation: last contact none → '2026-11-14'" in lines
    assert (
        "line 3: add Wayne Enterprises (owner bruce@wayne.example, segment Manufacturing, "
        "last contact 2026-09-03)" in lines
    )
    assert lines[-2].startswith("2 clients would be added, 1 would be updated")
    assert "1 value kept as in Touchbase" in lines[-2]
    assert await _state(store) == {
        "Umbrella Corporation": {
            "owner": None,
            "segment": "Pharma, key account",
            "cadence": None,
            "last": None,
            "people": [],
        }
    }  # the dry run saved nothing
    await _run(store, "salesforce-accounts.csv")
    assert (await _state(store))["Umbrella Corporation"]["segment"] == "Pharma, key account"
    forced = await _run(store, "salesforce-accounts.csv", overwrite=True)
    assert (
        "line 2: update Umbrella Corporation: segment 'Pharma, key account' → "
        "'Biotechnology'" in describe(forced, dry_run=False)
    )
    assert (await _state(store))["Umbrella Corporation"]["segment"] == "Biotechnology"


async def test_salesforce_contacts_report_gives_key_people(store: SqlStore) -> None:
    report = await _run(store, "salesforce-contacts.csv")
    assert report.ok and report.source == "Salesforce contacts report"
    state = await _state(store)
    assert state["Umbrella Corporation"]["people"] == [
        ("Alice Wesker", "Chief Scientist", "alice@umbrella.example")
    ]
    assert state["Wayne Enterprises"]["last"] == date(2026, 10, 2)


async def test_act_contacts_latest_reach_or_meeting(store: SqlStore) -> None:
    report = await _run(store, "act-contacts.csv")
    assert report.ok and report.source == "Act! contacts"
    state = await _state(store)
    globex = state["Globex Corporation"]
    assert globex["owner"] == "Jane Roe"
    # Hank: reached 10/28, met 11/02 (the last attempt is not a contact). Frank: only an attempt.
    assert globex["last"] == date(2026, 11, 15)
    assert [p[0] for p in globex["people"]] == ["Hank Scorpio", "Frank Grimes"]
    assert state["Initech"]["people"] == [
        ("Bill Lumbergh", "Vice President – Operations", "bill@initech.example")
    ]


async def test_goldmine_contacts(store: SqlStore) -> None:
    report = await _run(store, "goldmine-contacts.csv")
    assert report.ok and report.source == "GoldMine contacts"
    assert report.encoding == "Windows-1252"
    state = await _state(store)
    assert state["Vandelay Industries"]["people"] == [
        ("Art Vandelay", "Importer–Exporter", "art@vandelay.example")
    ]
    assert state["Vandelay Industries"]["last"] == date(2026, 10, 5)
    assert state["Kramerica"]["last"] == date(2026, 9, 30)  # the last attempt, nothing else
    assert [s.problem for s in report.skipped] == ["no company (Newman)"]


async def test_hubspot_companies_then_contacts(store: SqlStore) -> None:
    companies = await _run(store, "hubspot-companies.csv")
    assert companies.source == "HubSpot companies"
    contacts = await _run(store, "hubspot-contacts.csv")
    assert contacts.source == "HubSpot contacts"
    assert contacts.added == [] and contacts.updated == ["Hooli", "Pied Piper Inc."]
    state = await _state(store)
    assert state["Hooli"]["last"] == date(2026, 11, 21)
    assert state["Hooli"]["people"] == [("Gavin Belson", "CEO", "gavin@hooli.example")]
    assert state["Pied Piper Inc."]["last"] == date(2026, 10, 30)


async def test_excel_semicolon_day_first(store: SqlStore) -> None:
    report = await _run(store, "excel-semicolon.csv")
    assert report.ok, report.errors
    assert report.delimiter == ";" and report.encoding == "UTF-8 with BOM"
    state = await _state(store)
    sgc = state["Société Générale de Conseil"]
    assert (sgc["cadence"], sgc["segment"], sgc["last"]) == (30, "Banque", date(2026, 10, 24))
    assert state["Brauerei Zum Löwen"]["last"] == date(2026, 11, 3)  # 03/11, settled by 24/10


async def test_tab_separated_with_a_map(store: SqlStore) -> None:
    text = "Firma\tAnsprechpartner\tPosition\tLetzter Kontakt\tBetreuer\nMüller AG\tHans Weber\tCFO\t12.10.2026\tjane\n"
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        report = await import_clients(
            uow,
            text,
            parse_map("Firma=name, Ansprechpartner=person, Letzter Kontakt=last_contact"),
            today=TODAY,
        )
        await uow.commit()
    assert report.ok, report.errors
    state = await _state(store)
    # Position and Betreuer were not mapped: Position is a spelling of title; Betreuer is left.
    assert state["Müller AG"]["people"] == [("Hans Weber", "CFO", None)]
    assert state["Müller AG"]["last"] == date(2026, 10, 12)
    assert state["Müller AG"]["owner"] is None


def test_map_errors_are_friendly() -> None:
    with pytest.raises(ValueError, match="'firm' is not a field Touchbase knows"):
        parse_map("Company=firm")
    _, report = read_clients("A,B\nx,y\n", parse_map("Kunde=name"))
    assert "--map names 'kunde', which the file does not have; its headers are: A, B" in (
        report.errors[0].problem
    )


def test_dates_us_and_day_first_and_what_is_asked() -> None:
    assert parse_date("11/20/2026 3:14 PM", "us") == date(2026, 11, 20)
    assert parse_date("20/11/2026", "day-first") == date(2026, 11, 20)
    assert parse_date("20.11.2026", None) == date(2026, 11, 20)
    assert parse_date("2026-11-20 14:03", None) == date(2026, 11, 20)
    assert parse_date("Nov 20, 2026", None) == date(2026, 11, 20)
    # Nothing in the file settles 03/04/2026: Touchbase asks rather than guess.
    _, report = read_clients("name,last_contact\nAcme,03/04/2026\n", today=TODAY)
    assert report.errors[0].line == 2 and "--dates us or --dates day-first" in (
        report.errors[0].problem
    )
    records, report = read_clients(
        "name,last_contact\nAcme,03/04/2026\n", today=TODAY, dates="day-first"
    )
    assert report.ok and records[0].last_contact_on == date(2026, 4, 3)
    _, mixed = read_clients("name,last_contact\nA,13/01/2026\nB,01/13/2026\n", today=TODAY)
    assert "both month-first and day-first" in mixed.errors[0].problem
    _, future = read_clients("name,last_contact\nA,2027-01-05\n", today=TODAY)
    assert future.errors[0].problem == "last contact '2027-01-05' is in the future"


async def test_last_contact_is_the_clients_last_touch(chat: Chat, store: SqlStore) -> None:
    await chat.say("/touchbase help")  # jane
    text = "name,owner,cadence_days,last_contact\nAcme,jane,30,2026-09-01\nGlobex,jane,30,\n"
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        assert (await import_clients(uow, text, today=TODAY)).ok
        await uow.commit()
    card = await chat.say("/client Acme")
    # The card counts from the last contact the file gave, not from the day of the import.
    assert "Last touch: Tue 1 Sep" in card, card


async def test_owner_by_email_is_an_invitation_not_a_colleague(chat: Chat, store: SqlStore) -> None:
    await chat.say("/touchbase help")
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        report = await import_clients(uow, "name,owner\nAcme,bob@example.com\n", today=TODAY)
        await uow.commit()
        people = await uow.people.list()
    assert report.invited == ["bob@example.com"]
    invited = next(p for p in people if p.email == "bob@example.com")
    assert invited.pending
    from bot.matching import colleagues

    assert [c.person.display_name for c in colleagues(people, {}, {}, {})] == ["jane"]
    # Matched by e-mail on a later import: no second invitation.
    async with store.unit(ws.id) as uow:
        again = await import_clients(uow, "name,owner\nGlobex,BOB@example.com\n", today=TODAY)
    assert again.invited == []


@pytest.mark.parametrize("name", ["contacts-3.0.vcf", "contacts-4.0.vcf"])
async def test_vcards(store: SqlStore, name: str) -> None:
    report = await _run(store, name)
    assert report.ok and report.source == "vCard"
    state = await _state(store)
    if name == "contacts-3.0.vcf":
        assert state == {
            "Analytical Engines Ltd.": {
                "owner": None,
                "segment": None,
                "cadence": None,
                "last": None,
                "people": [
                    ("Ada Lovelace", "Director of Computing", "ada@engines.example"),
                    ("Charles Babbage", "Founder", "charles@engines.example"),
                ],
            }
        }
        assert [(s.line, s.problem) for s in report.skipped] == [(18, "no organisation (John Doe)")]
    else:
        assert state["Compiler Works"]["people"] == [
            ("Grace Hopper", "Rear Admiral", "grace@compiler.example")
        ]
        assert state["Société de Physique"]["people"] == [
            ("Émilie du Châtelet", "Translator", "emilie@physique.example")
        ]


def test_decoding_each_encoding() -> None:
    text = "name\nCafé Größe\n"
    assert decode(text.encode("utf-8")).encoding == "UTF-8"
    assert decode(b"\xef\xbb\xbf" + text.encode("utf-8")).text == text
    assert decode(text.encode("utf-16")).text == text
    assert decode(text.encode("cp1252")).text == text
    assert decode(text.encode("cp1252")).encoding == "Windows-1252"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_plain_lines_off_a_terminal_and_a_bar_on_one() -> None:
    ticks = iter([0.0, 1.0, 6.0, 7.0, 12.5])
    out = io.StringIO()
    with Progress("Reading big.csv", stream=out, monotonic=lambda: next(ticks)) as progress:
        for done in (1_000, 2_000, 3_000, 4_000):
            progress(done, 4_000)
    # One line each time five seconds have passed, none per row.
    assert out.getvalue().splitlines() == [
        "Reading big.csv: 2,000 of 4,000 rows (50%)",
        "Reading big.csv: 4,000 of 4,000 rows (100%)",
    ]
    term = _Terminal()
    with Progress("Reading big.csv", stream=term) as progress:
        assert progress._bar is not None  # rich draws it
        progress(10, 20)
    assert "Reading big.csv" in term.getvalue()


async def test_invited_owner_is_not_a_colleague_on_the_dashboard(
    chat: Chat, store: SqlStore
) -> None:
    from bot.config import CoreConfig
    from bot.dashboard import firm_dashboard
    from store.reports import SqlReports

    await chat.say("/touchbase help")  # jane
    ws = await store.workspace(Platform.CONSOLE, "local")
    text = "name,owner,cadence_days,last_contact\nAcme,bob@example.com,30,2026-09-01\n"
    async with store.unit(ws.id) as uow:
        assert (await import_clients(uow, text, today=TODAY)).ok
        await uow.commit()
    board = await firm_dashboard(SqlReports(store.sessions, ws.id), TODAY, CoreConfig())
    assert [p.person for p in board.load] == ["jane"]
    assert all(o.owner != "bob@example.com" for o in board.overdue_by_owner)
    [row] = board.heatmap
    assert row.last_touch_on == date(2026, 9, 1)


async def test_an_imported_last_contact_starts_the_schedule(chat: Chat, store: SqlStore) -> None:
    from datetime import timedelta

    from bot.text import when

    await chat.say("/touchbase help")  # jane
    recent, old = TODAY - timedelta(days=25), TODAY - timedelta(days=400)
    # Clients added the same day have their first contacts spread over the cadence; Acme's
    # would be 16 days out, later than its last contact makes it due.
    others = "".join(f"Filler {i},jane,30,\n" for i in range(14))
    text = f"name,owner,cadence_days,last_contact\n{others}Acme,jane,30,{recent}\nGlobex,jane,30,{old}\n"
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        assert (await import_clients(uow, text, today=TODAY)).ok
        await uow.commit()
    card = await chat.say("/client Acme")
    # Due a cadence after the last contact the file gave: 5 days from the import.
    assert f"Next due: {when(recent + timedelta(days=30), TODAY)} (on schedule)" in card, card
    # Long past it: due within the cadence from the import, never 370 days overdue at once.
    card = await chat.say("/client Globex")
    assert "(on schedule)" in card and "overdue" not in card, card
