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
    auth_configuration,
    authenticate,
    sdk_configuration,
)
from adapters.agents.bot import TouchbaseAgent, message_activity
from adapters.agents.messenger import AgentsMessenger
from adapters.ports import Services
from adapters.teams import limits
from adapters.teams.endpoint import ROUTE, read_activity_json, turn_error_handler
from adapters.teams.guard import TeamsConfigurationError, Unauthorized, check_settings
from adapters.teams.limits import ConversationLimiter
from adapters.teams.turn import TeamsTurns

__all__ = ["AGENTS", "AgentsRuntime", "TeamsConfigurationError", "build_agents", "mount"]


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
        connections = connections or DevelopmentConnections()
    adapter = CloudAdapter(
        connection_manager=connections, channel_service_client_factory=QuickClients(connections)
    )

    adapter.on_turn_error = turn_error_handler(message_activity)
    messenger = AgentsMessenger(adapter, teams.id, limiter=limiter)
    turns = TeamsTurns(
        services.app, services.directory, messenger, development=settings.env == "development"
    )
    bot = TouchbaseAgent(turns)
    return AgentsRuntime(adapter, bot, messenger, auth)


def mount(app: web.Application, runtime: AgentsRuntime) -> AgentsRuntime:
    """Add ``POST /api/messages``, answered by the runtime's adapter and bot."""
    adapter, bot = runtime.adapter, runtime.bot

    async def messages(request: web.Request) -> web.StreamResponse:
        body = await read_activity_json(request, auth_required=runtime.auth is not None)
        if isinstance(body, web.Response):
            return body
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
