"""A slowloris against `touchbase serve` under a low open-file limit: many connections that send
half a request and then nothing, reconnecting when closed. Normal requests must still be answered
within 3 seconds, and the log must stay small.

The server runs as a real process with ``RLIMIT_NOFILE`` lowered to 256, and the attack opens
three times that many connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bench.common import TEAM, USER, ServeProcess
from tests.fakes.slack_api import FakeSlackApi

pytestmark = pytest.mark.fault

FD_LIMIT = 256
ATTACKERS = int(os.environ.get("TOUCHBASE_SLOWLORIS_CONNECTIONS", str(3 * FD_LIMIT)))
LIMITED = (
    "import resource, runpy, sys\n"
    f"resource.setrlimit(resource.RLIMIT_NOFILE, ({FD_LIMIT}, {FD_LIMIT}))\n"
    "sys.argv = ['touchbase'] + sys.argv[1:]\n"
    "runpy.run_module('app.cli', run_name='__main__')\n"
)


class LimitedServe(ServeProcess):
    """`touchbase serve` with a low open-file limit; its log goes to a file we can measure."""

    log_path: Path | None = None

    async def start(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        self.log_path = self.cwd / "serve.log"
        with self.log_path.open("wb") as log_file:
            self.proc = subprocess.Popen(  # noqa: ASYNC220  (returns at once)
                [sys.executable, "-c", LIMITED, "serve", "--port", str(self.port)],
                cwd=self.cwd,
                env=self.env(),
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        await self._wait_healthy(timeout)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi(team_id=TEAM) as api:
        api.add_user(USER, "ada", tz="Europe/London", email="ada@example.com")
        yield api


async def slow_client(port: int, stop: asyncio.Event, opened: list[int]) -> None:
    """Half a request, then silence; when the server closes it, come back a second later
    (slowloris tools reopen dropped sockets every few seconds; this is harsher)."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        opened[0] += 1
        try:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(60):
                    while not stop.is_set() and await reader.read(1024):
                        pass
        except OSError:
            pass
        finally:
            writer.close()
        await asyncio.sleep(1.0)


async def test_a_slowloris_under_a_low_fd_limit_leaves_requests_answered_in_3_s(
    fake: FakeSlackApi, tmp_path: Path
) -> None:
    server = LimitedServe(
        f"sqlite:///{tmp_path / 'touchbase.db'}",
        fake.base_url,
        tmp_path,
        extra_env={"LOG_LEVEL": "INFO", "TOUCHBASE_HTTP_IDLE_TIMEOUT": "15"},
    )
    await server.start()
    stop = asyncio.Event()
    opened = [0]
    attack = [asyncio.create_task(slow_client(server.port, stop, opened)) for _ in range(ATTACKERS)]
    latencies: list[float] = []
    try:
        await asyncio.sleep(3)  # let the attack fill every slot
        assert opened[0] >= FD_LIMIT  # more than the server could ever hold at once
        timeout = aiohttp.ClientTimeout(total=3)
        async with aiohttp.ClientSession(
            timeout=timeout, connector=aiohttp.TCPConnector(force_close=True)
        ) as http:
            oauth = f"{server.url}/slack/oauth_redirect?code=SECRETCODE&state=SECRETSTATE"
            async with http.get(oauth) as response:
                assert response.status == 404  # one bot token: no OAuth routes, still logged
            for _ in range(20):
                started = time.monotonic()
                async with http.get(f"{server.url}/healthz") as response:
                    assert response.status == 200
                latencies.append(time.monotonic() - started)
                await asyncio.sleep(0.25)
    finally:
        stop.set()
        for task in attack:
            task.cancel()
        await asyncio.gather(*attack, return_exceptions=True)
        server.terminate()
        assert server.proc is not None
        server.proc.wait(timeout=20)
    assert server.log_path is not None
    log_size = server.log_path.stat().st_size
    logged = server.log_path.read_text()
    assert "GET /slack/oauth_redirect 404" in logged
    assert "SECRETCODE" not in logged and "SECRETSTATE" not in logged
    print(
        f"slowloris: {ATTACKERS} connections ({opened[0]} opened) under a {FD_LIMIT} fd limit; "
        f"normal requests max {max(latencies):.3f} s; log {log_size} bytes"
    )
    assert max(latencies) < 3.0
    assert log_size < 200_000


async def test_slow_headers_are_closed_and_a_slow_body_gets_408(
    fake: FakeSlackApi, tmp_path: Path
) -> None:
    server = LimitedServe(
        f"sqlite:///{tmp_path / 'touchbase.db'}",
        fake.base_url,
        tmp_path,
        extra_env={"TOUCHBASE_HTTP_IDLE_TIMEOUT": "1", "TOUCHBASE_HTTP_BODY_TIMEOUT": "1"},
    )
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
        await writer.drain()
        started = time.monotonic()
        async with asyncio.timeout(10):
            assert await reader.read() == b""  # closed by the server
        assert time.monotonic() - started < 5
        writer.close()

        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
            b"command=%2Ftouch"
        )
        await writer.drain()
        started = time.monotonic()
        async with asyncio.timeout(10):
            answer = await reader.readuntil(b"\r\n\r\n")
            answer += await reader.read(200)
        assert time.monotonic() - started < 5
        assert answer.startswith(b"HTTP/1.1 408")
        assert b"body_timeout" in answer
        writer.close()
    finally:
        server.terminate()
        assert server.proc is not None
        server.proc.wait(timeout=20)
