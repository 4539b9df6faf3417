"""/due in the console chat, and the buttons on its items: snooze, they replied, log touch."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.app import Touchbase
from bot.clock import FixedClock
from bot.domain import TouchKind
from bot.messages import Message
from store.repositories import SqlStore
from tests.conftest import Chat
from tests.nudge_fixtures import add_client, add_touch, workspace

LONG_AGO = datetime(2026, 9, 1, tzinfo=UTC)


async def _setup(chat: Chat, store: SqlStore, clock: FixedClock) -> tuple[int, int]:
    await chat.say("/touchbase help")  # jane appears, as the workspace's first person
    ws = await workspace(store)
    async with store.unit(ws) as uow:
        jane = await uow.people.by_platform_id("jane")
        assert jane is not None
    acme = await add_client(store, clock, ws, "Acme Corp", jane, added=LONG_AGO)
    beta = await add_client(store, clock, ws, "Beta LLP", jane, added=LONG_AGO)
    await add_touch(store, ws, acme, jane, LONG_AGO.date(), kind=TouchKind.LUNCH)
    await add_touch(store, ws, beta, jane, date(2026, 11, 16), awaiting=True, contact="Dana")
    return acme, beta


async def test_due_lists_items_with_buttons(
    app: Touchbase, chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    await _setup(chat, store, clock)
    out = await chat.say("/due")
    assert "Beta LLP: no reply for 5 business days" in out
    assert "Acme Corp: 53 days overdue" in out
    assert out.index("Acme Corp") > out.index("Beta LLP")  # more urgent first... by urgency
    assert "[1] Log touch" in out and "They replied" in out


async def test_snooze_button_keeps_it_out(
    app: Touchbase, chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    await _setup(chat, store, clock)
    out = await chat.say("/due")
    # Beta's buttons come first: Log touch, They replied, Snooze, Open client; then Acme's.
    assert "[6] Snooze" in out
    out = await chat.say("6")
    assert "how long" in out and "[3] 1 week" in out
    out = await chat.say("1")
    assert "Snoozed for 1 day" in out
    out = await chat.say("/due")
    assert "Acme Corp" not in out and "Beta LLP" in out
    clock.advance(timedelta(days=1, minutes=1))
    assert "Acme Corp" in await chat.say("/due")


async def test_they_replied_clears_the_follow_up(
    app: Touchbase, chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    await _setup(chat, store, clock)
    await chat.say("/due")
    out = await chat.say("2")  # Beta: They replied
    assert "Beta LLP replied" in out
    out = await chat.say("/due")
    assert "no reply" not in out


async def test_a_touch_with_someone_else_leaves_the_follow_up(
    app: Touchbase, chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    await _setup(chat, store, clock)
    await chat.say("/touch Beta call with the CFO")
    assert "Beta LLP: no reply for 5 business days" in await chat.say("/due")
    await chat.say("/touch Beta call with Dana")
    out = await chat.say("/due")
    assert "no reply" not in out and "Beta" not in out


async def test_log_touch_button_opens_the_touch_form(
    app: Touchbase, chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    await _setup(chat, store, clock)
    await chat.say("/due")
    out = await chat.say("5", "", "", "", "", "lunch with the CFO", "")  # Acme: Log touch
    assert "Log a touch" in out
    out = await chat.say("/due")
    assert "Acme Corp" not in out


async def test_nothing_due(app: Touchbase, chat: Chat) -> None:
    await chat.say("/client add Acme Corp")
    await chat.say("/touch Acme lunch with the CFO")
    out = await chat.say("/due")
    assert "Nothing is due: every client you own is on schedule" in out


async def test_nothing_due_with_no_clients_says_how_to_add_one(chat: Chat) -> None:
    out = await chat.say("/due")
    assert "Nothing is due: you don't own any clients yet." in out
    assert "every client you own" not in out
    assert "/client add" in out


async def test_odd_button_values_get_a_kind_answer(app: Touchbase, chat: Chat) -> None:
    from bot.inbound import ActionIn

    who = chat.console.identity()
    for action_id, value in [
        ("nudge_replied", "9" * 40),
        ("nudge_replied", "abc"),
        ("nudge_snooze", ""),
        ("nudge_snooze", "x" * 500),
        ("nudge_snooze_for", "999999999999|due:client:1"),
        ("nudge_snooze_for", "1|due:client:" + "9" * 40),
        ("nudge_snooze_for", "nonsense"),
    ]:
        reply = await app.action(who, ActionIn(action_id, value, None))
        assert isinstance(reply, Message)
        assert "went wrong" not in reply.text, (action_id, value)
