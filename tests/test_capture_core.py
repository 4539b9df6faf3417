"""Capture from an iCalendar feed's contents, through the console chat and both engines: client
domains, matching, suggestions in /due with their buttons, idempotence, moves and cancellations,
modes, and that a subject never reaches storage, a log or a message."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from adapters.capture.ics import events_from_ics
from bot.app import Touchbase
from bot.capture import ingest, match
from bot.capture_ports import CapturedEvent, Direction, EventKind
from bot.clock import FixedClock
from bot.commands import default_registry
from bot.config import CoreConfig
from bot.domain import Person
from store.models import Base
from store.repositories import SqlStore
from tests.conftest import T0, Chat

MARKER = "PROJECT-NIGHTJAR-7731"  # a privileged subject: must never be stored, logged or shown
YESTERDAY = T0 - timedelta(days=1)


def ics(*events: str) -> str:
    body = "".join(events)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Touchbase tests//EN\r\n"
        f"{body}END:VCALENDAR\r\n"
    )


def vevent(
    uid: str,
    start: datetime,
    *attendees: str,
    summary: str = MARKER,
    organizer: str = "jane@firm.example",
    status: str = "CONFIRMED",
    extra: str = "",
) -> str:
    people = "".join(f"ATTENDEE;CN={a.split('@')[0]}:mailto:{a}\r\n" for a in attendees)
    return (
        "BEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261101T000000Z\r\n"
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}\r\n"
        f"SUMMARY:{summary}\r\nDESCRIPTION:Agenda for {summary}\r\n"
        f"ORGANIZER:mailto:{organizer}\r\n{people}STATUS:{status}\r\n{extra}"
        "END:VEVENT\r\n"
    )


async def setup(chat: Chat, store: SqlStore) -> tuple[int, Person, int]:
    """Jane (jane@firm.example) owns Globex, whose key person is Dana Whitfield."""
    await chat.say("/client add Globex")
    ws = (await store.workspaces())[0].id
    async with store.unit(ws) as uow:
        jane = await uow.people.by_platform_id("jane")
        assert jane is not None
        jane = await uow.people.update(jane.id, email="jane@firm.example")
        globex = await uow.clients.by_name("Globex")
        assert globex is not None
        await uow.contacts.add(globex.id, "Dana Whitfield", email="Dana@Globex.example")
        await uow.commit()
    return ws, jane, globex.id


async def feed(
    store: SqlStore, ws: int, person: Person, data: str, now: datetime, *, subjects: bool = False
) -> None:
    start, end = now - timedelta(days=7), now + timedelta(days=1)
    events = events_from_ics(data, person.id, person.email, start, end, subjects=subjects)
    async with store.unit(ws) as uow:
        await ingest(uow, person, events, now, subjects=subjects, snapshot=("ics", start, end))
        await uow.commit()


async def dump(store: SqlStore) -> str:
    """Every value in every table, as text."""
    out = []
    async with store.sessions() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).all():
                out.append(repr(tuple(row)))
    return "\n".join(out)


async def test_client_domains_are_set_shown_and_guarded(chat: Chat, store: SqlStore) -> None:
    await setup(chat, store)
    out = await chat.say("/client Globex domain globex.com, @Globex.co.uk")
    assert "Saved globex.com, globex.co.uk for Globex" in out
    card = await chat.say("/client Globex")
    assert "Domains" in card and "globex.com" in card and "globex.example" in card  # learned
    assert "public mail service" in await chat.say("/client Globex domain gmail.com")
    assert "firm's own domain" in await chat.say("/client Globex domain firm.example")
    assert "isn't a mail domain" in await chat.say("/client Globex domain not_a_domain")
    await chat.say("/client add Initech")
    assert "already means Globex" in await chat.say("/client Initech domain globex.com")
    out = await chat.say("/client Globex domain remove globex.co.uk")
    assert "Removed globex.co.uk" in out and "globex.com" in out


async def test_meeting_with_a_key_person_is_suggested_and_logged(
    chat: Chat, store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ws, jane, globex = await setup(chat, store)
    data = ics(
        vevent("m1", YESTERDAY.replace(hour=10), "dana@globex.example", "bob@firm.example"),
        vevent("internal", YESTERDAY.replace(hour=12), "bob@firm.example"),
        vevent("unknown", YESTERDAY.replace(hour=13), "someone@unknown.example"),
        vevent("public", YESTERDAY.replace(hour=14), "friend@gmail.com"),
    )
    await feed(store, ws, jane, data, T0)
    out = await chat.say("/due")
    assert "Yesterday: meeting with Dana Whitfield (Globex)" in out
    assert out.count("Yesterday: meeting") == 1  # internal, unknown and public ignored
    labels = next(line for line in out.splitlines() if "] Log it" in line)
    assert (
        labels.index("Log it") < labels.index("Not client work") < labels.index("Always log Globex")
    )
    number = labels.split("] Log it")[0].rsplit("[", 1)[1]
    logged = await chat.say(number)
    assert "Logged meeting with Dana Whitfield at Globex, yesterday" in logged
    assert "Yesterday: meeting" not in await chat.say("/due")
    card = await chat.say("/client Globex")
    assert "Last touch" in card and "yesterday" in card
    # A second run adds nothing, and leaves the logged touch alone.
    await feed(store, ws, jane, data, T0)
    async with store.unit(ws) as uow:
        touches = await uow.touches.for_client(globex)
        assert len(touches) == 1 and touches[0].note == ""
        assert len(await uow.capture.pending(None)) == 0
    everything = await dump(store)
    assert MARKER not in everything and "Agenda" not in everything
    assert MARKER not in caplog.text
    assert MARKER not in out + logged + card


async def test_second_run_adds_nothing_and_moves_and_cancellations_update(
    chat: Chat, store: SqlStore
) -> None:
    ws, jane, _ = await setup(chat, store)
    first = ics(vevent("m1", YESTERDAY.replace(hour=10), "dana@globex.example"))
    await feed(store, ws, jane, first, T0)
    await feed(store, ws, jane, first, T0)
    async with store.unit(ws) as uow:
        (only,) = await uow.capture.pending(None)
    moved = ics(vevent("m1", (T0 - timedelta(days=3)).replace(hour=9), "dana@globex.example"))
    await feed(store, ws, jane, moved, T0)
    async with store.unit(ws) as uow:
        (again,) = await uow.capture.pending(None)
        assert again.id == only.id and again.occurred_at.day == 20
    assert "Friday 20 November: meeting with Dana Whitfield" in await chat.say("/due")
    cancelled = ics(
        vevent("m1", (T0 - timedelta(days=3)).replace(hour=9), "dana@globex.example",
               status="CANCELLED")
    )  # fmt: skip
    await feed(store, ws, jane, cancelled, T0)
    assert "meeting with Dana" not in await chat.say("/due")
    # Reinstated, then dropped from the feed altogether (Outlook removes cancelled meetings).
    await feed(store, ws, jane, moved, T0)
    assert "meeting with Dana" in await chat.say("/due")
    await feed(store, ws, jane, ics(), T0)
    assert "meeting with Dana" not in await chat.say("/due")


async def test_modes_auto_off_and_always_log(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    ws, jane, globex = await setup(chat, store)
    assert "Capture is suggest" in await chat.say("/touchbase capture")
    assert "Capture is now off" in await chat.say("/touchbase capture off")
    await feed(store, ws, jane, ics(vevent("a", YESTERDAY, "dana@globex.example")), T0)
    async with store.unit(ws) as uow:
        assert await uow.capture.by_source("ics", "a") is None
    assert "Capture is now auto" in await chat.say("/touchbase capture auto")
    video = "X-MICROSOFT-SKYPETEAMSMEETINGURL:https://teams.microsoft.com/l/meetup-join/19%3a1\r\n"
    await feed(store, ws, jane, ics(vevent("b", YESTERDAY, "x@globex.example", extra=video)), T0)
    async with store.unit(ws) as uow:
        (touch,) = await uow.touches.for_client(globex)
        assert touch.kind.value == "video call" and touch.occurred_on == YESTERDAY.date()
    # A meeting tomorrow is kept until it has happened, then logged.
    tomorrow = T0 + timedelta(hours=20)
    await chat.say("/touchbase capture suggest")
    b = vevent("b", YESTERDAY, "x@globex.example", extra=video)
    await feed(store, ws, jane, ics(b, vevent("c", tomorrow, "dana@globex.example")), T0)
    assert "meeting with Dana" not in await chat.say("/due")
    out = await chat.say("/due")
    assert "Always log Globex" not in out
    later = T0 + timedelta(days=1)
    await feed(store, ws, jane, ics(b, vevent("c", tomorrow, "dana@globex.example")), later)
    clock.advance(timedelta(days=1, hours=1))
    out = await chat.say("/due")
    assert "Today: meeting with Dana Whitfield (Globex)" in out
    number = next(ln for ln in out.splitlines() if "Always log" in ln)
    number = number.split("] Always log")[0].rsplit("[", 1)[1]
    assert "From now on I log your meetings with Globex" in await chat.say(number)
    async with store.unit(ws) as uow:
        assert len(await uow.touches.for_client(globex)) == 2


async def test_subjects_are_kept_only_when_the_firm_allows(chat: Chat, store: SqlStore) -> None:
    ws, jane, _ = await setup(chat, store)
    await feed(store, ws, jane, ics(vevent("s", YESTERDAY, "dana@globex.example")), T0)
    assert MARKER not in await dump(store)
    await feed(
        store, ws, jane, ics(vevent("t", YESTERDAY, "dana@globex.example")), T0, subjects=True
    )
    assert MARKER in await dump(store)


async def test_unanswered_email_becomes_a_follow_up_and_a_reply_clears_it(
    chat: Chat, store: SqlStore
) -> None:
    ws, jane, _ = await setup(chat, store)
    sent = CapturedEvent(
        "graph", "mail-1", jane.id, T0 - timedelta(days=7), EventKind.EMAIL, Direction.SENT,
        ("dana@globex.example",), subject=MARKER,
    )  # fmt: skip
    async with store.unit(ws) as uow:
        await ingest(uow, jane, [sent], T0)
        await uow.commit()
    out = await chat.say("/due")
    assert "Globex: no reply to your e-mail to Dana Whitfield for 5 business days" in out
    assert "Log it" not in out  # an e-mail is no meeting suggestion
    reply = CapturedEvent(
        "graph", "mail-2", jane.id, T0 - timedelta(days=1), EventKind.EMAIL, Direction.RECEIVED,
        ("dana@globex.example",),
    )  # fmt: skip
    async with store.unit(ws) as uow:
        await ingest(uow, jane, [reply], T0)
        await uow.commit()
    assert "no reply to your e-mail" not in await chat.say("/due")
    assert MARKER not in await dump(store)


def test_match_prefers_an_address_then_a_domain() -> None:
    from bot.capture import Directory
    from bot.domain import Contact

    dana = Contact(1, 1, 10, "Dana", email="dana@globex.example")
    vic = Contact(2, 1, 20, "Vic", email="vic@initech.example")
    d = Directory.build([dana, vic], {"globex.com": 10, "gmail.com": 20}, [])
    assert match(["DANA@globex.example"], d) == match(["dana@globex.example"], d)
    assert match(["x@globex.com"], d) is not None and match(["x@globex.com"], d).client_id == 10  # type: ignore[union-attr]
    assert match(["x@gmail.com"], d) is None
    assert match(["dana@globex.example", "vic@initech.example"], d) is None  # two clients


async def test_every_source_is_off_until_configured(
    store: SqlStore, clock: FixedClock, chat: Chat
) -> None:
    from bot.capture import run_capture

    await setup(chat, store)
    app = Touchbase(store, clock, CoreConfig(), default_registry())
    report = await run_capture(app.store, clock, app.config, [])
    assert report.workspaces == 0 and report.ingested.added == 0
    _ = UTC


async def test_dashboard_shows_the_share_of_touches_from_capture(
    chat: Chat, store: SqlStore
) -> None:
    from bot.dashboard import firm_dashboard
    from store.reports import SqlReports

    ws, jane, _ = await setup(chat, store)
    await chat.say("/touchbase capture auto")
    await feed(store, ws, jane, ics(vevent("m", YESTERDAY, "dana@globex.example")), T0)
    await chat.say("/touch Globex call with Dana")
    d = await firm_dashboard(SqlReports(store.sessions, ws), T0.date(), CoreConfig())
    assert (d.captured_touches, d.typed_touches) == (1, 1) and d.captured_share == 0.5
