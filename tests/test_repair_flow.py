"""/repair through the console platform, on both engines, with the injected clock.

The whole path: step 1 (put it right) → breathing (Acme's routine nudge muted) → ice (a logged
touch completes it) → go forward (cadence halved for 90 days, then restored). Also: a restart
mid-way, refusals, cancel, pause/resume, one open repair per client, and privacy of the notes.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest

from adapters.console import ConsoleMessenger
from bot.app import Touchbase
from bot.clock import FixedClock
from bot.commands import default_registry
from bot.config import CoreConfig
from bot.digest import build_digests
from bot.domain import Platform, Role
from bot.nudges import Nudge
from bot.repair_ports import Repair, RepairAlreadyOpen, Status, Step
from bot.sources import all_adjustments, all_nudges
from store.db import create_engine
from store.repositories import SqlStore

from .conftest import Chat


async def _ws_id(store: SqlStore) -> int:
    return (await store.workspace(Platform.CONSOLE, "local")).id


async def _person_id(store: SqlStore, user: str = "jane") -> int:
    async with store.unit(await _ws_id(store)) as uow:
        person = await uow.people.by_platform_id(user)
        assert person is not None
        return person.id


async def _client_id(store: SqlStore, name: str = "Acme") -> int:
    async with store.unit(await _ws_id(store)) as uow:
        client = await uow.clients.by_name(name)
        assert client is not None
        return client.id


async def _repairs(store: SqlStore, name: str = "Acme") -> list[Repair]:
    client_id = await _client_id(store, name)
    async with store.unit(await _ws_id(store)) as uow:
        latest = await uow.repairs.latest_for(client_id)
        opened = await uow.repairs.open_for(client_id)
    return [r for r in {r.id: r for r in (latest, opened) if r is not None}.values()]


async def _repair(store: SqlStore, name: str = "Acme") -> Repair:
    async with store.unit(await _ws_id(store)) as uow:
        r = await uow.repairs.latest_for(await _client_id(store, name))
    assert r is not None
    return r


async def _nudges(
    store: SqlStore, clock: FixedClock, config: CoreConfig, user: str = "jane"
) -> list[Nudge]:
    pid = await _person_id(store, user)
    async with store.unit(await _ws_id(store)) as uow:
        found = await all_nudges(uow, [pid], clock.now(), config)
    return found.get(pid, [])


async def _overdue(store: SqlStore, clock: FixedClock, config: CoreConfig) -> Nudge | None:
    acme = await _client_id(store)
    for n in await _nudges(store, clock, config):
        if n.kind == "overdue" and n.client_id == acme:
            return n
    return None


async def _repair_nudges(store: SqlStore, clock: FixedClock, config: CoreConfig) -> list[Nudge]:
    return [n for n in await _nudges(store, clock, config) if n.kind == "repair"]


async def _events(store: SqlStore, name: str = "Acme") -> list[tuple[str, str, bool]]:
    async with store.unit(await _ws_id(store)) as uow:
        events = await uow.history.events(await _client_id(store, name), limit=50)
    return [(e.kind, e.summary, e.private) for e in reversed(events)]


def _on(clock: FixedClock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC))


async def _acme_overdue(chat: Chat, clock: FixedClock) -> None:
    """Acme, owned by jane (the workspace admin) since 50 days ago, last touched 40 days ago:
    10 days overdue."""
    now = clock.now()
    clock.set(now - timedelta(days=50))
    await chat.say("/client add Acme")
    clock.set(now)
    await chat.say("/touch Acme call with Dana 2026-10-14")


# --- the whole path ---------------------------------------------------------------------------


async def test_the_whole_path(
    chat: Chat, store: SqlStore, clock: FixedClock, config: CoreConfig
) -> None:
    await _acme_overdue(chat, clock)
    overdue = await _overdue(store, clock, config)
    assert overdue is not None and "10 days overdue" in overdue.title

    # Step 1: put it right.
    out = await chat.say("/repair Acme missed the filing deadline")
    assert "Repair started for Acme" in out and "step 1 of 4" in out
    assert "What went wrong: missed the filing deadline" in out
    r = await _repair(store)
    assert (r.step, r.status, r.reason) == (
        Step.FINISH,
        Status.ACTIVE,
        "missed the filing deadline",
    )
    (first,) = await _repair_nudges(store, clock, config)
    assert first.urgency >= 5 and "decide what must be put right" in first.title

    # The morning digest carries it.
    jane = await _person_id(store)
    async with store.unit(await _ws_id(store)) as uow:
        person = await uow.people.get(jane)
    assert person is not None
    digests = await build_digests(store, await _ws_id(store), [person], clock.now(), config)
    digest = digests[jane]
    assert digest is not None
    assert any("decide what must be put right" in s.text for s in digest.sections)

    out = await chat.say("1", "Refile the return with the corrected figures", "2026-11-25")
    assert "Noted. I'll remind you each workday" in out
    assert "To finish: Refile the return with the corrected figures" in out
    (on_time,) = await _repair_nudges(store, clock, config)
    assert "by Wed 25 Nov" in on_time.title and on_time.urgency >= 5

    _on(clock, date(2026, 11, 26))  # Thursday: a day late
    (late,) = await _repair_nudges(store, clock, config)
    assert "1 day late" in late.title and late.urgency > on_time.urgency

    # Step 2: breathing. Acme's routine "overdue" nudge is muted until Thu 3 Dec.
    out = await chat.say("/repair Acme")
    out = await chat.say("2")  # Done: it's put right
    assert "Well done: it's put right" in out and "until Thu 3 Dec" in out
    assert "Routine nudges paused until Thu 3 Dec" in out
    assert await _overdue(store, clock, config) is None
    assert await _repair_nudges(store, clock, config) == []
    card = await chat.say("/client Acme")
    assert (
        "Routine nudges paused until Thu 3 Dec while the relationship has room to breathe" in card
    )
    _on(clock, date(2026, 12, 2))
    assert await _overdue(store, clock, config) is None

    # Step 3: the breathing period is over; the routine nudge is back, with the ice step.
    _on(clock, date(2026, 12, 3))
    assert await _overdue(store, clock, config) is not None
    (ice,) = await _repair_nudges(store, clock, config)
    assert "break the ice" in ice.title
    out = await chat.say("/repair Acme")
    assert "step 3 of 4" in out
    assert "Ask what we could have done differently." in out
    assert "Am I ready to listen more than I talk?" in out
    assert "[1] I've had the conversation" in out

    # Logging the conversation as a touch completes it.
    out = await chat.say("/touch Acme call with Dana, owned our mistakes and listened")
    assert "Logged call" in out and "Repair: on to step 4, go forward" in out
    r = await _repair(store)
    assert (r.step, r.forward_until) == (Step.FORWARD, date(2027, 3, 3))
    out = await chat.say("/repair Acme")
    assert "No more apologies" in out
    assert "every 15 days instead of 30, until Wed 3 Mar" in out

    # Step 4: the cadence is halved: due again 15 days after the conversation, not 30.
    _on(clock, date(2026, 12, 17))
    assert await _overdue(store, clock, config) is None
    _on(clock, date(2026, 12, 18))
    halved = await _overdue(store, clock, config)
    assert halved is not None and "every 15 days" in halved.detail
    async with store.unit(await _ws_id(store)) as uow:
        (adj,) = await all_adjustments(uow, clock.now(), config)
    assert adj.cadence_factor == 0.5 and adj.until == date(2027, 3, 3)

    # 90 days on, it is back to normal by itself, and the repair is done.
    _on(clock, date(2027, 3, 3))
    async with store.unit(await _ws_id(store)) as uow:
        assert await all_adjustments(uow, clock.now(), config) == []
        assert await uow.repairs.open_repairs(date(2027, 3, 3)) == []
    restored = await _overdue(store, clock, config)
    assert restored is not None and "every 30 days" in restored.detail
    out = await chat.say("/repair Acme")
    assert "No repair under way for Acme" in out
    assert (await _repair(store)).status is Status.DONE

    kinds = [k for k, _, _ in await _events(store)]
    assert kinds == [
        "repair_started",
        "repair_task",
        "repair_put_right",
        "repair_ice",
        "repair_forward",
        "repair_done",
    ]
    private = {k for k, _, p in await _events(store) if p}
    assert private == {"repair_started", "repair_task"}


async def test_ive_had_the_conversation_opens_the_touch_form(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    await chat.say("/client add Acme")
    await chat.say("/repair Acme missed the filing deadline")
    await chat.say("2")  # Done: it's put right (no task set: allowed)
    _on(clock, date(2026, 11, 30))
    await chat.say("/repair Acme")
    # The button opens the log-touch form; each answer below fills one field.
    out = await chat.say("1", "", "call", "Dana", "", "", "no")
    assert "Log a touch" in out and "Repair: on to step 4, go forward" in out
    assert (await _repair(store)).step is Step.FORWARD


async def test_checklist_answers_are_private(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    await chat.say("/client add Acme")
    await chat.say("/repair Acme missed the filing deadline")
    await chat.say("2")
    _on(clock, date(2026, 11, 30))
    await chat.say("/repair Acme")
    out = await chat.say("2", "yes", "yes", "no", "yes", "They felt ignored for two weeks")
    assert "✓ Own the problems we caused" in out
    assert "☐ Ask what we could have done differently." in out
    r = await _repair(store)
    assert r.checklist["ticked"] == ["responsibility", "mistakes", "their_side"]
    assert ("repair_heard", "What they told us: They felt ignored for two weeks", True) in (
        await _events(store)
    )
    bob_card = await chat.as_user("bob").say("/client Acme")
    assert "ignored" not in bob_card


# --- a restart in the middle loses nothing ----------------------------------------------------


async def test_a_restart_mid_way_continues_exactly(
    chat: Chat, store: SqlStore, clock: FixedClock, config: CoreConfig, db_url: str
) -> None:
    await _acme_overdue(chat, clock)
    await chat.say("/repair Acme missed the filing deadline")
    await chat.say("1", "Refile the return", "2026-11-25")
    await chat.say("2")  # breathing until Mon 30 Nov
    before = await _repair(store)

    # A new process: a new engine, store, registry and app over the same database.
    engine = create_engine(db_url)
    try:
        store2 = SqlStore(engine, clock)
        app2 = Touchbase(
            store2,
            clock,
            config,
            default_registry(),
            {Platform.CONSOLE: ConsoleMessenger(io.StringIO())},
        )
        chat2 = Chat(app2)
        assert await _repair(store2) == before
        clock.advance(timedelta(days=2))
        assert await _overdue(store2, clock, config) is None  # still muted
        out = await chat2.say("/repair Acme")
        assert "step 2 of 4" in out and "until Mon 30 Nov" in out
        _on(clock, date(2026, 11, 30))
        out = await chat2.say("/repair Acme")
        assert "step 3 of 4" in out
        await chat2.say("/touch Acme lunch with Dana")
        assert (await _repair(store2)).step is Step.FORWARD
    finally:
        await engine.dispose()


# --- who may ----------------------------------------------------------------------------------


async def test_a_staff_non_owner_is_refused_and_nothing_is_created(
    chat: Chat, store: SqlStore
) -> None:
    await chat.say("/client add Acme")  # jane owns it
    bob = chat.as_user("bob")
    out = await bob.say("/repair Acme they were furious about the bill")
    assert "Only Acme's owner, a principal or an admin can start a repair" in out
    assert await _repairs(store) == []
    assert await _events(store) == []


async def test_a_staff_owner_and_a_principal_may_start(chat: Chat, store: SqlStore) -> None:
    await chat.say("/touchbase help")  # jane arrives first: the admin
    bob = chat.as_user("bob")
    await bob.say("/client add Globex")  # bob, staff, owns Globex
    out = await bob.say("/repair Globex invoice sent twice")
    assert "Repair started for Globex" in out
    await chat.say("/client add Acme")
    carol = chat.as_user("carol")
    await carol.say("/touchbase help")
    async with store.unit(await _ws_id(store)) as uow:
        await uow.people.update(await _person_id(store, "carol"), role=Role.PRINCIPAL)
        await uow.commit()
    out = await carol.say("/repair Acme escalated to their board")
    assert "Repair started for Acme" in out
    assert (await _repair(store)).owner_id == await _person_id(store, "jane")


async def test_notes_are_hidden_from_a_staff_non_owner(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme")
    await chat.say("/repair Acme missed the filing deadline")
    await chat.say("1", "Refile the return", "2026-11-25")
    bob = chat.as_user("bob")
    card = await bob.say("/client Acme")
    assert "A repair is under way." in card
    assert "filing deadline" not in card and "Refile" not in card
    assert "repair started" in card  # the history line, without its note
    status = await bob.say("/repair Acme")
    assert "A repair is under way for Acme" in status and "filing" not in status
    out = await bob.say("/repair Acme pause")
    assert "Only Acme's owner" in out
    assert (await _repair(store)).status is Status.ACTIVE
    owner_card = await chat.say("/client Acme")
    assert "What went wrong: missed the filing deadline" in owner_card


# --- cancel, pause, one at a time -------------------------------------------------------------


async def test_cancel_with_a_reason_is_recorded_privately(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme")
    await chat.say("/repair Acme missed the filing deadline")
    out = await chat.say("/repair Acme cancel they moved the work in-house")
    assert "Repair for Acme cancelled" in out
    r = await _repair(store)
    assert (r.status, r.cancel_reason) == (Status.CANCELLED, "they moved the work in-house")
    assert ("repair_cancelled", "Repair cancelled: they moved the work in-house", True) in (
        await _events(store)
    )
    assert "in-house" not in await chat.as_user("bob").say("/client Acme")
    # Closed: a new repair may start.
    out = await chat.say("/repair Acme fees dispute")
    assert "Repair started for Acme" in out


async def test_cancel_by_button_asks_why(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme")
    await chat.say("/repair Acme missed the filing deadline")
    out = await chat.say("4", "Partner is handling it personally")
    assert "Repair for Acme cancelled" in out
    assert (await _repair(store)).cancel_reason == "Partner is handling it personally"


async def test_pause_stops_nudges_and_mute_and_resume_extends_the_pause(
    chat: Chat, store: SqlStore, clock: FixedClock, config: CoreConfig
) -> None:
    await _acme_overdue(chat, clock)
    await chat.say("/repair Acme missed the filing deadline")
    assert await _repair_nudges(store, clock, config)
    await chat.say("/repair Acme")
    await chat.say("2")  # breathing until Mon 30 Nov
    assert await _overdue(store, clock, config) is None

    _on(clock, date(2026, 11, 25))
    out = await chat.say("/repair Acme pause")
    assert "Repair paused. On hold at step 2 of 4 since Wed 25 Nov" in out
    assert "routine reminders run as usual" in out
    assert (await _repair(store)).status is Status.PAUSED
    assert await _overdue(store, clock, config) is not None  # not muted while paused
    assert await _repair_nudges(store, clock, config) == []

    _on(clock, date(2026, 11, 28))
    out = await chat.say("/repair Acme resume")
    assert "Resumed" in out and "until Thu 3 Dec" in out
    r = await _repair(store)
    assert (r.status, r.breathing_until) == (Status.ACTIVE, date(2026, 12, 3))
    assert await _overdue(store, clock, config) is None
    assert [k for k, _, _ in await _events(store)][-2:] == ["repair_paused", "repair_resumed"]


async def test_breathe_changes_the_period(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme")
    await chat.say("/repair Acme missed the filing deadline")
    await chat.say("2")
    out = await chat.say("/repair Acme breathe 10")
    assert "Breathing period now 10 days" in out and "until Thu 3 Dec" in out
    assert (await _repair(store)).breathing_until == date(2026, 12, 3)
    out = await chat.say("/repair Acme breathe 0")
    assert "between 1 and 60" in out


async def test_restart_goes_back_to_step_one(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme")
    await chat.say("/repair Acme missed the filing deadline")
    await chat.say("2")
    before = await _repair(store)
    assert before.step is not Step.FINISH
    out = await chat.say("/repair Acme restart")
    assert "Restart the repair for Acme from step 1?" in out
    assert "[1] Restart from step 1  [2] Keep going" in out
    assert await _repair(store) == before  # nothing thrown away by asking
    out = await chat.say("2")  # Keep going
    assert "step 1 of 4" not in out
    assert await _repair(store) == before
    await chat.say("/repair Acme restart")
    out = await chat.say("1")  # Restart from step 1
    assert "Back to step 1" in out and "step 1 of 4" in out
    r = await _repair(store)
    assert (r.step, r.breathing_until, r.reason) == (
        Step.FINISH,
        None,
        "missed the filing deadline",
    )


async def test_one_open_repair_per_client(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme")
    await chat.say("/client add Globex")
    await chat.say("/repair Acme missed the filing deadline")
    out = await chat.say("/repair Acme another thing went wrong")
    assert "A repair for Acme is already under way, at step 1 of 4" in out
    assert len(await _repairs(store)) == 1
    out = await chat.say("/repair Globex upset about fees")  # several clients at once: fine
    assert "Repair started for Globex" in out
    existing = await _repair(store)
    async with store.unit(await _ws_id(store)) as uow:
        with pytest.raises(RepairAlreadyOpen):
            await uow.repairs.add(existing)
        summaries = await uow.repairs.open_repairs()
    assert [(s.client_id, s.step) for s in summaries] == [
        (await _client_id(store, "Acme"), Step.FINISH),
        (await _client_id(store, "Globex"), Step.FINISH),
    ]
    out = await chat.say("/repair")
    assert "2 repairs under way" in out and "Acme: step 1 of 4" in out


# --- a touch that reads as trouble ------------------------------------------------------------


async def test_a_troubled_touch_offers_to_start_a_repair(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme")
    out = await chat.say("/touch Acme call with Dana, she complained about the invoice")
    assert "Start a repair" in out
    calm = await chat.say("/touch Acme lunch with Dana")
    assert "Start a repair" not in calm
    bob = await chat.as_user("bob").say("/touch Acme call, they were upset")
    assert "Start a repair" not in bob  # bob may not start one
    await chat.say("/touch Acme call with Dana, she complained about the invoice")
    out = await chat.say("5")  # [1] Undo [2] Log another [3] Open client [4] Edit [5] Start…
    assert "Repair started for Acme" in out
    assert "she complained about the invoice" in (await _repair(store)).reason


async def test_unknown_client(chat: Chat) -> None:
    out = await chat.say("/repair Initech missed the deadline")
    assert "I don't know a client called" in out


async def test_the_repair_follows_the_client_to_a_new_owner(
    chat: Chat, store: SqlStore, clock: FixedClock, config: CoreConfig
) -> None:
    await chat.say("/client add Acme")
    await chat.say("/repair Acme missed the filing deadline")
    await chat.as_user("bob").say("/touchbase help")
    bob = await _person_id(store, "bob")
    async with store.unit(await _ws_id(store)) as uow:
        await uow.clients.update(await _client_id(store), owner_id=bob)
        await uow.commit()
    assert await _repair_nudges(store, clock, config) == []  # no longer jane's
    [n] = [x for x in await _nudges(store, clock, config, "bob") if x.kind == "repair"]
    assert "decide what must be put right" in n.title
    out = await chat.as_user("bob").say("/repair Acme")
    assert "What went wrong: missed the filing deadline" in out
    assert (await _repair(store)).owner_id == bob


async def test_the_card_shows_the_tighter_rhythm_while_going_forward(
    chat: Chat, clock: FixedClock
) -> None:
    await chat.say("/client add Acme")
    await chat.say("/repair Acme missed the filing deadline")
    await chat.say("2")
    _on(clock, date(2026, 11, 30))
    await chat.say("/touch Acme call with Dana")
    for viewer in (chat, chat.as_user("bob")):
        card = await viewer.say("/client Acme")
        assert "Contact every 15 days instead of 30 until Sun 28 Feb, after the repair." in card
