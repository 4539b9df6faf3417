"""Microsoft Teams: ``POST /api/messages`` through botbuilder's CloudAdapter, and proactive DMs.

``build_teams(services)`` makes the adapter, the bot and the messenger (no HTTP route: the
`touchbase digest` command needs only the messenger); ``mount(app, runtime)`` adds the route.
The root builds Teams when ``MICROSOFT_APP_ID`` is set, or with ``TOUCHBASE_ENV=development``
(the Bot Framework Emulator, which sends no token). Without an app id outside development it
refuses to start. botbuilder is imported only in this package, so the rest of the code base
does not depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from botbuilder.core import TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import ServiceClientCredentialsFactory

from adapters.ports import Services
from adapters.teams.auth import authenticate, build_authentication
from adapters.teams.bot import RAW_ACTIVITY, TouchbaseTeamsBot, message_activity
from adapters.teams.endpoint import ROUTE, read_activity_json, turn_error_handler
from adapters.teams.guard import TeamsConfigurationError, Unauthorized
from adapters.teams.messenger import ConversationLimiter, TeamsMessenger
from adapters.teams.turn import TeamsTurns

__all__ = ["TEAMS", "TeamsConfigurationError", "TeamsRuntime", "build_teams", "mount"]


@dataclass
class TeamsRuntime:
    adapter: CloudAdapter
    bot: TouchbaseTeamsBot
    messenger: TeamsMessenger
    # every request must carry a token (False only for the Emulator, in development)
    auth_required: bool = True


TEAMS: web.AppKey[TeamsRuntime] = web.AppKey("teams", TeamsRuntime)


def build_teams(
    services: Services,
    *,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
    limiter: ConversationLimiter | None = None,
) -> TeamsRuntime:
    """The CloudAdapter, the bot and the Teams messenger; no HTTP route.

    Raises :class:`TeamsConfigurationError` when the settings are unsafe (no app id outside
    development) or incomplete. ``credentials_factory`` and ``limiter`` are for tests.
    """
    settings = services.settings
    authentication = build_authentication(settings, credentials_factory=credentials_factory)
    adapter = CloudAdapter(authentication)

    adapter.on_turn_error = turn_error_handler(message_activity)
    messenger = TeamsMessenger(adapter, settings.teams.id, limiter=limiter)
    turns = TeamsTurns(
        services.app, services.directory, messenger, development=settings.env == "development"
    )
    bot = TouchbaseTeamsBot(turns)
    return TeamsRuntime(adapter, bot, messenger, auth_required=bool(settings.teams.id))


def mount(app: web.Application, runtime: TeamsRuntime) -> TeamsRuntime:
    """Add ``POST /api/messages``, answered by the runtime's adapter and bot."""
    adapter, bot = runtime.adapter, runtime.bot

    async def messages(request: web.Request) -> web.StreamResponse:
        body = await read_activity_json(request, auth_required=runtime.auth_required)
        if isinstance(body, web.Response):
            return body
        try:
            activity = Activity().deserialize(body)
        except Exception:
            return web.Response(status=400, text="not an activity")
        if not activity.type:
            return web.Response(status=400, text="not an activity")
        header = request.headers.get("Authorization", "")
        try:
            result = await authenticate(adapter.bot_framework_authentication, activity, header)
        except Unauthorized:
            return web.Response(status=401)

        async def logic(turn_context: TurnContext) -> None:
            turn_context.turn_state[RAW_ACTIVITY] = body
            await bot.on_turn(turn_context)

        invoke = await adapter.process_activity(result, activity, logic)
        if invoke is not None:
            body = invoke.body if invoke.body is not None else {}
            if not isinstance(
                body, dict | list
            ):  # an SDK model, e.g. an AdaptiveCardInvokeResponse
                body = serializer_helper(body)
            return web.json_response(body, status=invoke.status or 200)
        if activity.type == "invoke":  # the bot answers every invoke; this is a safety net
            return web.json_response({}, status=200)
        return web.Response(status=201)

    app.router.add_post(ROUTE, messages)
    app[TEAMS] = runtime
    return runtime
