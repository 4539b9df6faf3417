"""A local Microsoft Graph and its token endpoint, speaking the documented responses.

- `POST /{tenant}/oauth2/v2.0/token`: the client credentials grant; a wrong secret gets the
  documented `invalid_client` error. Tokens are random and checked on every Graph call.
- `GET /v1.0/users/{id}/calendarView/delta()` (startDateTime, endDateTime) and
  `GET /v1.0/users/{id}/mailFolders/{folder}/messages/delta()`: pages of two items joined by
  `@odata.nextLink`, the last page carrying `@odata.deltaLink`; a delta link returns only what
  changed since, deleted items as `{"id": ..., "@removed": {"reason": "deleted"}}`.
Every request is recorded (path, query, whether it was authorised).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

PAGE = 2


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    authorised: bool


@dataclass
class _Collection:
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)  # id -> sequence of last change
    seq: int = 0

    def put(self, item: dict[str, Any]) -> None:
        self.seq += 1
        self.items[item["id"]] = item
        self.changed[item["id"]] = self.seq

    def remove(self, item_id: str) -> None:
        self.seq += 1
        self.items[item_id] = {"id": item_id, "@removed": {"reason": "deleted"}}
        self.changed[item_id] = self.seq


def graph_event(
    event_id: str,
    start: datetime,
    attendees: list[tuple[str, str]],
    *,
    organizer: tuple[str, str],
    subject: str,
    teams: bool = False,
    cancelled: bool = False,
) -> dict[str, Any]:
    """An event as calendarView returns it."""

    def dtz(at: datetime) -> dict[str, str]:
        return {"dateTime": at.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}

    return {
        "@odata.type": "#microsoft.graph.event",
        "@odata.etag": f'W/"{secrets.token_hex(8)}"',
        "id": event_id,
        "createdDateTime": "2026-11-01T09:00:00.0000000Z",
        "subject": subject,
        "bodyPreview": f"Agenda: {subject}",
        "isAllDay": False,
        "isCancelled": cancelled,
        "isOrganizer": True,
        "isOnlineMeeting": teams,
        "onlineMeetingProvider": "teamsForBusiness" if teams else "unknown",
        "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting"}
        if teams
        else None,
        "type": "singleInstance",
        "start": dtz(start),
        "end": dtz(start.replace(hour=min(start.hour + 1, 23))),
        "location": {"displayName": "", "locationType": "default"},
        "organizer": {"emailAddress": {"name": organizer[0], "address": organizer[1]}},
        "attendees": [
            {
                "type": "required",
                "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
                "emailAddress": {"name": name, "address": address},
            }
            for name, address in attendees
        ],
    }


def graph_message(
    message_id: str,
    at: datetime,
    *,
    sender: tuple[str, str],
    to: list[tuple[str, str]],
    subject: str,
) -> dict[str, Any]:
    """A message with every field a full read would give; `$select` trims it."""
    return {
        "@odata.type": "#microsoft.graph.message",
        "@odata.etag": f'W/"{secrets.token_hex(8)}"',
        "id": message_id,
        "subject": subject,
        "bodyPreview": f"About {subject}",
        "sentDateTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "receivedDateTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "from": {"emailAddress": {"name": sender[0], "address": sender[1]}},
        "toRecipients": [{"emailAddress": {"name": n, "address": a}} for n, a in to],
        "ccRecipients": [],
    }


class FakeGraph:
    def __init__(self, tenant: str = "contoso-tenant", client_id: str = "app-id") -> None:
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret = secrets.token_urlsafe(24)
        self.tokens: set[str] = set()
        self.requests: list[Recorded] = []
        self._collections: dict[tuple[str, str], _Collection] = {}
        self._runner: web.AppRunner | None = None
        self._port = 0

    # --- what tests set up ---------------------------------------------------------------------

    def collection(self, user: str, name: str) -> _Collection:
        """`name`: "calendar", "sentitems" or "inbox"."""
        return self._collections.setdefault((user.lower(), name.lower()), _Collection())

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1.0"

    @property
    def authority(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    # --- the server ----------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.requests.append(Recorded("POST", request.path, dict(request.query), True))
        if (
            request.match_info["tenant"] != self.tenant
            or form.get("grant_type") != "client_credentials"
            or form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return web.json_response(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                    "error_codes": [7000215],
                },
                status=401,
            )
        token = secrets.token_urlsafe(32)
        self.tokens.add(token)
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
             "access_token": token}
        )  # fmt: skip

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.tokens

    def _page(
        self, request: web.Request, coll: _Collection, context: str, link_base: str
    ) -> web.Response:
        q = request.query
        since = int(q.get("$deltatoken", "0"))
        skip = int(q.get("$skiptoken", "0"))
        if "$deltatoken" not in q and "$skiptoken" not in q:
            since = 0
        elif "$skiptoken" in q:
            since = int(q.get("since", "0"))
        changed = sorted((s, i) for i, s in coll.changed.items() if s > since)
        if since == 0:  # a first read: current items only, nothing removed
            changed = [(s, i) for s, i in changed if "@removed" not in coll.items[i]]
        chunk = changed[skip : skip + PAGE]
        select = [f for f in q.get("$select", "").split(",") if f]
        value = []
        for _, item_id in chunk:
            item = dict(coll.items[item_id])
            if select and "@removed" not in item:
                item = {
                    k: v for k, v in item.items() if k in select or k.startswith("@") or k == "id"
                }
            value.append(item)
        body: dict[str, Any] = {"@odata.context": context, "value": value}
        extra = "&".join(f"{k}={v}" for k, v in q.items() if k in ("$select",))
        extra = f"&{extra}" if extra else ""
        if skip + PAGE < len(changed):
            body["@odata.nextLink"] = f"{link_base}?$skiptoken={skip + PAGE}&since={since}{extra}"
        else:
            body["@odata.deltaLink"] = f"{link_base}?$deltatoken={coll.seq}{extra}"
        return web.json_response(body)

    async def _calendar(self, request: web.Request) -> web.Response:
        self.requests.append(
            Recorded("GET", request.path, dict(request.query), self._authorised(request))
        )
        if not self._authorised(request):
            return _unauthorised()
        user = request.match_info["user"]
        q = request.query
        if (
            "$deltatoken" not in q
            and "$skiptoken" not in q
            and not (q.get("startDateTime") and q.get("endDateTime"))
        ):
            return web.json_response(
                {"error": {"code": "ErrorInvalidParameter",
                           "message": "This request requires a time window specified by the "
                           "query string parameters StartDateTime and EndDateTime."}},
                status=400,
            )  # fmt: skip
        base = f"{self.base_url}/users/{user}/calendarView/delta()"
        ctx = f"{self.base_url}/$metadata#Collection(event)"
        return self._page(request, self.collection(user, "calendar"), ctx, base)

    async def _messages(self, request: web.Request) -> web.Response:
        self.requests.append(
            Recorded("GET", request.path, dict(request.query), self._authorised(request))
        )
        if not self._authorised(request):
            return _unauthorised()
        user, folder = request.match_info["user"], request.match_info["folder"]
        base = f"{self.base_url}/users/{user}/mailFolders/{folder}/messages/delta()"
        ctx = f"{self.base_url}/$metadata#Collection(message)"
        return self._page(request, self.collection(user, folder), ctx, base)

    async def __aenter__(self) -> FakeGraph:
        app = web.Application()
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        for path in (
            "/v1.0/users/{user}/calendarView/delta()",
            "/v1.0/users/{user}/calendarView/delta",
        ):
            app.router.add_get(path, self._calendar)
        for path in (
            "/v1.0/users/{user}/mailFolders/{folder}/messages/delta()",
            "/v1.0/users/{user}/mailFolders/{folder}/messages/delta",
        ):
            app.router.add_get(path, self._messages)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def _unauthorised() -> web.Response:
    return web.json_response(
        {"error": {"code": "InvalidAuthenticationToken",
                   "message": "Access token is empty."}},
        status=401,
    )  # fmt: skip
