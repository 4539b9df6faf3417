"""A published calendar (an Outlook or Google "secret address in iCal format") on an ephemeral
local port: serves whatever iCalendar text it is given at a secret path, and records requests."""

from __future__ import annotations

import secrets

from aiohttp import web


class FakeCalendarFeed:
    def __init__(self) -> None:
        self.secret = secrets.token_urlsafe(16)
        self.body = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fake//EN\r\nEND:VCALENDAR\r\n"
        self.hits = 0
        self.redirect_to: str | None = None
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["secret"] != self.secret:
            return web.Response(status=404)
        self.hits += 1
        if self.redirect_to:
            raise web.HTTPFound(self.redirect_to)
        return web.Response(text=self.body, content_type="text/calendar")

    async def __aenter__(self) -> FakeCalendarFeed:
        app = web.Application()
        app.router.add_get("/owa/calendar/{secret}/calendar.ics", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/owa/calendar/{self.secret}/calendar.ics"
