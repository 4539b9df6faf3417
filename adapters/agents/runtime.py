"""Microsoft Teams on the Microsoft 365 Agents SDK: ``POST /api/messages`` and proactive DMs.

Chosen with ``TOUCHBASE_TEAMS_SDK=agents``; the root then imports this package and never
botbuilder. ``build_agents(services)`` makes the SDK's ``CloudAdapter``, the bot and the
messenger (no HTTP route: `touchbase digest` needs only the messenger); ``mount(app, runtime)``
adds the route. The same settings, endpoint and development mode as the botbuilder adapter.

Each request is read and checked here before the SDK sees it: JSON of at most 256 KB, an
activity, then a valid token for it (:func:`adapters.agents.auth.authenticate`: every failure
a 401). The SDK then runs the turn; an invoke is answered with its invoke response.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web
from microsoft_agents.activity import Activity
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    AgentAuthConfiguration,
    ClaimsIdentity,
    Connections,
    RestChannelServiceClientFactory,
)
from pydantic import ValidationError

from adapters.agents.auth import (
    DevelopmentConnections,
    TeamsConfigurationError,
    Unauthorized,
    auth_configuration,
    authenticate,
    check_settings,
    looks_like_bearer,
    sdk_configuration,
)
from adapters.agents.bot import TouchbaseAgent, message_activity
from adapters.agents.messenger import AgentsMessenger
from adapters.ports import Services
from adapters.teams import limits
from adapters.teams.limits import ConversationLimiter
from bot.messages import Message, Tone

__all__ = ["AGENTS", "AgentsRuntime", "TeamsConfigurationError", "build_agents", "mount"]

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
MAX_BODY = 256 * 1024

SORRY = Message(
    text="Something went wrong on our side. Please try again in a minute.", tone=Tone.ERROR
)


@dataclass
class AgentsRuntime:
    adapter: CloudAdapter
    bot: TouchbaseAgent
    messenger: AgentsMessenger
    auth: AgentAuthConfiguration | None  # None: development mode, no inbound check


AGENTS: web.AppKey[AgentsRuntime] = web.AppKey("teams_agents", AgentsRuntime)


class QuickClients(RestChannelServiceClientFactory):
    """Connector clients whose calls to a serviceUrl time out quickly.

    The SDK's aiohttp session waits up to 300 s for an answer; an unreachable serviceUrl would
    hold the request that long. The SDK does not retry; nor do we inside a request (retries
    belong to the outbox, :mod:`adapters.teams.limits`).
    """

    async def create_connector_client(self, *args: Any, **kwargs: Any) -> Any:
        client = await super().create_connector_client(*args, **kwargs)
        session = getattr(client, "client", None)
        if isinstance(session, ClientSession):
            # the session is made inside the SDK; its timeout is read at each request
            session._timeout = ClientTimeout(
                total=limits.CONNECT_TIMEOUT + limits.READ_TIMEOUT,
                connect=limits.CONNECT_TIMEOUT,
                sock_read=limits.READ_TIMEOUT,
            )
        return client


def build_agents(
    services: Services,
    *,
    connections: Connections | None = None,
    limiter: ConversationLimiter | None = None,
) -> AgentsRuntime:
    """The SDK's CloudAdapter, the bot and the Teams messenger; no HTTP route.

    Raises :class:`TeamsConfigurationError` when the settings are unsafe (no app id outside
    development) or incomplete. ``connections`` replaces how outbound tokens are obtained
    (tests use a local issuer); by default MSAL, from the mapped configuration.
    """
    settings = services.settings
    check_settings(settings)
    teams = settings.teams
    auth: AgentAuthConfiguration | None = None
    if teams.id:
        auth = auth_configuration(teams)
        if connections is None:
            connections = MsalConnectionManager(**sdk_configuration(teams))
    else:
        log.warning(
            "Teams runs WITHOUT authentication (TOUCHBASE_ENV=development, no MICROSOFT_APP_ID): "
            "for the Bot Framework Emulator only"
        )
        connections = connections or DevelopmentConnections()
    adapter = CloudAdapter(
        connection_manager=connections, channel_service_client_factory=QuickClients(connections)
    )

    async def on_turn_error(turn_context: Any, error: Exception) -> None:
        if limits.unreachable(error):  # an apology would wait on the same connector again
            log.warning(
                "Teams turn failed: the connector is unreachable (%s)", type(error).__name__
            )
            return
        log.error("Teams turn failed: %s", type(error).__name__, exc_info=error)
        try:
            await turn_context.send_activity(message_activity(SORRY))
        except Exception as again:  # the connector itself may be what failed
            log.warning("could not tell the user about it: %s", type(again).__name__)

    adapter.on_turn_error = on_turn_error
    messenger = AgentsMessenger(adapter, teams.id, limiter=limiter)
    bot = TouchbaseAgent(
        services.app, services.directory, messenger, development=settings.env == "development"
    )
    return AgentsRuntime(adapter, bot, messenger, auth)


def mount(app: web.Application, runtime: AgentsRuntime) -> AgentsRuntime:
    """Add ``POST /api/messages``, answered by the runtime's adapter and bot."""
    adapter, bot = runtime.adapter, runtime.bot

    async def messages(request: web.Request) -> web.StreamResponse:
        if runtime.auth is not None and not looks_like_bearer(request.headers.get("Authorization")):
            return web.json_response({"ok": False, "error": "not_authorized"}, status=401)
        if request.content_type != "application/json":
            return web.Response(status=415, text="expected application/json")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413)
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if not isinstance(body, dict):
            return web.Response(status=400, text="not an activity")
        header = request.headers.get("Authorization")
        if runtime.auth is not None:
            try:
                identity = await authenticate(runtime.auth, body, header)
            except Unauthorized:
                return web.Response(status=401)
        elif header:
            # Development: no token is checked, but a request that sends one expects it to be.
            return web.Response(status=401)
        else:
            identity = ClaimsIdentity()
        try:
            activity = Activity.model_validate(body)
        except ValidationError:
            return web.Response(status=400, text="not an activity")
        if not activity.type or activity.conversation is None or not activity.conversation.id:
            return web.Response(status=400, text="not an activity")
        invoke = await adapter.process_activity(identity, activity, bot.on_turn)
        if activity.type == "invoke":
            if invoke is None:  # the bot answers every invoke; this is a safety net
                return web.json_response({}, status=200)
            return web.json_response(invoke.body or {}, status=int(invoke.status or 200))
        return web.Response(status=201)

    app.router.add_post(ROUTE, messages)
    app[AGENTS] = runtime
    return runtime
