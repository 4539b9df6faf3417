"""Slack: slack-bolt behind our aiohttp server (HTTP) or over Socket Mode.

`build_slack(services)` (in `app.py`) builds the bolt app and its listeners, no HTTP route;
`messenger(adapter)` is the Slack Messenger that posts with its clients. `mount(app, adapter)`
routes `POST /slack/events` (commands, events, interactivity and options share one URL) and,
with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, `GET /slack/install` and `GET /slack/oauth_redirect`.
`start_socket_mode(app, services)` is a start-up hook that connects over Socket Mode when
SLACK_APP_TOKEN is set, and returns the function that disconnects.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from adapters.ports import Services
from adapters.slack.app import SlackAdapter, build_slack, make_client, quiet_logger
from adapters.slack.messenger import SlackMessenger

log = logging.getLogger(__name__)

SLACK: web.AppKey[SlackAdapter] = web.AppKey("slack", SlackAdapter)
EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def messenger(adapter: SlackAdapter) -> SlackMessenger:
    """The Messenger port on Slack, posting with the adapter's client for each workspace."""
    return SlackMessenger(adapter.client_for)


def mount(app: web.Application, adapter: SlackAdapter) -> SlackAdapter:
    app[SLACK] = adapter
    settings = adapter.settings
    if settings.http_enabled:
        app.router.add_post(EVENTS_PATH, adapter.handle_http)
        if settings.oauth_enabled:
            app.router.add_get(INSTALL_PATH, adapter.handle_install)
            app.router.add_get(REDIRECT_PATH, adapter.handle_oauth_redirect)
    app.on_startup.append(lambda _app: replay_intake(adapter))
    app.on_cleanup.append(adapter.close)
    return adapter


async def replay_intake(adapter: SlackAdapter) -> None:
    """At start-up, complete in the background what a killed process had answered "Saving…"."""
    adapter.spawn(adapter.replay_intake(), "intake replay")


async def start_socket_mode(
    app: web.Application, services: Services
) -> Callable[[], Awaitable[None]] | None:
    """Connect to Slack over Socket Mode (no public URL); returns the disconnect function."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    settings = services.settings.slack
    if settings.app_token is None:
        return None
    adapter = app.get(SLACK)
    if adapter is None:  # Slack is mounted by the root whenever it is configured
        return None
    handler = AsyncSocketModeHandler(
        adapter.bolt,
        app_token=settings.app_token.get_secret_value(),
        web_client=make_client(settings),
        logger=quiet_logger("adapters.slack.socket_mode", logging.WARNING),
    )
    await handler.connect_async()  # type: ignore[no-untyped-call]
    log.info("Slack Socket Mode connected", extra={"platform": "slack"})

    async def stop() -> None:
        await handler.close_async()  # type: ignore[no-untyped-call]
        await adapter.drain()

    return stop


__all__ = ["SLACK", "SlackAdapter", "build_slack", "messenger", "mount", "start_socket_mode"]
