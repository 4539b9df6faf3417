"""`touchbase serve`: one aiohttp server for every configured platform, plus /healthz.

The platforms are built (with their messengers) by `app.platforms`; here each one's routes
are mounted, then the web chat and dashboard, which are always served.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler

from app.bootstrap import Services, bootstrap
from app.platforms import Platforms, build_platforms, mount_teams
from app.settings import Settings
from bot.domain import LOCAL_PLATFORM
from store.db import ping

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
    ident = given if _GIVEN_ID.match(given) else uuid.uuid4().hex[:12]
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


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    ok = await ping(services.engine)
    return web.json_response(
        {"ok": ok, "database": "ok" if ok else "unreachable"}, status=200 if ok else 503
    )


def create_app(
    services: Services,
    *,
    hooks: list[StartHook] | None = None,
    platforms: Platforms | None = None,
) -> web.Application:
    """The aiohttp application, with every configured platform mounted."""
    app = web.Application(client_max_size=1024 * 1024, middlewares=[request_id])
    app[SERVICES] = services
    app.router.add_get("/healthz", healthz)
    if platforms is None:
        platforms = build_platforms(services)
    if platforms.slack is not None:
        from adapters.slack.runtime import mount as mount_slack

        mount_slack(app, platforms.slack)
    if platforms.teams is not None:
        mount_teams(app, platforms)
    from adapters.web import WebMessenger
    from adapters.web import mount as mount_web  # always: the chat at / and /dashboard

    web_messenger = WebMessenger()
    services.add_messenger(LOCAL_PLATFORM, web_messenger)
    mount_web(app, services, web_messenger)
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


async def serve(settings: Settings, *, on_ready: Callable[[], None] | None = None) -> int:
    services = await bootstrap(settings)
    app = create_app(services, hooks=default_hooks(settings))
    runner = web.AppRunner(app, handle_signals=False, access_log_class=AccessLog)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    log.info("Touchbase is listening on http://%s:%s", settings.host, settings.port)
    if on_ready is not None:
        on_ready()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("Shutting down: finishing requests in flight")
    await runner.cleanup()  # stops accepting, drains in-flight requests, runs on_cleanup
    await services.close()
    return 0
