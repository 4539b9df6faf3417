"""/matter and /update through the console chat, and matters in the lead's morning digest."""

from __future__ import annotations

from datetime import date, timedelta

from bot.clock import FixedClock
from bot.config import CoreConfig
from bot.digest import build_digests
from bot.domain import Person, TouchKind
from bot.messages import Message
from store.repositories import SqlStore
from tests.conftest import Chat
from tests.nudge_fixtures import workspace


async def _people(store: SqlStore, *users: str) -> list[Person]:
    ws = await workspace(store)
    async with store.unit(ws) as uow:
        found = [await uow.people.by_platform_id(u) for u in users]
    assert all(found)
    return [p for p in found if p is not None]


def _text(message: Message | None) -> str:
    if message is None:
        return ""
    parts = [message.text] + [s.text + " " + (s.context or "") for s in message.sections]
    return "\n".join(parts)


async def _digest(store: SqlStore, clock: FixedClock, config: CoreConfig, who: Person) -> str:
    ws = await workspace(store)
    built = await build_digests(store, ws, [who], clock.now(), config)
    return _text(built[who.id])


async def test_weekly_matter_in_digest_until_updated(
    chat: Chat, store: SqlStore, clock: FixedClock, config: CoreConfig
) -> None:
    await chat.say("/client add Acme Corp, Acme")
    out = await chat.say("/matter Acme Q3 audit expected Dec 12")
    assert "Opened Q3 audit for Acme Corp, you lead it" in out
    assert "first status update is due Mon 30 Nov, then every week" in out
    (jane,) = await _people(store, "jane")

    assert "status update" not in await _digest(store, clock, config, jane)
    clock.advance(timedelta(days=8))  # Tuesday 1 December: a week and a day, no update
    digest = await _digest(store, clock, config, jane)
    assert "Send Acme Corp a status update, with your estimate" in digest
    assert "Q3 audit: no update yet, 8 days since it was opened" in digest

    out = await chat.say("/update Acme draft with the partner for review, estimate Dec 12")
    assert "Recorded a status update to Acme Corp on Q3 audit, estimate 12 Dec." in out
    assert "next one is due Tuesday (in 7 days)" in out or "next one is due Tue 8 Dec" in out
    assert "status update" not in await _digest(store, clock, config, jane)

    ws = await workspace(store)
    async with store.unit(ws) as uow:
        (touch,) = await uow.touches.for_client(1)
    assert touch.kind is TouchKind.STATUS_UPDATE and touch.matter_id == 1
    assert touch.estimate_on == date(2026, 12, 12)
    assert touch.note == "draft with the partner for review"


async def test_slipping_estimate_shows_on_the_matter(chat: Chat, clock: FixedClock) -> None:
    await chat.say("/client add Acme Corp")
    await chat.say("/matter Acme Corp Q3 audit expected Dec 12")
    await chat.say("/update Acme Corp fieldwork done, estimate Dec 12")
    clock.advance(timedelta(days=7))
    out = await chat.say("/update Q3 audit their ledgers came late, estimate Jan 9")
    assert "Estimate slipped from 12 Dec to 9 Jan." in out
    assert "Tell them what changed" in out
    out = await chat.say("/client Acme Corp")
    assert "Matters:" in out
    assert "Q3 audit: update due" in out and "(estimate slipped from 12 Dec to 9 Jan)" in out
    out = await chat.say("/matter Acme Corp")
    assert "estimate 9 Jan (estimate slipped from 12 Dec to 9 Jan)" in out


async def test_lead_rhythm_and_the_lead_is_told(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme Corp")
    await chat.as_user("dana").say("/touchbase help")  # dana has used Touchbase
    out = await chat.say("/matter Acme Corp tax return lead @dana every 2 weeks")
    assert "Opened tax return for Acme Corp, led by dana" in out
    assert "then every 2 weeks" in out
    assert "Updates: every 2 weeks (this matter's own)" in out
    assert "--- message for dana ---" not in out  # sent after the reply, to the messenger


async def test_client_rhythm_preference_applies(
    chat: Chat, store: SqlStore, clock: FixedClock, config: CoreConfig
) -> None:
    await chat.say("/client add Acme Corp")
    ws = await workspace(store)
    async with store.unit(ws) as uow:
        await uow.clients.update(1, update_rhythm_days=3)
        await uow.commit()
    out = await chat.say("/matter Acme Corp filing")
    assert "due Thursday (in 3 days), then every 3 days" in out
    (jane,) = await _people(store, "jane")
    clock.advance(timedelta(days=3))
    assert "Send Acme Corp a status update" in await _digest(store, clock, config, jane)


async def test_update_asks_which_matter_then_records(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme Corp")
    await chat.say("/matter Acme Corp Q3 audit")
    await chat.say("/matter Acme Corp tax return")
    out = await chat.say("/update Acme Corp all on track, estimate Dec 18")
    assert "Acme Corp has 2 open matters. Which one" in out
    assert "[1] Q3 audit" in out and "[2] tax return" in out
    out = await chat.say("2")
    assert "Recorded a status update to Acme Corp on tax return, estimate 18 Dec." in out
    # The title at the start picks the matter without asking.
    out = await chat.say("/update Acme Corp Q3 audit sent the draft")
    assert "on Q3 audit." in out and "No estimate this time" in out


async def test_update_without_a_matter_counts_for_the_client(chat: Chat) -> None:
    await chat.say("/client add Globex")
    out = await chat.say("/update Globex sent our quarterly summary")
    assert "Recorded a status update to Globex" in out
    assert "no open matter, so it counts for the client as a whole" in out


async def test_close_starts_client_care(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme Corp")
    await chat.say("/matter Acme Corp Q3 audit")
    out = await chat.say("/matter Q3 audit close")
    assert "Closed Q3 audit for Acme Corp. Closed out Acme Corp." in out
    # 14 and 90 days on, each moved to the owner's next workday: Sun 21 Feb is Mon 22 Feb.
    assert "will check in on" in out and "7 Dec" in out and "22 Feb" in out
    out = await chat.say("/matter")
    assert "You don't lead any open matters." in out
    out = await chat.say("/client Acme Corp")
    assert "closed the matter Q3 audit" in out
    assert "Closed out: the matter Q3 audit" in out
    # A second closeout the same day does not plan the check-ins twice.
    await chat.say("/matter Acme Corp tax return")
    out = await chat.say("/matter close Acme Corp")
    assert "Closed tax return for Acme Corp." in out and "already closed out" in out
    ws = await workspace(store)
    async with store.unit(ws) as uow:
        assert len(await uow.ownership.open_checkins(1)) == 2
        assert await uow.matters.list(client_ids=[1]) == []


async def test_only_lead_owner_or_principal_closes(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme Corp")  # jane: admin and owner
    await chat.say("/matter Acme Corp Q3 audit")
    bob = chat.as_user("bob")
    out = await bob.say("/matter Q3 audit close")
    assert "Only the matter's lead" in out


async def test_problems_say_what_to_type(chat: Chat) -> None:
    await chat.say("/client add Acme Corp")
    assert "I don't know a client" in await chat.say("/matter Nowhere Inc audit")
    out = await chat.say("/matter Acme Corp audit expected someday")
    assert 'after "expected"' in out
    out = await chat.say("/matter Acme Corp audit lead @nobody")
    assert "I don't know who @nobody is" in out
    out = await chat.say("/update Acme Corp done, estimate whenever")
    assert 'after "estimate"' in out
    out = await chat.say("/matter Acme Corp")
    assert "Acme Corp has no open matters." in out


async def test_matter_card_and_update_form(chat: Chat) -> None:
    await chat.say("/client add Acme Corp")
    await chat.say("/matter Acme Corp Q3 audit expected Dec 12")
    out = await chat.say("/matter")
    assert "You lead 1 open matter" in out
    out = await chat.say("1")  # Open the matter
    assert "== Acme Corp: Q3 audit ==" in out and "[1] Record an update" in out
    out = await chat.say("1", "called the CFO with progress", "2026-12-19")
    assert "estimate 19 Dec" in out and "Estimate slipped from 12 Dec to 19 Dec" in out


async def test_stale_or_odd_button_values_get_kind_answers(chat: Chat) -> None:
    from bot.inbound import ActionIn, FormIn

    app = chat.console.app
    who = chat.console.identity()
    for action_id, value in (
        ("matter_open", "99"),
        ("matter_open", "²"),
        ("matter_close", "99999999999999999999"),
        ("matter_update_for", '{"m": "x", "t": "hi"}'),
        ("matter_update_open", "-1"),
        ("match_open", "0"),
        ("match_accept", '{"c": 1e30, "p": true}'),
    ):
        reply = await app.action(who, ActionIn(action_id, value))
        assert isinstance(reply, Message) and "Something went wrong" not in reply.text
    reply = await app.submit(who, FormIn("matter_update", {"note": "x"}, "12345678901234567890"))
    assert isinstance(reply, Message) and "no longer there" in reply.text


async def test_a_title_open_at_two_clients_asks_which(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme Corp")
    await chat.say("/client add Globex")
    await chat.say("/matter Acme Corp Q3 audit")
    await chat.say("/matter Globex Q3 audit")
    out = await chat.say("/matter Q3 audit close")
    assert '"Q3 audit" is open at 2 clients. Which one is done?' in out
    assert "[1] Close Q3 audit at Acme Corp" in out and "[2] Close Q3 audit at Globex" in out
    out = await chat.say("2")
    assert "Closed Q3 audit for Globex." in out
    ws = await workspace(store)
    async with store.unit(ws) as uow:
        still_open = await uow.matters.list(open_only=True)
    assert [(m.client_id, m.title) for m in still_open] == [(1, "Q3 audit")]
    # With one left, the title alone is enough again.
    assert "Closed Q3 audit for Acme Corp." in await chat.say("/matter Q3 audit close")


async def test_update_for_a_shared_title_asks_which_client(chat: Chat) -> None:
    await chat.say("/client add Acme Corp")
    await chat.say("/client add Globex")
    await chat.say("/matter Acme Corp Q3 audit")
    await chat.say("/matter Globex Q3 audit")
    out = await chat.say("/update Q3 audit draft filed, estimate Dec 18")
    assert "open at 2 clients" in out
    assert "[1] Q3 audit at Acme Corp" in out and "[2] Q3 audit at Globex" in out
    out = await chat.say("1")
    assert "Recorded a status update to Acme Corp on Q3 audit, estimate 18 Dec." in out


async def test_matter_card_lists_what_each_update_said(chat: Chat, clock: FixedClock) -> None:
    await chat.say("/client add Acme Corp")
    await chat.say("/matter Acme Corp Q3 audit")
    await chat.say("/update Acme Corp Q3 audit sent the draft to the CFO, estimate Dec 18")
    clock.advance(timedelta(days=2))
    await chat.say("/update Acme Corp Q3 audit regulator asked for the ledgers")
    out = await chat.say("/matter")
    out = await chat.say("1")  # Open the matter
    updates = out.split("Status updates:")[1]
    assert "today: regulator asked for the ledgers" in updates
    assert "Monday (2 days ago), estimate 18 Dec: sent the draft to the CFO" in updates
