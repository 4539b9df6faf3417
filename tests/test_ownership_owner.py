"""/owner, /touchbase role and /touchbase channel through the console platform, on both engines."""

from __future__ import annotations

import io

from bot.domain import OwnerChange, Platform, Role
from store.repositories import SqlStore

from .conftest import Chat


async def _firm(chat: Chat) -> dict[str, Chat]:
    """ada (the first person: admin), bob (staff, owns Acme), jane and carol (staff)."""
    people = {name: chat.as_user(name) for name in ("ada", "bob", "jane", "carol")}
    for person in people.values():
        await person.say("/clients")  # each has used Touchbase once
    await people["bob"].say("/client add Acme Corp")
    return people


async def _acme(store: SqlStore) -> tuple[str | None, list[OwnerChange], list[str]]:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        client = await uow.clients.by_name("Acme Corp")
        assert client is not None
        owner = await uow.people.get(client.owner_id) if client.owner_id else None
        changes = await uow.history.owner_changes(client.id)
        events = [e.summary for e in await uow.history.events(client.id)]
        return (owner.display_name if owner else None), changes, events


async def test_owner_hands_on_posts_once_and_tells_both(
    chat: Chat, store: SqlStore, outbox: io.StringIO
) -> None:
    people = await _firm(chat)
    out = await people["ada"].say("/touchbase channel")
    assert "relationships channel" in out
    assert "To stop posting here: /touchbase channel off" in out
    out = await people["bob"].say("/owner Acme @jane")
    assert "Acme Corp is now jane's client." in out
    assert "bob introduces jane to Acme Corp in person: a joint call or lunch" in out
    assert "Posted to the relationships channel" in out
    sent = outbox.getvalue()
    assert sent.count("--- message for console ---") == 1
    assert "Acme Corp: jane takes over from bob." in sent
    assert sent.count("--- message for jane ---") == 1
    assert sent.count("--- message for bob ---") == 1
    assert "Acme Corp is yours now" in sent and "Acme Corp moves to jane" in sent
    assert "bob handed you Acme Corp." in sent and "You handed Acme Corp to jane." in sent
    owner, changes, events = await _acme(store)
    assert owner == "jane"
    assert [(c.from_person_id is not None, c.to_person_id is not None) for c in changes] == [
        (False, True),  # added by bob
        (True, True),  # bob to jane
    ]
    assert "jane took over from bob" in events


async def test_staff_non_owner_is_refused_and_nothing_changes(
    chat: Chat, store: SqlStore, outbox: io.StringIO
) -> None:
    people = await _firm(chat)
    await people["ada"].say("/touchbase channel")
    out = await people["carol"].say("/owner Acme @jane")
    assert "Only bob, a principal or an admin can hand Acme Corp to someone else" in out
    assert "Nothing changed" in out
    owner, changes, _ = await _acme(store)
    assert owner == "bob" and len(changes) == 1
    assert outbox.getvalue() == ""


async def test_principal_and_admin_may_hand_on(chat: Chat, store: SqlStore) -> None:
    people = await _firm(chat)
    assert "carol is now a principal" in await people["ada"].say("/touchbase role @carol principal")
    assert "is now carol's client" in await people["carol"].say("/owner Acme @carol")
    assert "is now jane's client" in await people["ada"].say("/owner Acme @jane")
    owner, changes, _ = await _acme(store)
    assert owner == "jane" and len(changes) == 3


async def test_without_a_channel_it_still_works_and_says_how(
    chat: Chat, store: SqlStore, outbox: io.StringIO
) -> None:
    people = await _firm(chat)
    out = await people["bob"].say("/owner Acme @jane")
    assert "is now jane's client" in out
    assert "/touchbase channel" in out
    assert "message for console" not in outbox.getvalue()
    assert "message for jane" in outbox.getvalue()


async def test_roles_are_for_admins_and_keep_one_admin(
    chat: Chat, store: SqlStore, outbox: io.StringIO
) -> None:
    people = await _firm(chat)
    assert "Only an admin can change roles" in await people["bob"].say("/touchbase role @bob admin")
    assert "only admin" in await people["ada"].say("/touchbase role @ada staff")
    out = await people["ada"].say("/touchbase role @bob senior")
    assert "bob is now a senior. Their target: 10 to 20 clients." in out
    # bob himself is addressed as "you".
    assert "ada made you a senior in Touchbase. Your target: 10 to 20 clients." in outbox.getvalue()
    assert "Their target" not in outbox.getvalue()
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        bob = await uow.people.by_platform_id("bob")
        assert bob is not None and bob.role is Role.SENIOR
    assert "Only an admin" in await people["bob"].say("/touchbase channel")


async def test_a_mentioned_newcomer_is_created(chat: Chat, store: SqlStore) -> None:
    people = await _firm(chat)
    out = await people["bob"].say("/owner Acme <@U0NEW|dana>")
    assert "Acme Corp is now dana's client." in out
    owner, _, _ = await _acme(store)
    assert owner == "dana"


async def test_unclear_people_are_asked_about(chat: Chat, store: SqlStore) -> None:
    people = await _firm(chat)
    people["janet"] = chat.as_user("Jane Smith")
    await people["janet"].say("/clients")
    people["jd"] = chat.as_user("Jane Doe")
    await people["jd"].say("/clients")
    out = await people["bob"].say("/owner Acme @nobody")
    assert 'I don\'t know anyone called "nobody"' in out
    out = await people["bob"].say("/owner Acme @JANE DOE")  # names match case-insensitively
    assert "is now Jane Doe's client" in out
    out = await people["ada"].say("/owner Acme @Jane S")
    assert "I don't know anyone" in out
    owner, _, _ = await _acme(store)
    assert owner == "Jane Doe"


async def test_first_name_ambiguity_asks(chat: Chat, store: SqlStore) -> None:
    people = await _firm(chat)
    for name in ("Sam Ng", "Sam Orr"):
        await chat.as_user(name).say("/clients")
    out = await people["bob"].say("/owner Acme @sam")
    assert 'More than one person here matches "sam": Sam Ng, Sam Orr' in out
    owner, _, _ = await _acme(store)
    assert owner == "bob"


async def test_a_plain_name_is_enough_for_owner(chat: Chat, store: SqlStore) -> None:
    people = await _firm(chat)
    people["jd"] = chat.as_user("Jane Doe")
    await people["jd"].say("/clients")
    await people["ada"].say("/client add Globex Corporation")
    out = await people["bob"].say("/owner Acme jane")  # as /clients jane would read it
    assert "Acme Corp is now jane's client." in out
    out = await people["ada"].say("/owner Globex Corporation Jane Doe")
    assert "Globex Corporation is now Jane Doe's client." in out
    out = await people["jane"].say("/owner Acme Corp nobody")
    assert 'I don\'t know anyone called "nobody" here yet.' in out
    out = await people["jane"].say("/owner Acme Corp")
    assert "Who should own it?" in out
    owner, _, _ = await _acme(store)
    assert owner == "jane"


async def test_a_title_that_is_not_a_role_is_explained(chat: Chat, store: SqlStore) -> None:
    people = await _firm(chat)
    out = await people["ada"].say("/touchbase role @bob partner")
    assert '"partner" isn\'t one of the roles: staff, senior, principal or admin.' in out
    assert "For a partner, principal is the usual one." in out
    assert "Try: /touchbase role @bob principal." in out
    assert "/touchbase me seniority partner" in out
    out = await people["ada"].say("/touchbase role <@bob|bob> partner")
    assert "Try: /touchbase role @bob principal." in out
    out = await people["ada"].say("/touchbase role bob")
    assert "Which role? Staff, senior, principal or admin." in out
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        bob = await uow.people.by_platform_id("bob")
        assert bob is not None and bob.role is Role.STAFF
