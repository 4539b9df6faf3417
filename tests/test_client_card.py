"""/client: the card's history and follow-ups, adding clients and names that clash."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FixedClock
from bot.domain import Platform
from bot.parsing import ClientName, lookup_client, match_client
from bot.transfer import export_data
from store.repositories import SqlStore

from .conftest import Chat


async def _client_names(store: SqlStore) -> dict[str, tuple[str, ...]]:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        return {c.name: tuple(c.aliases) for c in await uow.clients.list()}


# --- follow-ups on the card ---------------------------------------------------------------------


async def test_only_a_touch_with_the_same_contact_clears_awaiting_reply(
    chat: Chat, store: SqlStore
) -> None:
    await chat.say("/client add Globex")
    await chat.say("/touch Globex emailed the GC about renewal, no reply yet 3 days ago")
    out = await chat.say("/client Globex")
    assert out.count("(awaiting reply)") == 1
    assert "Awaiting reply: email to GC, Friday (3 days ago)" in out
    await chat.say("/touch Globex lunch with Hank yesterday")
    out = await chat.say("/client Globex")
    # Lunch with Hank is no answer from the GC: the card, the history and the export agree.
    assert out.count("(awaiting reply)") == 1 and "Awaiting reply: email to GC" in out
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        exported = await export_data(uow)
        waiting = {(t["contact"], t["awaiting_reply"]) for t in exported["touches"]}
        assert {a.contact for a in await uow.nudges.awaiting_replies(None)} == {"GC"}
    assert waiting == {("GC", True), ("Hank", False)}
    await chat.say("/touch Globex call with the gc today")
    out = await chat.say("/client Globex")
    assert "emailed the GC" in out and "awaiting reply" not in out.casefold()
    async with store.unit(ws.id) as uow:
        assert not any(t["awaiting_reply"] for t in (await export_data(uow))["touches"])
        assert await uow.nudges.awaiting_replies(None) == []


async def test_the_latest_touch_still_awaiting_shows_it(chat: Chat) -> None:
    await chat.say("/client add Globex")
    await chat.say("/touch Globex lunch with Hank 3 days ago")
    await chat.say("/touch Globex left voicemail for Dana yesterday")
    out = await chat.say("/client Globex")
    assert out.count("(awaiting reply)") == 1
    assert "voicemail" in out.split("(awaiting reply)")[0].splitlines()[-1]


# --- history: "and N more", the full history, the owner change ----------------------------------


async def test_card_shows_eight_lines_and_how_many_more(chat: Chat) -> None:
    await chat.say("/client add Acme")
    for n in range(12):
        await chat.say(f"/touch Acme call note {n} {n + 1} days ago")
    out = await chat.say("/client Acme")
    history = out.split("Recent history:")[1]
    assert history.count("jane, ") == 8
    assert "note 0" in history and "note 8" not in history
    assert "(and 4 more)" in history
    assert "Full history" in history
    number = next(part.split("]")[0] for part in history.split("[")[1:] if "Full history" in part)
    full = await chat.say(number)
    assert full.count("jane, ") == 12
    assert "note 11" in full


async def test_owner_change_stays_on_the_card_under_same_day_touches(
    chat: Chat, clock: FixedClock
) -> None:
    await chat.say("/clients")
    bob = chat.as_user("bob")
    await bob.say("/clients")
    await chat.say("/client add Acme")
    await chat.say("/owner Acme @bob")
    clock.advance(timedelta(minutes=1))
    for n in range(10):
        await bob.say(f"/touch Acme call note {n}")
    out = await bob.say("/client Acme")
    history = out.split("Recent history:")[1]
    assert "bob took over from jane" in history
    assert "note 9" in history  # the most recent lines are still there


async def test_small_history_has_no_more_button(chat: Chat) -> None:
    await chat.say("/client add Acme")
    await chat.say("/touch Acme lunch with the CFO")
    out = await chat.say("/client Acme")
    assert "more)" not in out and "Full history" not in out


# --- unknown clients: an Add button -------------------------------------------------------------


async def test_unknown_client_card_offers_to_add_it(chat: Chat, store: SqlStore) -> None:
    out = await chat.say("/client Hooli")
    assert 'I don\'t know a client called "Hooli".' in out
    assert "[1] Add Hooli" in out
    out = await chat.say("1")
    assert "Added Hooli. You are its owner." in out
    assert await _client_names(store) == {"Hooli": ()}
    assert "Owner: jane" in await chat.say("/client Hooli")


# --- aliases that clash -------------------------------------------------------------------------


async def test_alias_equal_to_another_clients_name_is_refused(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Initech")
    out = await chat.say("/client add Initrode, INITECH")
    assert '"INITECH" is already the name of Initech' in out
    assert "Leave that alias out" in out
    assert await _client_names(store) == {"Initech": ()}
    assert "Owner: jane" in await chat.say("/client Initech")


async def test_name_equal_to_another_clients_alias_is_refused(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme Corp, ACME")
    out = await chat.say("/client add acme")
    assert '"acme" is already an alias of Acme Corp' in out
    assert "Choose another name" in out
    out = await chat.say("/client add Acme Labs, Acme")
    assert '"Acme" is already an alias of Acme Corp' in out
    assert await _client_names(store) == {"Acme Corp": ("ACME",)}


def test_a_clients_own_name_beats_another_clients_alias() -> None:
    # Clashes made before the check (or by an import) stay reachable by their own name.
    clients = [ClientName(1, "Initrode", ("Initech",)), ClientName(2, "Initech")]
    looked = lookup_client("initech", clients)
    assert looked.status == "matched" and looked.client is not None
    assert looked.client.id == 2
    matched = match_client("Initech lunch with Bob", clients)
    assert matched.status == "matched" and matched.client is not None
    assert matched.client.id == 2 and matched.rest == "lunch with Bob"
    # Two aliases alike are still ambiguous: there is no name to prefer.
    both = [ClientName(1, "Initrode", ("IT",)), ClientName(2, "Initech", ("IT",))]
    assert lookup_client("IT", both).status == "ambiguous"
