"""Capture in the full export: client domains and each person's setup survive a restore."""

from __future__ import annotations

import json
from typing import Any

from bot.backup import export_data, restore
from bot.capture_ports import CaptureMode, CaptureSetup
from bot.domain import Platform
from store.repositories import SqlStore

from .conftest import Chat

FEED = "https://calendar.example/private-0123456789abcdef/basic.ics"


async def _workspace_with_capture(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme Corp")
    await chat.say("/client add Globex")
    await chat.say("/client Globex domain globex.com, globex.co.uk")
    await chat.say("/client Acme Corp domain acme.example")
    await chat.as_user("bob").say("/touch Globex call with Hank")
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        people = {p.platform_user_id: p.id for p in await uow.people.list()}
        clients = {c.name: c.id for c in await uow.clients.list()}
        await uow.capture.save_setup(
            CaptureSetup(
                person_id=people["jane"],
                mode=CaptureMode.AUTO,
                feed_url=FEED,
                always_clients=(clients["Globex"],),
                cursors={"ics": "bookmark"},
            )
        )
        await uow.capture.save_setup(CaptureSetup(person_id=people["bob"], mode=CaptureMode.OFF))
        await uow.commit()


async def _export(store: SqlStore, key: str, *, secrets: bool = False) -> dict[str, Any]:
    ws = await store.workspace(Platform.CONSOLE, key)
    async with store.unit(ws.id) as uow:
        return await export_data(uow, secrets=secrets)


async def _restore(store: SqlStore, key: str, document: dict[str, Any]) -> dict[str, int]:
    ws = await store.workspace(Platform.CONSOLE, key, key)
    async with store.unit(ws.id) as uow:
        report = await restore(uow, json.loads(json.dumps(document)))
        await uow.commit()
    return report.counts


async def test_domains_and_setups_round_trip_without_the_secret(
    chat: Chat, store: SqlStore
) -> None:
    await _workspace_with_capture(chat, store)
    first = await _export(store, "local")
    assert first["contains_secrets"] is False
    assert first["client_domains"] == [
        {"client": "Acme Corp", "domain": "acme.example"},
        {"client": "Globex", "domain": "globex.co.uk"},
        {"client": "Globex", "domain": "globex.com"},
    ]
    setups = {s["user"]: s for s in first["capture"]}
    assert setups["jane"] == {"user": "jane", "mode": "auto", "always_log": ["Globex"]}
    assert setups["bob"]["mode"] == "off"
    assert FEED not in json.dumps(first)

    counts = await _restore(store, "restored", first)
    assert counts["client domains"] == 3 and counts["capture setups"] == 2
    assert await _export(store, "restored") == first
    ws = await store.workspace(Platform.CONSOLE, "restored")
    async with store.unit(ws.id) as uow:
        clients = {c.name: c.id for c in await uow.clients.list()}
        assert (await uow.capture.domains())["globex.com"] == clients["Globex"]
        jane = next(p for p in await uow.people.list() if p.platform_user_id == "jane")
        setup = await uow.capture.setup(jane.id)
    assert setup.mode is CaptureMode.AUTO and setup.always_clients == (clients["Globex"],)
    assert setup.feed_url is None  # the person gives it again


async def test_a_backup_marked_with_secrets_brings_the_calendar_back(
    chat: Chat, store: SqlStore
) -> None:
    await _workspace_with_capture(chat, store)
    first = await _export(store, "local", secrets=True)
    assert first["contains_secrets"] is True
    assert {s["user"]: s for s in first["capture"]}["jane"]["calendar_address"] == FEED
    await _restore(store, "restored", first)
    assert await _export(store, "restored", secrets=True) == first

    # A document that says it has no secrets is not trusted to carry one.
    tampered = {**first, "contains_secrets": False}
    await _restore(store, "third", tampered)
    ws = await store.workspace(Platform.CONSOLE, "third")
    async with store.unit(ws.id) as uow:
        assert all(s.feed_url is None for s in await uow.capture.setups())


async def test_merge_moves_domains_and_always_log_delete_forgets_it(
    chat: Chat, store: SqlStore
) -> None:
    await _workspace_with_capture(chat, store)
    await chat.say("/client add Initech")
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        clients = {c.name: c.id for c in await uow.clients.list()}
        jane = next(p for p in await uow.people.list() if p.platform_user_id == "jane")
        setup = await uow.capture.setup(jane.id)
        both = (clients["Globex"], clients["Acme Corp"], clients["Initech"])
        await uow.capture.save_setup(CaptureSetup(jane.id, setup.mode, FEED, both))
        await uow.commit()
    await chat.say("/client Globex merge into Acme Corp")
    out = await chat.say("1")
    assert "merged" in out.lower(), out
    async with store.unit(ws.id) as uow:
        assert await uow.capture.domains() == {
            "acme.example": clients["Acme Corp"],
            "globex.com": clients["Acme Corp"],
            "globex.co.uk": clients["Acme Corp"],
        }
        setup = await uow.capture.setup(jane.id)
        assert setup.always_clients == (clients["Acme Corp"], clients["Initech"])
        assert setup.feed_url == FEED
    await chat.say("/client Initech delete")
    await chat.say("1")
    async with store.unit(ws.id) as uow:
        assert [c.name for c in await uow.clients.list()] == ["Acme Corp"]
        assert (await uow.capture.setup(jane.id)).always_clients == (clients["Acme Corp"],)
