"""The handoff checklist and its nudges, and the client-care check-ins after a closeout."""

from __future__ import annotations

import io
from datetime import timedelta

from bot.app import Touchbase
from bot.clock import FixedClock
from bot.config import CoreConfig
from bot.domain import Platform
from bot.nudges import Nudge
from bot.ownership import CareCheckinSource, HandoffSource
from bot.sources import all_nudges, nudge_sources
from store.repositories import SqlStore

from .conftest import Chat


async def _firm(chat: Chat) -> dict[str, Chat]:
    people = {name: chat.as_user(name) for name in ("ada", "bob", "jane")}
    for person in people.values():
        await person.say("/clients")
    await people["bob"].say("/client add Acme Corp")
    return people


async def _nudges(store: SqlStore, clock: FixedClock, kind: str) -> dict[str, list[Nudge]]:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        names = {p.id: p.display_name for p in await uow.people.list()}
        found = await all_nudges(uow, None, clock.now(), CoreConfig())
    return {
        names[pid]: [n for n in items if n.kind == kind]
        for pid, items in found.items()
        if any(n.kind == kind for n in items)
    }


def test_sources_are_registered() -> None:
    kinds = {type(s) for s in nudge_sources()}
    assert HandoffSource in kinds and CareCheckinSource in kinds


async def test_handoff_nudges_stop_when_the_new_owner_logs_a_touch(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    people = await _firm(chat)
    await people["bob"].say("/owner Acme @jane")
    nudges = await _nudges(store, clock, "handoff")
    assert [n.title for n in nudges["jane"]] == [
        "Acme Corp: you are their person now. Go through bob's notes on them"
    ]
    assert [n.title for n in nudges["bob"]] == ["Acme Corp: introduce jane in person"]
    assert "joint call or lunch" in nudges["bob"][0].detail
    card = await people["ada"].say("/client Acme")
    assert "Handoff from bob to jane" in card and "☐ bob introduces jane" in card

    clock.advance(timedelta(days=2))
    await people["bob"].say("/touch Acme call with Dana")  # the old owner's touch is not it
    assert set(await _nudges(store, clock, "handoff")) == {"jane", "bob"}

    out = await people["jane"].say("/touch Acme lunch with Dana and bob")
    assert "Logged lunch" in out
    assert await _nudges(store, clock, "handoff") == {}
    card = await people["ada"].say("/client Acme")
    assert "Handoff from" not in card
    assert "Handoff settled: jane has been in touch" in card


async def test_a_touch_dated_before_the_handoff_does_not_count(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    people = await _firm(chat)
    await people["bob"].say("/owner Acme @jane")
    await people["jane"].say("/touch Acme call with Dana last week")
    assert set(await _nudges(store, clock, "handoff")) == {"jane", "bob"}


async def test_a_touch_logged_before_the_handoff_the_same_day_does_not_settle_it(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    people = await _firm(chat)
    await people["jane"].say("/touch Acme call with Dana")  # jane calls bob's client...
    clock.advance(timedelta(hours=1))
    await people["bob"].say("/owner Acme @jane")  # ...and is handed it an hour later
    assert set(await _nudges(store, clock, "handoff")) == {"jane", "bob"}
    card = await people["ada"].say("/client Acme")
    assert "Handoff from bob to jane" in card

    clock.advance(timedelta(hours=1))  # her first touch as its owner, the same day, settles it
    await people["jane"].say("/touch Acme call with Dana")
    assert await _nudges(store, clock, "handoff") == {}


async def test_each_owners_nudge_names_their_next_open_step(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    people = await _firm(chat)
    await people["bob"].say("/owner Acme @jane")
    await people["bob"].say("1")  # Introduced in person
    nudges = await _nudges(store, clock, "handoff")
    assert [n.title for n in nudges["bob"]] == [
        "Acme Corp: share your notes and Acme Corp's preferences with jane"
    ]
    assert [n.title for n in nudges["jane"]] == [
        "Acme Corp: you are their person now. Go through bob's notes on them"
    ]
    assert "introduces" not in nudges["bob"][0].detail

    await people["bob"].say("1")  # Notes shared: jane's part is done, bar getting in touch
    nudges = await _nudges(store, clock, "handoff")
    assert [n.title for n in nudges["bob"]] == [
        "Acme Corp: tell Acme Corp's key people that jane is their person now"
    ]
    assert [n.title for n in nudges["jane"]] == [
        "Acme Corp: you are their person now. Get in touch with them"
    ]


def test_handoff_nudges_follow_whose_steps_are_open() -> None:
    from datetime import UTC, date, datetime

    from bot.ownership import handoff_nudges
    from bot.ownership_ports import INTRO, NOTES, Handoff

    names = {1: "bob", 2: "jane"}
    start = datetime(2026, 11, 23, 15, tzinfo=UTC)
    h = Handoff(1, 7, 1, 2, start, steps_done=(INTRO,))
    titles = {n.person_id: n.title for n in handoff_nudges(h, "Globex", names, date(2026, 11, 24))}
    assert titles[1] == "Globex: share your notes and Globex's preferences with jane"
    h = Handoff(1, 7, 1, 2, start, steps_done=(NOTES,))
    titles = {n.person_id: n.title for n in handoff_nudges(h, "Globex", names, date(2026, 11, 24))}
    assert titles == {
        1: "Globex: introduce jane in person",
        2: "Globex: you are their person now. Get in touch with them",
    }


async def test_checklist_buttons_finish_the_handoff(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    people = await _firm(chat)
    out = await people["bob"].say("/owner Acme @jane")
    assert "[1] Introduced in person  [2] Notes shared  [3] Key people told" in out
    out = await people["bob"].say("1")
    assert "✓ bob introduces jane to Acme Corp in person" in out
    assert "☐ bob shares notes and Acme Corp's preferences with jane" in out
    nudges = await _nudges(store, clock, "handoff")
    assert "Introduced in person" not in [a.label for a in nudges["jane"][0].actions]
    out = await people["bob"].say("1")  # now "Notes shared"
    assert "✓ bob shares notes" in out
    out = await people["bob"].say("1")  # "Key people told"
    assert "Handoff of Acme Corp complete" in out
    assert await _nudges(store, clock, "handoff") == {}


async def test_only_the_owners_tick_off_a_handoff(chat: Chat, store: SqlStore) -> None:
    people = await _firm(chat)
    await people["bob"].say("/owner Acme @jane")
    carol = chat.as_user("carol")
    await carol.say("/clients")
    await carol.say("/client Acme")  # staff see the card, without the buttons
    assert "Introduced in person" not in await carol.say("/client Acme")


async def test_closeout_check_ins_appear_at_14_then_90_days(
    chat: Chat, store: SqlStore, clock: FixedClock, outbox: io.StringIO
) -> None:
    people = await _firm(chat)
    out = await people["ada"].say("/client Acme closeout Q3 audit delivered")
    # 90 days on is Sunday 21 Feb 2027: the check-in moves to the Monday. Dates read as on the
    # client card.
    assert "Closed out Acme Corp. bob will check in on Mon 7 Dec and on 22 Feb 2027." in out
    assert "nothing to sell" in out
    assert "I'll remind you to check in on Mon 7 Dec and on 22 Feb 2027." in outbox.getvalue()
    card = await people["bob"].say("/client Acme")
    assert "2-week check-in: Mon 7 Dec" in card and "3-month check-in: 22 Feb 2027" in card

    clock.advance(timedelta(days=13))
    assert await _nudges(store, clock, "care") == {}
    clock.advance(timedelta(days=1))
    care = await _nudges(store, clock, "care")
    assert [n.title for n in care["bob"]] == ["Acme Corp: 2-week check-in since the work ended"]
    assert "Nothing to sell" in care["bob"][0].detail
    [done] = care["bob"][0].actions
    reply = await chat.console.app.action(
        people["bob"].console.identity(), _action(done.action_id, done.value)
    )
    assert "the 2-week check-in with Acme Corp is done" in reply.text  # type: ignore[union-attr]
    assert await _nudges(store, clock, "care") == {}

    clock.advance(timedelta(days=76))  # 90 days after the closeout: a Sunday
    assert await _nudges(store, clock, "care") == {}
    clock.advance(timedelta(days=1))  # the Monday after
    care = await _nudges(store, clock, "care")
    assert [n.title for n in care["bob"]] == ["Acme Corp: 3-month check-in since the work ended"]
    await people["bob"].say("/touch Acme coffee with Dana")  # a touch after the due date
    assert await _nudges(store, clock, "care") == {}


async def test_closing_out_twice_the_same_day_plans_once(chat: Chat, store: SqlStore) -> None:
    people = await _firm(chat)
    await people["bob"].say("/client Acme closeout")
    assert "already closed out" in await people["bob"].say("/client Acme closeout")


def _action(action_id: str, value: str):  # type: ignore[no-untyped-def]
    from bot.inbound import ActionIn

    return ActionIn(action_id, value)


async def test_app_fixture_is_the_console(app: Touchbase) -> None:
    assert Platform.CONSOLE in app.messengers


def test_care_check_ins_move_off_the_owners_days_off() -> None:
    from datetime import date

    from bot.ownership import care_plan

    friday = date(2026, 11, 20)
    assert care_plan(friday, (14, 1, 2)) == [
        ("1-day", date(2026, 11, 23)),  # Saturday: the Monday after
        ("2-day", date(2026, 11, 23)),  # Sunday: the Monday after
        ("2-week", date(2026, 12, 4)),  # a Friday stays
    ]
    sun_to_thu = (6, 0, 1, 2, 3)
    assert care_plan(friday, (14,), sun_to_thu) == [("2-week", date(2026, 12, 6))]
