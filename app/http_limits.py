"""What keeps `touchbase serve` answering when clients misbehave.

aiohttp closes a connection that has sent no complete request within its keep-alive timeout
(the timer starts at accept), but nothing stops a thousand such connections from taking every
file descriptor first: then `accept()` fails with EMFILE, every real request waits, and asyncio
logs the failure on each retry. So:

- a connection cap below the open-file limit; past it, the oldest connection not in a request
  (half-sent headers, or idle keep-alive) is closed to make room for the new one;
- a request body must arrive within ``http_body_timeout`` of its headers (408 otherwise);
- header lines and fields are bounded (aiohttp's parser, 8 KiB each, 64 headers);
- the same client error, or the same accept failure, is logged at most once a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_server import Server

log = logging.getLogger(__name__)

# How long a new connection may be silent before it may be closed to make room.
MIN_IDLE_AGE = 0.25
# File descriptors kept back from the cap: the database, log files, the intake journal, DNS.
FD_RESERVE = 64
HANDLER_LIMITS: dict[str, Any] = {
    "max_line_size": 8190,
    "max_field_size": 8190,
    "max_headers": 64,
    # after an answer sent before the whole body came, wait this long for the rest, not 10 s
    "lingering_time": 2.0,
}
_BUSY: web.AppKey[set[RequestHandler]] = web.AppKey("busy_connections", set)


def connection_cap(configured: int) -> int:
    """The configured cap, lowered to fit under the process's open-file limit."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(8, min(configured, int(soft) - FD_RESERVE))


def install_body_timeout(app: web.Application, seconds: float) -> None:
    """Every request body read within ``seconds`` of its headers, before any handler runs
    (handlers then read it from memory); and each connection marked busy while it is handled,
    so the connection cap never closes a request in progress."""
    busy: set[RequestHandler] = set()
    app[_BUSY] = busy

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        protocol = request.protocol
        busy.add(protocol)
        try:
            # A body already received in full (most are: they come with the headers) is
            # read at once; only one still arriving is timed.
            if request.can_read_body and not request.content.is_eof():
                try:
                    async with asyncio.timeout(seconds):
                        await request.read()
                except TimeoutError:
                    _CLIENT_ERRORS.note("a request body was not sent in time")
                    return web.json_response(
                        {"ok": False, "error": "body_timeout"},
                        status=408,
                        headers={"Connection": "close"},
                    )
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            busy.discard(protocol)

    app.middlewares.insert(0, guard)


class Listener:
    """Accepts connections one at a time, never past ``cap`` open at once.

    asyncio's own server accepts a whole backlog in one go and only then creates protocols, so
    a flood of connections exhausts the open-file limit before anything can react. Here, when
    the cap is reached, the oldest connection not in a request (half-sent headers, or idle
    keep-alive) is closed first; while every one is busy, new connections wait in the backlog.
    """

    def __init__(
        self, app: web.Application, server: Server, host: str, port: int, cap: int
    ) -> None:
        self._busy = app[_BUSY]
        self._server = server
        self._cap = cap
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.create_server((host, port), family=family, backlog=min(cap, 1024))
        self._sock.setblocking(False)
        self._open: list[tuple[asyncio.BaseTransport, RequestHandler, float]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._accept_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._sock.close()

    def _still_open(self) -> int:
        self._open = [(t, h, at) for t, h, at in self._open if _fd(t) != -1]
        return len(self._open)

    async def _make_room(self) -> None:
        while self._still_open() >= self._cap:
            # A connection gets a moment to send its request before it counts as idle: a
            # real client's headers arrive at once, and it is then busy, never closed.
            young = time.monotonic() - MIN_IDLE_AGE
            idle = [
                h
                for t, h, at in self._open
                if at < young and not t.is_closing() and h not in self._busy
            ]
            if idle:
                for handler in idle[: max(1, len(self._open) - self._cap + 1)]:
                    handler.force_close()
                _CLIENT_ERRORS.note("too many connections: the oldest idle ones were closed")
            await asyncio.sleep(0 if idle else 0.01)

    async def _accept_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._make_room()
            try:
                conn, _addr = await loop.sock_accept(self._sock)
            except OSError as error:  # EMFILE from something else holding files, ECONNABORTED
                _CLIENT_ERRORS.note(f"accept failed: {error.strerror}")
                await asyncio.sleep(0.05)
                continue
            conn.setblocking(False)
            try:
                transport, handler = await loop.connect_accepted_socket(self._server, conn)
            except OSError:
                conn.close()
                continue
            self._open.append((transport, handler, time.monotonic()))


def _fd(transport: asyncio.BaseTransport) -> int:
    sock = transport.get_extra_info("socket")
    return -1 if sock is None else int(sock.fileno())


class RateLimited(logging.Filter):
    """Lets each distinct message through at most once per ``every`` seconds, then says how
    many like it were dropped."""

    def __init__(self, every: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.every = every
        self.clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._dropped: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            self._dropped[key] = self._dropped.get(key, 0) + 1
            return False
        if len(self._last) > 1000:
            self._last.clear()
        self._last[key] = now
        dropped = self._dropped.pop(key, 0)
        if dropped:
            record.msg = f"{record.msg} (and {dropped} more like it in the last minute)"
        return True


class _ClientErrors:
    def __init__(self) -> None:
        self._filter = RateLimited()

    def note(self, what: str) -> None:
        record = log.makeRecord(log.name, logging.WARNING, __file__, 0, what, (), None)
        if self._filter.filter(record):
            log.handle(record)


_CLIENT_ERRORS = _ClientErrors()


def rate_limit_noisy_loggers() -> None:
    """asyncio's accept-failure line and aiohttp's bad-request lines, once a minute each."""
    for name in ("asyncio", "aiohttp.server"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RateLimited) for f in logger.filters):
            logger.addFilter(RateLimited())
