"""Durable intake: a command answered "Saving…" survives kill -9. It was journaled before the
ack; the next `touchbase serve` completes it once and tells the person through response_url.

The database is held by another writer (tests/test_fault_stall.py's `stalled`) for longer than
the ack budget, so the real server answers "Saving…"; it is then killed with SIGKILL before it
could save anything, the database is released, and the server started again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import ServeProcess, command_body
from tests.fakes.slack_api import FakeSlackApi
from tests.test_fault_server import fake, post, stored_notes  # noqa: F401  (fixture)
from tests.test_fault_stall import stalled

pytestmark = pytest.mark.fault
ROOT = Path(__file__).resolve().parent.parent
ENV = {"PYTHONPATH": str(ROOT)}


async def test_saving_then_kill_9_stores_the_touch_once_and_tells_the_person(
    db_url: str,
    engine: AsyncEngine,
    fake: FakeSlackApi,  # noqa: F811
    tmp_path: Path,
) -> None:
    server = ServeProcess(db_url, fake.base_url, tmp_path, ENV)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            status, _ = await post(http, server, command_body("add Acme", command="/client"))
            assert status == 200
            note = "call with Dana before the crash"
            body = command_body(f"Acme {note}", response_url=fake.response_url("crash"))
            async with stalled(db_url):
                status, text = await post(http, server, body)
                assert status == 200 and "Saving" in text, text
                server.kill()  # SIGKILL: nothing saved, nobody told
                await asyncio.to_thread(server.proc.wait)  # type: ignore[union-attr]
            assert note not in await stored_notes(engine)
            assert fake.calls("response_url") == []
    finally:
        server.kill()

    again = ServeProcess(db_url, fake.base_url, tmp_path, ENV, port=server.port)
    await again.start()
    try:
        [told] = await fake.wait_for("response_url")
        assert told.path.endswith("/crash")
        assert "Logged call with Dana at Acme" in str(told.params.get("text")), told.params
        assert (await stored_notes(engine)).count(note) == 1
    finally:
        again.kill()
    # A third start finds nothing left to do: the touch stays single, nobody is told twice.
    third = ServeProcess(db_url, fake.base_url, tmp_path, ENV)
    await third.start()
    try:
        status = 0
        async with aiohttp.ClientSession() as http:
            status, text = await post(http, third, command_body("Acme", command="/client"))
        assert status == 200, text
    finally:
        third.kill()
    assert (await stored_notes(engine)).count(note) == 1
    assert len(fake.calls("response_url")) == 1
