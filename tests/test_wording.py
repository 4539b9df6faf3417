"""Wording with real names: a name that ends in a full stop gets no second one, a role reads as
a person ("a staff member"), and each person's morning message offers only their own steps."""

from __future__ import annotations

from datetime import date

import pytest

from bot.clock import FixedClock
from bot.config import CoreConfig
from bot.digest import compose_digest
from bot.domain import Platform, Role
from bot.sources import all_nudges
from bot.text import a_role, role_noun, stop
from store.repositories import SqlStore

from .conftest import Chat


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Added Acme", "Added Acme."),
        ("Added Pied Piper Inc.", "Added Pied Piper Inc."),
        ("Archived Yahoo!", "Archived Yahoo!"),
        ("Who is Ask Jeeves?", "Who is Ask Jeeves?"),
        ("Closed Phase 2…", "Closed Phase 2…"),
    ],
)
def test_one_full_stop_after_a_name(text: str, expected: str) -> None:
    assert stop(text) == expected


def test_roles_read_as_one_person() -> None:
    assert [a_role(r) for r in Role] == ["a staff member", "a senior", "a principal", "an admin"]
    assert role_noun(Role.STAFF) == "staff member"


async def test_names_ending_in_punctuation_get_no_second_stop(chat: Chat) -> None:
    out = await chat.say("/client add Pied Piper Inc.")
    assert "Added Pied Piper Inc. You are its owner." in out
    out = await chat.say("/client add Yahoo!")
    assert "Added Yahoo! You are its owner." in out
    out = await chat.say("/repair Pied Piper missed the filing deadline")
    assert "Repair started for Pied Piper Inc. Step 1 of 4" in out
    bob = chat.as_user("bob")
    await bob.say("/clients")
    out = await chat.say("/owner Pied Piper @bob")
    assert "Inc.." not in out and "Pied Piper Inc." in out


async def test_role_names_in_replies(chat: Chat) -> None:
    await chat.say("/clients")  # jane, the first person, is the admin
    bob = chat.as_user("bob")
    await bob.say("/clients")
    out = await chat.say("/touchbase role @bob staff")
    assert "bob is already a staff member." in out
    assert "a staff." not in out
    await bob.say("/client add Acme")
    out = await bob.say("/clients")
    assert "a staff member usually holds" in out
    out = await chat.say("/touchbase role @bob senior")
    assert "bob is now a senior." in out


async def test_each_owner_gets_only_their_own_handoff_buttons(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    people = {name: chat.as_user(name) for name in ("ada", "bob", "jane")}
    for person in people.values():
        await person.say("/clients")
    await people["bob"].say("/client add Acme Corp")
    await people["bob"].say("/owner Acme @jane")

    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        names = {p.id: p.display_name for p in await uow.people.list()}
        found = await all_nudges(uow, None, clock.now(), CoreConfig())
    digests = {
        names[pid]: compose_digest([n for n in nudges if n.kind == "handoff"], date(2026, 11, 23))
        for pid, nudges in found.items()
    }
    jane, bob = digests["jane"], digests["bob"]
    assert jane is not None and bob is not None
    # The introduction and telling the key people are the previous owner's part: not jane's.
    assert [a.label for a in jane.all_actions() if a.action_id == "handoff_step"] == [
        "Notes shared"
    ]
    assert [a.label for a in bob.all_actions() if a.action_id == "handoff_step"] == [
        "Introduced in person",
        "Notes shared",
        "Key people told",
    ]
