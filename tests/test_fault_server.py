"""`touchbase serve` as a real process, killed and stopped while it works.

* kill -9 right after Slack got the 200 confirming a touch, in a loop: the touch is there after a
  restart (rounds: TOUCHBASE_KILL_ROUNDS, default 3);
* SIGTERM while many signed commands are in flight: every request that got a 200 has its touch
  stored, and the process exits 0 within seconds.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import TEAM, USER, ServeProcess, command_body, signed_headers
from bot.clock import SystemClock
from store.repositories import SqlStore
from tests.fakes.slack_api import FakeSlackApi

pytestmark = pytest.mark.fault

ROUNDS = int(os.environ.get("TOUCHBASE_KILL_ROUNDS", "3"))
IN_FLIGHT = int(os.environ.get("TOUCHBASE_SIGTERM_REQUESTS", "60"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi(team_id=TEAM) as api:
        api.add_user(USER, "ada", tz="Europe/London", email="ada@example.com")
        yield api


async def post(http: aiohttp.ClientSession, server: ServeProcess, body: str) -> tuple[int, str]:
    async with http.post(
        f"{server.url}/slack/events", data=body.encode(), headers=signed_headers(body)
    ) as response:
        return response.status, await response.text()


async def stored_notes(engine: AsyncEngine) -> list[str]:
    store = SqlStore(engine, SystemClock())
    notes: list[str] = []
    for ws in await store.workspaces():
        async with store.unit(ws.id) as uow:
            notes.extend(t.note for t in await uow.touches.all())
    return notes


async def test_a_confirmed_touch_survives_kill_9(
    db_url: str, engine: AsyncEngine, fake: FakeSlackApi, tmp_path: Path
) -> None:
    confirmed: list[str] = []
    async with aiohttp.ClientSession() as http:
        for i in range(ROUNDS):
            server = ServeProcess(db_url, fake.base_url, tmp_path)
            await server.start()
            try:
                if i == 0:
                    status, _ = await post(
                        http, server, command_body("add Acme", command="/client")
                    )
                    assert status == 200
                note = f"call with Dana round {i}"
                body = command_body(f"Acme {note}", response_url=fake.response_url(f"r{i}"))
                status, text = await post(http, server, body)
                assert status == 200 and "Logged call with Dana at Acme" in text, text
                confirmed.append(note)
            finally:
                server.kill()  # SIGKILL the moment the confirmation is in
    assert sorted(await stored_notes(engine)) == sorted(confirmed)


async def test_sigterm_mid_flight_loses_no_acknowledged_touch(
    db_url: str, engine: AsyncEngine, fake: FakeSlackApi, tmp_path: Path
) -> None:
    server = ServeProcess(db_url, fake.base_url, tmp_path)
    await server.start()
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as http:
        status, _ = await post(http, server, command_body("add Acme", command="/client"))
        assert status == 200
        answered = asyncio.Event()

        async def one(i: int) -> tuple[str, int, str]:
            note = f"call with Dana number {i}"
            body = command_body(f"Acme {note}", response_url=fake.response_url(f"t{i}"))
            try:
                status, text = await post(http, server, body)
            except aiohttp.ClientError as exc:
                return note, 0, type(exc).__name__
            answered.set()
            return note, status, text

        tasks = [asyncio.create_task(one(i)) for i in range(IN_FLIGHT)]
        await answered.wait()  # the server is busy: some answered, most still in flight
        server.terminate()
        results = await asyncio.gather(*tasks)
        code = await server.wait(timeout=10)

    acked = [note for note, status, _ in results if status == 200]
    assert code == 0
    assert acked, results
    stored = await stored_notes(engine)
    assert [n for n in acked if n not in stored] == []
    assert len(stored) == len(set(stored))  # and nothing twice
