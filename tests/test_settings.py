"""/touchbase tz and /touchbase workdays, and the time zone the console is started with."""

from __future__ import annotations

import io

import pytest

from adapters.console import run_console
from bot.app import Touchbase
from bot.commands.settings import parse_workdays, valid_zone
from bot.domain import Person, Platform
from store.repositories import SqlStore

from .conftest import Chat


async def _person(store: SqlStore, user: str) -> Person:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        person = await uow.people.by_platform_id(user)
    assert person is not None
    return person


async def test_set_my_time_zone(chat: Chat, store: SqlStore) -> None:
    me = chat.as_user("dana", tz=None)  # a platform that reports no time zone
    out = await me.say("/touchbase tz europe/london")
    assert "Your time zone is now Europe/London." in out
    assert (await _person(store, "dana")).tz == "Europe/London"
    assert "Your time zone is Europe/London." in await me.say("/touchbase tz")


async def test_unknown_time_zone_is_refused_with_an_example(chat: Chat, store: SqlStore) -> None:
    me = chat.as_user("dana", tz=None)
    out = await me.say("/touchbase tz Mars/Base")
    assert 'I don\'t know the time zone "Mars/Base".' in out
    assert "Europe/London" in out
    assert (await _person(store, "dana")).tz == "UTC"


async def test_a_chosen_zone_outlasts_the_platforms_report(chat: Chat, store: SqlStore) -> None:
    out = await chat.say("/touchbase tz Asia/Singapore")  # the console says UTC each time
    assert "/touchbase tz auto" in out
    await chat.say("/touchbase help")  # another request, with the platform reporting UTC
    assert (await _person(store, "jane")).tz == "Asia/Singapore"
    out = await chat.say("/touchbase tz auto")
    assert "follows your chat app: UTC" in out
    assert (await _person(store, "jane")).tz == "UTC"


async def test_set_my_working_days(chat: Chat, store: SqlStore) -> None:
    out = await chat.say("/touchbase workdays mon,tue,thu")
    assert "Your working days are now Mon, Tue, Thu." in out
    assert (await _person(store, "jane")).workdays == (0, 1, 3)
    out = await chat.say("/touchbase workdays mon-fri")
    assert "Monday to Friday" in out
    assert (await _person(store, "jane")).workdays == (0, 1, 2, 3, 4)
    out = await chat.say("/touchbase workdays someday")
    assert 'I couldn\'t read "someday" as days of the week.' in out
    assert (await _person(store, "jane")).workdays == (0, 1, 2, 3, 4)


def test_reading_days_and_zones() -> None:
    assert parse_workdays("sun-thu") == (0, 1, 2, 3, 6)
    assert parse_workdays("Mon, Wed and Fri") == (0, 2, 4)
    assert parse_workdays("mon - fri") == (0, 1, 2, 3, 4)
    assert parse_workdays("mon-funday") is None
    assert valid_zone("america/new_york") == "America/New_York"
    assert valid_zone("utc") == "UTC"
    assert valid_zone("../../etc/passwd") is None
    assert valid_zone("Mars/Base") is None


async def test_console_refuses_an_unknown_time_zone(app: Touchbase) -> None:
    out = io.StringIO()
    with pytest.raises(SystemExit) as stopped:
        await run_console(app, "jane", "Mars/Base", io.StringIO(""), out)
    assert 'unknown time zone "Mars/Base"' in str(stopped.value.code)
    assert "Europe/London" in str(stopped.value.code)
    chat = await run_console(app, "jane", "europe/berlin", io.StringIO(""), out)
    assert chat.tz == "Europe/Berlin"
