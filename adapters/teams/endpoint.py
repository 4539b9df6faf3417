"""What both Teams adapters' ``POST /api/messages`` do the same way, without either SDK: the
checks a request passes before its SDK sees it, and what a failed turn tells the user."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from adapters.teams import limits
from adapters.teams.guard import looks_like_bearer
from bot.messages import Message, Tone

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
MAX_BODY = 256 * 1024

SORRY = Message(
    text="Something went wrong on our side. Please try again in a minute.", tone=Tone.ERROR
)


async def read_activity_json(
    request: web.Request, *, auth_required: bool
) -> dict[str, Any] | web.Response:
    """The request's JSON object, or the answer that refuses it: 401 without a well-formed
    bearer header (when one is required), 415 for another content type, 413 past
    :data:`MAX_BODY`, 400 for what is not a JSON object."""
    if auth_required and not looks_like_bearer(request.headers.get("Authorization")):
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
    return body


def turn_error_handler(
    message_activity: Callable[[Message], Any],
) -> Callable[[Any, Exception], Awaitable[None]]:
    """The adapter's ``on_turn_error``: log the failure and apologise, unless the connector
    itself is unreachable (an apology would wait on it again)."""

    async def on_turn_error(turn_context: Any, error: Exception) -> None:
        if limits.unreachable(error):
            log.warning(
                "Teams turn failed: the connector is unreachable (%s)", type(error).__name__
            )
            return
        log.error("Teams turn failed: %s", type(error).__name__, exc_info=error)
        try:
            await turn_context.send_activity(message_activity(SORRY))
        except Exception as again:  # the connector itself may be what failed
            log.warning("could not tell the user about it: %s", type(again).__name__)

    return on_turn_error
