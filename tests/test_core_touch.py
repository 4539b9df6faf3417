"""The /touch and /client commands through the console platform, on both engines."""

from __future__ import annotations

from datetime import date, timedelta

from bot.clock import FixedClock
from bot.domain import Platform
from store.repositories import SqlStore

from .conftest import Chat


async def _touches(store: SqlStore) -> list[tuple[str, str | None, date, bool]]:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        clients = {c.id: c.name for c in await uow.clients.list()}
        return [
            (clients[t.client_id], t.contact, t.occurred_on, t.awaiting_reply)
            for t in await uow.touches.all()
        ]


async def test_touch_is_stored_then_confirmed(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme Corp, ACME")
    out = await chat.say("/touch Acme lunch with CFO")
    assert "Logged lunch with CFO at Acme Corp, today." in out
    assert "[1] Undo" in out
    assert await _touches(store) == [("Acme Corp", "CFO", date(2026, 11, 23), False)]


async def test_unknown_client_is_never_invented(chat: Chat, store: SqlStore) -> None:
    out = await chat.say("/touch Initech call with Bob yesterday")
    assert "Initech" in out and "Add Initech and log it" in out
    assert await _touches(store) == []
    out = await chat.say("1")  # the button keeps the typed text: nothing is lost
    assert "Logged call with Bob at Initech" in out
    assert await _touches(store) == [("Initech", "Bob", date(2026, 11, 22), False)]


async def test_ambiguous_client_offers_candidates(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme Corp")
    await chat.say("/client add Acme Labs")
    out = await chat.say("/touch Acme coffee with Dana")
    assert "Acme Corp" in out and "Acme Labs" in out
    assert await _touches(store) == []
    out = await chat.say("2")
    assert "at Acme Labs" in out
    assert await _touches(store) == [("Acme Labs", "Dana", date(2026, 11, 23), False)]


async def test_undo_removes_the_touch(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Globex")
    await chat.say("/touch Globex left voicemail for Dana")
    assert len(await _touches(store)) == 1
    out = await chat.say("1")
    assert "Removed" in out
    assert await _touches(store) == []


async def test_only_the_author_can_undo(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Globex")  # jane is the first person: the workspace admin
    bob = chat.as_user("bob")
    await bob.say("/touch Globex call with Hank")
    carol = chat.as_user("carol")
    touch_id = (await _all_ids(store))[0]
    out = await carol.console.app.action(carol.console.identity(), _undo(touch_id))
    assert "Only the person who logged" in out.text  # type: ignore[union-attr]
    assert len(await _touches(store)) == 1


async def _all_ids(store: SqlStore) -> list[int]:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        return [t.id for t in await uow.touches.all()]


def _undo(touch_id: int):  # type: ignore[no-untyped-def]
    from bot.inbound import ActionIn

    return ActionIn("touch_undo", str(touch_id))


async def test_client_card_shows_history_and_due(chat: Chat, clock: FixedClock) -> None:
    now = clock.now()
    clock.set(now - timedelta(days=45))
    await chat.say("/client add Acme Corp")
    clock.set(now)
    await chat.say("/touch Acme call with the GC 40 days ago")
    out = await chat.say("/client acme corp")
    assert "Owner: jane" in out
    assert "overdue" in out
    assert "call with GC" in out or "the GC" in out


async def test_log_touch_form_validates_inline(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme Corp")
    out = await chat.say("1", "", "teleport", "", "2030-01-01", "", "")  # "Log a touch" button
    assert "Choose one of the kinds" in out
    assert "in the future" in out
    assert await _touches(store) == []
    await chat.say("/client add Umbrella")
    out = await chat.say("1", "", "meeting", "Alice", "2026-11-20", "kick-off", "yes")
    assert "Logged meeting with Alice at Umbrella" in out
    assert await _touches(store) == [("Umbrella", "Alice", date(2026, 11, 20), True)]


async def test_retried_command_stores_once(app, store: SqlStore) -> None:  # type: ignore[no-untyped-def]
    from bot.inbound import CommandIn, Identity

    who = Identity(Platform.CONSOLE, "local", "jane", "Jane")
    await app.command(who, CommandIn("client", "add Acme"))
    for _ in range(3):
        await app.command(who, CommandIn("touch", "Acme lunch with CFO", source_id="trigger-1"))
    assert len(await _touches(store)) == 1


async def test_unknown_command_says_what_to_type(chat: Chat) -> None:
    out = await chat.console.app.command(chat.console.identity(), _cmd("frobnicate"))
    assert "/touchbase help" in out.sections[0].text  # type: ignore[union-attr]


def _cmd(name: str):  # type: ignore[no-untyped-def]
    from bot.inbound import CommandIn

    return CommandIn(name, "")


async def test_help_lists_every_command_and_details_one(chat: Chat) -> None:
    from bot.catalog import COMMANDS

    out = await chat.say("/touchbase help")
    for command in COMMANDS:
        assert f"/{command.name}" in out
    out = await chat.say("/touchbase help client")
    assert "/client Acme closeout" in out and "people add" in out
    out = await chat.say("/touchbase help nonsense")
    assert 'There\'s no command "nonsense".' in out
    assert "Commands:" in out and "/touch " in out
    out = await chat.say("/touchbase help /repair")
    assert "/repair: the repairs under way" in out
    out = await chat.say("/touchbase help touchbase")
    assert "/touchbase channel [off]" in out and "/touchbase tz Europe/London" in out
    out = await chat.say("/touchbase help client")
    assert "/client <name> people [add|remove <person>]: The client's key people" in out


def test_every_catalog_command_has_a_handler() -> None:
    from bot.catalog import COMMANDS
    from bot.commands import default_registry

    registry = default_registry()
    assert {c.name for c in COMMANDS} <= set(registry.commands)
    subcommands = {name.split(" ", 1)[1] for name in registry.commands if " " in name}
    for command in COMMANDS:
        for line in (command.example, *command.more):
            words = line.split()
            if words[0] == "/touchbase" and len(words) > 1:
                assert words[1].rstrip(":") in subcommands | {"help"}, line


async def test_nul_characters_never_reach_the_database(chat: Chat, store: SqlStore) -> None:
    out = await chat.say("/client add Ac\x00me")
    assert "Added Acme" in out
    out = await chat.say("/touch Acme call\x00 with Dana")
    assert "Logged call with Dana at Acme" in out
