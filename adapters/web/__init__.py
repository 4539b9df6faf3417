"""The web platform: a chat page at / and the firm dashboard at /dashboard, served by
`touchbase serve` beside Slack and Teams. See auth.py for who may use them."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from adapters.ports import Services
from adapters.web import chat, dashboard
from adapters.web.auth import (
    Guard,
    SessionStore,
    WebAccessError,
    check_bind,
    security_headers,
)
from adapters.web.chat import WebMessenger

STATIC = Path(__file__).parent / "static"
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}

__all__ = ["WebAccessError", "WebMessenger", "check_bind", "mount"]


async def static_file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name == "plotly.min.js":
        path = dashboard.plotly_js()
        cache = "public, max-age=86400"
    else:
        candidate = STATIC / name
        path = candidate if "/" not in name and candidate.is_file() else None
        cache = "no-cache"
    if path is None or path.suffix not in _TYPES:
        raise web.HTTPNotFound()
    response = web.FileResponse(
        path, headers={"Content-Type": _TYPES[path.suffix], "Cache-Control": cache}
    )
    security_headers(response)
    return response


def mount(
    app: web.Application, services: Services, messenger: WebMessenger, sessions: SessionStore
) -> None:
    """Add the web chat, the dashboard and their sign-in to the server. What the core sends to
    the web chat's people goes to `messenger`'s inboxes (the root registers it with the core);
    signed-in sessions and failed sign-ins are kept in `sessions`.

    Raises WebAccessError when bound beyond localhost without TOUCHBASE_WEB_PASSWORD."""
    guard = Guard(services.settings, sessions)
    chat.add_routes(app, services, guard, messenger)
    dashboard.add_routes(app, services, guard)
    app.router.add_get("/login", guard.login_page)
    app.router.add_post("/login", guard.login)
    app.router.add_post("/logout", guard.logout)
    app.router.add_get("/static/{name}", static_file)
