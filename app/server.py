"""`touchbase serve`: one aiohttp server for every configured platform, plus /healthz.

The platforms are built (with their messengers) by `app.platforms`; here each one's routes
are mounted, then the web chat and dashboard, which are always served.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web

from app.bootstrap import Services, bootstrap
from app.http_limits import (
    HANDLER_LIMITS,
    Listener,
    PathOnlyAccessLogger,
    connection_cap,
    install_body_timeout,
    rate_limit_noisy_loggers,
)
from app.platforms import Platforms, build_platforms, mount_teams
from app.settings import Settings
from bot.domain import LOCAL_PLATFORM
from store.db import ping

log = logging.getLogger(__name__)

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)

# Start-up hooks other parts register (the scheduler, Socket Mode): each gets the app and
# returns an async cleanup function.
StartHook = Callable[[web.Application, Services], Awaitable[Callable[[], Awaitable[None]] | None]]


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
    app = web.Application(client_max_size=1024 * 1024)
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


async def serve(settings: Settings, *, on_ready: Callable[[], None] | None = None) -> int:
    services = await bootstrap(settings)
    app = create_app(services, hooks=default_hooks(settings))
    rate_limit_noisy_loggers()
    runner = web.AppRunner(
        app,
        handle_signals=False,
        keepalive_timeout=settings.http_idle_timeout,
        access_log_class=PathOnlyAccessLogger,
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
