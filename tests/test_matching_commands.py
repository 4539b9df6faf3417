"""/match, its Accept button and /touchbase me, through the console chat on a seeded firm."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from bot.clock import FixedClock
from bot.domain import Role
from store.repositories import SqlStore
from tests.conftest import Chat
from tests.nudge_fixtures import add_client, add_touch, workspace

LONG_AGO = datetime(2026, 1, 5, tzinfo=UTC)


async def _role(store: SqlStore, user: str, role: Role) -> int:
    ws = await workspace(store)
    async with store.unit(ws) as uow:
        p = await uow.people.by_platform_id(user)
        assert p is not None
        await uow.people.update(p.id, role=role)
        await uow.commit()
    return p.id


async def _seed(chat: Chat, store: SqlStore) -> dict[str, int]:
    """jane (admin) owns Acme Corp with three key people; bob, carol, dan and eve tell us about
    themselves; roles are set as an admin would."""
    await chat.say("/client add Acme Corp")
    await chat.say("/client Acme Corp people add Dana Scully, CFO, decision maker, loves sailing")
    await chat.say("/client Acme Corp people add Fox Mulder, VP Finance, influencer, golf nut")
    await chat.say("/client Acme Corp people add Sam Lee, Financial analyst, user, marathons")
    ids = {"jane": 1}
    for user, role, lines in (
        ("bob", Role.PRINCIPAL, ("/touchbase me seniority partner", "/touchbase me interests sailing, chess")),
        ("carol", Role.SENIOR, ("/touchbase me seniority director", "/touchbase me interests golf")),
        ("dan", Role.STAFF, ("/touchbase me interests marathons",)),
        ("eve", Role.STAFF, ("/touchbase me practice audit",)),
    ):  # fmt: skip
        other = chat.as_user(user)
        for line in lines:
            await other.say(line)
        ids[user] = await _role(store, user, role)
    await _role(store, "jane", Role.STAFF)  # jane: staff, so she is no peer for a CFO
    return ids


async def test_match_explains_and_respects_load(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    ids = await _seed(chat, store)
    ws = await workspace(store)
    async with store.unit(ws) as uow:  # dan owns six clients: the most for staff
        dan = await uow.people.get(ids["dan"])
    for n in range(6):
        await add_client(store, clock, ws, f"Dan client {n}", dan, added=LONG_AGO)
    out = await chat.say("/match Acme")
    assert "3 key people at Acme Corp; 3 suggestions to accept." in out
    assert (
        "bob (partner) for Dana Scully (CFO, decision maker): peers in seniority, "
        "both into sailing" in out
    )
    assert "carol (director) for Fox Mulder (VP Finance, influencer): peers in seniority" in out
    # dan shares marathons with Sam but is at his load target; eve is a peer with room.
    assert "eve (staff) for Sam Lee (Financial analyst, user): peers in seniority" in out
    assert "dan (" not in out
    assert "Holds 0 relationships, up to 12 for a principal" in out


async def test_accept_makes_the_holder_and_records_it(
    chat: Chat, store: SqlStore, outbox: io.StringIO
) -> None:
    ids = await _seed(chat, store)
    out = await chat.say("/match Acme Corp")
    assert "[1] Accept bob" in out
    out = await chat.say("1")
    assert (
        "bob now holds the relationship with Dana Scully (CFO, decision maker) at Acme Corp" in out
    )
    assert "--- message for bob ---" in outbox.getvalue()
    assert "asked you to be Acme Corp's person for Dana Scully" in outbox.getvalue()
    ws = await workspace(store)
    async with store.unit(ws) as uow:
        dana = (await uow.contacts.for_client(1))[0]
        assert dana.holder_id == ids["bob"]
        events = await uow.history.events(1)
    assert any(e.kind == "key_person_holder" and "accepted by jane" in e.summary for e in events)
    out = await chat.say("/match Acme Corp")
    assert "already holds the relationship" in out and "nothing to change" in out
    assert "Accept bob" not in out


async def test_accept_needs_owner_principal_or_the_colleague(chat: Chat, store: SqlStore) -> None:
    await _seed(chat, store)
    dan = chat.as_user("dan")
    out = await dan.say("/match Acme Corp")
    out = await dan.say("1")  # Accept bob, pressed by dan (staff, not the owner)
    assert "Only Acme Corp's owner, a principal, or bob can accept this." in out


async def test_single_threaded_flag_matches_hand_count(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    """Hand count: Acme Corp touched by jane and bob; Globex only by jane; Initech by nobody;
    Hooli by bob once 200 days ago (outside the 180-day window) and by carol lately."""
    ids = await _seed(chat, store)
    ws = await workspace(store)
    async with store.unit(ws) as uow:
        people = {p.platform_user_id: p for p in await uow.people.list()}
    globex = await add_client(store, clock, ws, "Globex", people["jane"], added=LONG_AGO)
    await add_client(store, clock, ws, "Initech", people["jane"], added=LONG_AGO)
    hooli = await add_client(store, clock, ws, "Hooli", people["bob"], added=LONG_AGO)
    await add_touch(store, ws, 1, people["jane"], date(2026, 11, 2))
    await add_touch(store, ws, 1, people["bob"], date(2026, 10, 2))
    await add_touch(store, ws, globex, people["jane"], date(2026, 11, 16))
    await add_touch(store, ws, globex, people["jane"], date(2026, 9, 16))
    await add_touch(store, ws, hooli, people["bob"], date(2026, 5, 7))
    await add_touch(store, ws, hooli, people["carol"], date(2026, 11, 9))
    out = await chat.say("/match")
    assert "2 clients rest on one colleague alone." in out
    assert "Globex: only jane, its owner" in out
    assert "Hooli: only carol (its owner, bob, is not in touch)" in out
    assert "Acme Corp" not in out and "Initech" not in out
    out = await chat.say("/match Globex")
    assert "Globex rests on jane, its owner, alone" in out
    assert "No key people recorded for Globex" in out
    assert "single-threaded" not in (await chat.say("/match Acme Corp")).casefold()
    assert ids["bob"] != ids["carol"]


async def test_touchbase_me(chat: Chat, store: SqlStore) -> None:
    out = await chat.say("/touchbase me")
    assert "Seniority: not given (matching uses your role, admin)" in out
    out = await chat.say("/touchbase me seniority partner")
    assert "Saved your seniority: partner." in out and "Seniority: partner" in out
    out = await chat.say("/touchbase me practice areas tax, M&A; Tax")
    assert "Saved your practice areas: tax, M&A." in out
    out = await chat.say("/touchbase me interests golf, sailing")
    assert "Interests: golf, sailing" in out
    out = await chat.say("/touchbase me seniority grand poobah")
    assert 'can\'t place "grand poobah"' in out
    out = await chat.say("/touchbase me role")
    assert "Your role is admin" in out
    out = await chat.say("/touchbase me shoe size 9")
    assert 'I can\'t set "shoe" on your profile.' in out
    # The form: seniority, practice areas, interests.
    await chat.say("/touchbase me")
    out = await chat.say("1", "director", "", "chess")
    assert "Saved your profile." in out
    assert "Seniority: director" in out and "Practice areas: tax, M&A" in out
    assert "Interests: chess" in out
    ws = await workspace(store)
    async with store.unit(ws) as uow:
        assert await uow.matching.seniorities() == {1: "director"}


async def test_match_spreads_a_client_resting_on_one_colleague(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    """Acme Corp is handed from jane to bob; only jane has been in touch (three times). The card
    says so, names bob as its owner, and suggests colleagues other than jane."""
    ids = await _seed(chat, store)
    assert "is now bob's client" in await chat.say("/owner Acme Corp bob")
    ws = await workspace(store)
    async with store.unit(ws) as uow:
        jane = await uow.people.get(ids["jane"])
    assert jane is not None
    for day in (date(2026, 3, 2), date(2026, 6, 2), date(2026, 9, 2)):
        await add_touch(store, ws, 1, jane, day)
    out = await chat.say("/match Acme Corp")
    assert (
        "Acme Corp rests on jane alone: nobody else has been in touch in the last 180 days or "
        "holds one of its key people, not even its owner, bob." in out
    )
    assert "jane (" not in out  # suggestions go to others
    assert (
        "bob (partner) for Dana Scully (CFO, decision maker): peers in seniority, both into "
        "sailing, owns Acme Corp" in out
    )
