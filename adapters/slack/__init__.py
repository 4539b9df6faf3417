"""Slack: slack-bolt behind our aiohttp server (HTTP) or over Socket Mode.

`mount(app, services)` builds the bolt app, routes `POST /slack/events` (commands, events,
interactivity and options share one URL) and, with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET,
`GET /slack/install` and `GET /slack/oauth_redirect`; it also registers the Slack Messenger.
`start_socket_mode(app, services)` is a start-up hook that connects over Socket Mode when
SLACK_APP_TOKEN is set, and returns the function that disconnects.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from adapters.bootstrap import Services
from adapters.slack.app import ACK_BUDGET, SlackAdapter, build_slack, make_client, quiet_logger
from adapters.slack.messenger import SlackMessenger
from bot.domain import Platform

log = logging.getLogger(__name__)

SLACK: web.AppKey[SlackAdapter] = web.AppKey("slack", SlackAdapter)
EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def mount(
    app: web.Application, services: Services, *, ack_budget: float = ACK_BUDGET
) -> SlackAdapter:
    adapter = build_slack(services, ack_budget=ack_budget)
    app[SLACK] = adapter
    settings = services.settings.slack
    if settings.http_enabled:
        app.router.add_post(EVENTS_PATH, adapter.handle_http)
        if settings.oauth_enabled:
            app.router.add_get(INSTALL_PATH, adapter.handle_install)
            app.router.add_get(REDIRECT_PATH, adapter.handle_oauth_redirect)
    services.add_messenger(Platform.SLACK, SlackMessenger(adapter.client_for))
    app.on_cleanup.append(adapter.close)
    return adapter


async def start_socket_mode(
    app: web.Application, services: Services
) -> Callable[[], Awaitable[None]] | None:
    """Connect to Slack over Socket Mode (no public URL); returns the disconnect function."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    settings = services.settings.slack
    if settings.app_token is None:
        return None
    adapter = app.get(SLACK) or build_slack(services)
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


__all__ = ["SLACK", "SlackAdapter", "mount", "start_socket_mode"]
