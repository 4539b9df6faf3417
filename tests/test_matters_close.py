"""Closing matters: each close is recorded; the client-care plan starts with the last one;
a matter's name is read the same way by /matter, /matter … close and /update."""

from __future__ import annotations

import json

from bot.domain import Platform
from store.repositories import SqlStore
from tests.conftest import Chat
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    Harness,
    slack_fake_fixture,
    slack_fixture,
)
from tests.teams_helpers import (
    Teams,
    card_text,
    teams,
    unescape,
)

__all__ = ["teams"]  # the fixture


async def _care(store: SqlStore, platform: Platform, key: str) -> int:
    ws = await store.workspace(platform, key)
    async with store.unit(ws.id) as uow:
        [client] = await uow.clients.list()
        return len(await uow.ownership.open_checkins(client.id))


async def test_care_starts_when_the_last_open_matter_closes(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Initech")
    await chat.say("/matter Initech Series B financing expected Dec 12")
    await chat.say("/matter Initech Audit")
    out = await chat.say("/matter series b close")
    assert "Closed Series B financing for Initech" in out
    assert "still has 1 open matter (Audit)" in out and "Closed out" not in out
    assert await _care(store, Platform.CONSOLE, "local") == 0
    card = await chat.say("/client Initech")
    assert "closed the matter Series B financing" in card
    out = await chat.say("/matter Initech audit close")
    assert "Closed Audit for Initech. Closed out Initech" in out
    assert await _care(store, Platform.CONSOLE, "local") == 2


async def test_closeout_by_hand_starts_care_with_matters_open(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Initech")
    await chat.say("/matter Initech Audit")
    assert "Closed out Initech" in await chat.say("/client Initech closeout")
    assert await _care(store, Platform.CONSOLE, "local") == 2


async def test_matter_names_resolve_alike_in_every_command(chat: Chat) -> None:
    await chat.say("/client add Initech")
    await chat.say("/matter Initech Series B expected Dec 12")
    await chat.say("/matter Initech Audit")
    assert "Series B" in await chat.say("/matter series b")
    out = await chat.say("/update series b term sheet signed")
    assert "Recorded a status update to Initech on Series B" in out
    for close in ("/matter series b close", "/matter close Series B"):
        out = await chat.say(close)
        assert "Closed Series B for Initech" in out or "already closed" in out, close
    assert "Closed Audit" in await chat.say("/matter Initech audit close")


async def test_slack_and_teams_close_one_of_two(
    slack: Harness, teams: Teams, store: SqlStore
) -> None:
    await slack.command("add Initech", command="/client")
    await slack.command("Initech Series B", command="/matter")
    await slack.command("Initech Audit", command="/matter")
    _, body = await slack.command("series b close", command="/matter")
    assert "still has 1 open matter (Audit)" in json.dumps(body)
    await teams.post(teams.personal("client add Initech"))
    await teams.post(teams.personal("matter Initech Series B"))
    await teams.post(teams.personal("matter Initech Audit"))
    await teams.post(teams.personal("matter series b close"))
    said = unescape(card_text(await teams.last_card(4)))
    assert "still has 1 open matter (Audit)" in said
