"""`touchbase serve`: one aiohttp server for every configured platform, plus /healthz.

The platforms are built (with their messengers) by `app.platforms`; here each one's routes
are mounted, then the web chat and dashboard, which are always served.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import re
import signal
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler

from app.bootstrap import Services, bootstrap
from app.http_limits import (
    HANDLER_LIMITS,
    Listener,
    connection_cap,
    install_body_timeout,
    rate_limit_noisy_loggers,
)
from app.platforms import Platforms, build_platforms
from app.settings import Settings
from bot.domain import LOCAL_PLATFORM
from store.db import describe, ping, upgrade, write_problem
from store.web_sessions import SqlWebSessions

log = logging.getLogger(__name__)

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)

# Start-up hooks other parts register (the scheduler, Socket Mode): each gets the app and
# returns an async cleanup function.
StartHook = Callable[[web.Application, Services], Awaitable[Callable[[], Awaitable[None]] | None]]


REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id", str)
_GIVEN_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
_QUIET = ("/static/", "/healthz")


@web.middleware
async def request_id(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every request gets an id: the caller's X-Request-Id when it is a plain token (the web chat
    sends the one it files the command under), a fresh one otherwise. It is sent back in the
    response's X-Request-Id and ends the request's access-log line."""
    given = request.headers.get("X-Request-Id", "")
    ident = given if _GIVEN_ID.match(given) else os.urandom(6).hex()
    request[REQUEST_ID] = ident
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers["X-Request-Id"] = ident
        raise
    if not response.prepared:
        response.headers["X-Request-Id"] = ident
    return response


class AccessLog(AbstractAccessLogger):
    """One short line a request: method, path, status, milliseconds, request id. The path goes
    without its query (an OAuth code or a search can be in it) and as sent, still %-encoded, so
    a path cannot start a line of its own. Static files and health checks log at DEBUG."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path = request.rel_url.raw_path
        quiet = path.startswith(_QUIET) and response.status < 400
        level = logging.DEBUG if quiet else logging.INFO
        if not self.logger.isEnabledFor(level):
            return
        ident = request.get(REQUEST_ID) or response.headers.get("X-Request-Id", "-")
        self.logger.log(
            level,
            "%s %s %s %d ms id=%s",
            request.method,
            path,
            response.status,
            round(time * 1000),
            ident,
        )


class DatabaseNotWritable(RuntimeError):
    """The database answers but cannot be written: said in one line, and nothing is served."""


class WriteHealth:
    """Whether the database takes writes, probed at most once every ``every`` seconds (a load
    balancer may ask many times a second)."""

    def __init__(self, every: float = 2.0) -> None:
        self.every = every
        self._checked = -every
        self._problem: str | None = None
        self._lock = asyncio.Lock()

    async def problem(self, services: Services) -> str | None:
        async with self._lock:
            now = time.monotonic()
            if now - self._checked >= self.every:
                self._problem = await write_problem(services.engine)
                self._checked = time.monotonic()
            return self._problem


WRITE_HEALTH: web.AppKey[WriteHealth] = web.AppKey("write_health", WriteHealth)


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers and takes writes; 503 (with which failed) otherwise."""
    services = request.app[SERVICES]
    if not await ping(services.engine):
        return web.json_response(
            {"ok": False, "database": "unreachable", "writes": "unknown"}, status=503
        )
    problem = await request.app[WRITE_HEALTH].problem(services)
    if problem is not None:
        log.warning("health check: the database cannot be written: %s", problem)
        return web.json_response(
            {"ok": False, "database": "ok", "writes": "failing", "reason": problem}, status=503
        )
    return web.json_response({"ok": True, "database": "ok", "writes": "ok"})


async def refuse_unwritable(services: Services) -> None:
    """Raise :class:`DatabaseNotWritable` when the database cannot take a write, saying why."""
    problem = await write_problem(services.engine)
    if problem is not None and _busy(problem):
        # Another process is writing (an import, a stalled transaction): that passes, and the
        # server queues its own writes behind it rather than refusing to start.
        log.warning("the database is busy at start-up (%s); starting anyway", problem)
        return
    if problem is not None:
        raise DatabaseNotWritable(
            f"Touchbase cannot write to its database ({describe(services.settings.database_url)})"
            f": {problem}. Check the file's permissions and free disk space (or the server's "
            "read-only setting) and start again."
        )


def _busy(problem: str) -> bool:
    lowered = problem.casefold()
    return "database is locked" in lowered or "lock timeout" in lowered or "deadlock" in lowered


def create_app(
    services: Services,
    *,
    hooks: list[StartHook] | None = None,
    platforms: Platforms | None = None,
) -> web.Application:
    """The aiohttp application, with every configured platform mounted."""
    app = web.Application(client_max_size=1024 * 1024, middlewares=[request_id])
    app[SERVICES] = services
    app[WRITE_HEALTH] = WriteHealth()
    app.router.add_get("/healthz", healthz)
    if platforms is None:
        platforms = build_platforms(services)
    platforms.mount(app)
    from adapters.web import WebMessenger
    from adapters.web import mount as mount_web  # always: the chat at / and /dashboard

    web_messenger = WebMessenger()
    services.add_messenger(LOCAL_PLATFORM, web_messenger)
    mount_web(app, services, web_messenger, SqlWebSessions(services.store))
    install_body_timeout(app, services.settings.http_body_timeout)
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def on_startup(app: web.Application) -> None:
        for hook in hooks or ():
            cleanup = await hook(app, services)
            if cleanup is not None:
                cleanups.append(cleanup)

    async def on_cleanup(app: web.Application) -> None:
        for cleanup in reversed(cleanups):
            try:
                await cleanup()
            except Exception:
                log.exception("shutdown step failed")

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def default_hooks(settings: Settings) -> list[StartHook]:
    hooks: list[StartHook] = []
    if settings.slack.socket_mode:
        from adapters.slack.runtime import start_socket_mode

        hooks.append(start_socket_mode)
    if settings.scheduler_enabled:
        from scheduler import start_scheduler

        hooks.append(start_scheduler)
    return hooks


# Allocations between young collections: the default (700) runs one every few requests. The
# older generations keep Python's defaults.
GC_YOUNG_THRESHOLD = 20_000


def tune_gc() -> None:
    """Once, when start-up is over (before the port opens): everything built so far (modules, the app, the platforms'
    clients) lives as long as the process, so it is moved out of the collector's sight
    (`gc.freeze`) and no full collection ever walks it again; young collections run less often.
    Measured before this: full collections of 60 to 70 ms made most of the p99 under load."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


async def serve(settings: Settings, *, on_ready: Callable[[], None] | None = None) -> int:
    # Whether the database takes writes is checked before migrating, so that a read-only file
    # is said in one line rather than as a migration's traceback.
    services = await bootstrap(settings, migrate=False)
    try:
        await refuse_unwritable(services)
        await upgrade(services.engine)
    except BaseException:
        await services.close()
        raise
    app = create_app(services, hooks=default_hooks(settings))
    rate_limit_noisy_loggers()
    runner = web.AppRunner(
        app,
        handle_signals=False,
        keepalive_timeout=settings.http_idle_timeout,
        access_log_class=AccessLog,
        **HANDLER_LIMITS,
    )
    await runner.setup()
    assert runner.server is not None
    try:
        listener = Listener(
            app,
            runner.server,
            settings.host,
            settings.port,
            connection_cap(settings.http_max_connections),
        )
    except OSError:
        await runner.cleanup()
        raise
    listener.start()
    tune_gc()
    log.info("Touchbase is listening on http://%s:%s", settings.host, settings.port)
    if on_ready is not None:
        on_ready()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("Shutting down: finishing requests in flight")
    await listener.stop()
    await runner.cleanup()  # stops accepting, drains in-flight requests, runs on_cleanup
    await services.close()
    return 0
