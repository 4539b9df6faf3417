"""A local fake of the Bot Framework connector service that speaks real HTTP.

:class:`FakeBotConnector` is an aiohttp server bound to ``127.0.0.1`` on an ephemeral port. It
plays the connector (the ``serviceUrl`` of an activity) that botbuilder's ``CloudAdapter`` and
``ConnectorClient`` talk to when a bot replies, sends proactively, updates or deletes an activity,
opens a conversation, or looks up a member. Nothing leaves the machine; no token endpoint is
played here (see :mod:`tests.fakes.openid` for that).

Usage::

    async with FakeBotConnector() as connector:
        connector.add_member("29:user", "Ada Lovelace", aad_object_id="aad-1", email="a@x.org")
        activity = {..., "serviceUrl": connector.service_url, ...}
        # ... POST the activity to the bot; the CloudAdapter replies to the fake ...
        [reply] = await connector.wait_for("reply")
        assert reply.body["text"] == "echo: hi"

Routes (``{cid}`` is the URL-decoded conversation id, e.g. ``a:1xyz`` or ``19:x@thread.tacv2``):

===========================================================  ===================  ==============
request                                                      ``operation``        answer
===========================================================  ===================  ==============
``POST /v3/conversations/{cid}/activities``                  ``send``             ``{"id": ...}``
``POST /v3/conversations/{cid}/activities/{activityId}``     ``reply``            ``{"id": ...}``
``PUT /v3/conversations/{cid}/activities/{activityId}``      ``update``           ``{"id": ...}``
``DELETE /v3/conversations/{cid}/activities/{activityId}``   ``delete``           200, empty
``POST /v3/conversations``                                   ``create``           see below
``GET /v3/conversations/{cid}/members/{memberId}``           ``get_member``       member or 404
``GET /v3/conversations/{cid}/members``                      ``get_members``      all members
``GET /v3/conversations/{cid}/pagedmembers``                 ``get_paged_members``  all members
===========================================================  ===================  ==============

``POST /v3/conversations`` answers ``{"id": "a:new-conv-<n>", "activityId": ..., "serviceUrl":
...}``. Members come from the registry filled by :meth:`add_member` (a TeamsChannelAccount-like
dict: ``id``, ``name``, ``aadObjectId``, ``email``, ``givenName``, ``surname``,
``userPrincipalName``, ``tenantId``, ``userRole``); an unknown member gets 404 with a Bot
Framework error body.

Every request is recorded as a frozen :class:`ConnectorCall` (``method``, ``path``,
``conversation_id``, ``body``, ``headers``, plus ``operation``, ``activity_id``, ``status``,
``at``). ``calls(operation)`` filters them; ``await wait_for(operation, count)`` waits without
polling; ``activities()`` lists the bodies the bot sent (send + reply).

Fault injection: ``fail_next(status=429, retry_after=1, times=2)`` makes the next requests
(of any route, or only ``operation=...``) answer ``status`` with a Bot Framework error body
``{"error": {"code": ..., "message": ...}}`` and, when given, ``Retry-After``. Useful statuses:
429 (throttled), 412 (precondition failed), 502/504 (gateway), 403 (bot blocked or removed).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

__all__ = ["ConnectorCall", "FakeBotConnector"]

JsonDict = dict[str, Any]

_ERROR_CODES = {
    400: "BadArgument",
    403: "ConversationBlockedByUser",
    404: "NotFound",
    412: "PreconditionFailed",
    429: "TooManyRequests",
    500: "ServiceError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


@dataclass(frozen=True)
class ConnectorCall:
    """One request the fake connector received.

    ``body`` is the parsed JSON body (``{}`` when there is none); ``headers`` is a plain copy of
    the request headers (``Authorization`` shows whether the bot signed the call). ``at`` is
    ``time.monotonic()`` on arrival; ``status`` is what the fake answered.
    """

    method: str
    path: str
    conversation_id: str | None
    body: dict[str, Any]
    headers: dict[str, str]
    operation: str = ""
    activity_id: str | None = None
    status: int = 200
    at: float = 0.0
    response: Any = None


@dataclass
class _Fault:
    status: int
    retry_after: float | None
    code: str
    operation: str | None
    remaining: int


class FakeBotConnector:
    """The Bot Framework connector on ``127.0.0.1:<ephemeral port>``; see the module docstring."""

    wait_timeout: float = 5.0
    """Seconds :meth:`wait_for` waits before raising ``TimeoutError``."""

    def __init__(self) -> None:
        self._calls: list[ConnectorCall] = []
        self._changed = asyncio.Condition()
        self._members: dict[str, JsonDict] = {}
        self._faults: deque[_Fault] = deque()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application()
        base = "/v3/conversations"
        app.router.add_post(base, self._create)
        app.router.add_post(base + "/{cid}/activities", self._send)
        app.router.add_post(base + "/{cid}/activities/{aid}", self._reply)
        app.router.add_put(base + "/{cid}/activities/{aid}", self._update)
        app.router.add_delete(base + "/{cid}/activities/{aid}", self._delete)
        app.router.add_get(base + "/{cid}/members", self._get_members)
        app.router.add_get(base + "/{cid}/pagedmembers", self._get_paged_members)
        app.router.add_get(base + "/{cid}/members/{mid}", self._get_member)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotConnector:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotConnector is not started")
        return self._port

    @property
    def service_url(self) -> str:
        """``http://127.0.0.1:PORT/``: use as the activity's ``serviceUrl``."""
        return f"http://127.0.0.1:{self.port}/"

    # ------------------------------------------------------------------ set-up helpers

    def add_member(
        self,
        member_id: str,
        name: str,
        *,
        aad_object_id: str | None = None,
        email: str | None = None,
        given_name: str | None = None,
        surname: str | None = None,
        user_principal_name: str | None = None,
        tenant_id: str | None = None,
        user_role: str = "user",
    ) -> JsonDict:
        """Register a member for the ``members`` routes; returns the dict the fake answers."""
        first, _, last = name.partition(" ")
        member: JsonDict = {
            "id": member_id,
            "name": name,
            "aadObjectId": aad_object_id,
            "email": email,
            "givenName": given_name if given_name is not None else first,
            "surname": surname if surname is not None else (last or None),
            "userPrincipalName": user_principal_name or email,
            "tenantId": tenant_id,
            "userRole": user_role,
        }
        self._members[member_id] = member
        return member

    def fail_next(
        self,
        status: int = 429,
        retry_after: float | None = None,
        times: int = 1,
        *,
        operation: str | None = None,
        code: str | None = None,
    ) -> None:
        """Make the next ``times`` requests (only ``operation`` ones, if given) fail."""
        self._faults.append(
            _Fault(
                status=status,
                retry_after=retry_after,
                code=code or _ERROR_CODES.get(status, "ServiceError"),
                operation=operation,
                remaining=times,
            )
        )

    # ------------------------------------------------------------------ inspection

    def calls(
        self, operation: str | None = None, *, conversation_id: str | None = None
    ) -> list[ConnectorCall]:
        """Recorded requests, oldest first, filtered by operation and/or conversation id."""
        return [
            c
            for c in self._calls
            if (operation is None or c.operation == operation)
            and (conversation_id is None or c.conversation_id == conversation_id)
        ]

    def activities(self, conversation_id: str | None = None) -> list[JsonDict]:
        """Bodies of the activities the bot sent or replied with (answered 2xx)."""
        return [
            c.body
            for c in self.calls(conversation_id=conversation_id)
            if c.operation in ("send", "reply") and c.status < 300
        ]

    def clear_calls(self) -> None:
        self._calls.clear()

    async def wait_for(self, operation: str | None = None, count: int = 1) -> list[ConnectorCall]:
        """Wait until at least ``count`` requests of ``operation`` are recorded; returns them.

        Gives up with ``TimeoutError`` after :attr:`wait_timeout` seconds; wrap the call in
        ``asyncio.timeout(...)`` for a shorter limit.
        """
        async with asyncio.timeout(self.wait_timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.calls(operation)) >= count)
        return self.calls(operation)

    # ------------------------------------------------------------------ HTTP plumbing

    def _take_fault(self, operation: str) -> _Fault | None:
        for fault in self._faults:
            if fault.operation is None or fault.operation == operation:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _handle(
        self,
        request: web.Request,
        operation: str,
        answer: Any,
        status: int = 200,
    ) -> web.Response:
        body: JsonDict = {}
        if request.can_read_body:
            try:
                parsed = await request.json()
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                body = parsed
        headers: dict[str, str] = {}
        fault = self._take_fault(operation)
        if fault is not None:
            status = fault.status
            answer = {"error": {"code": fault.code, "message": f"injected {fault.status}"}}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(math.ceil(fault.retry_after))
        call = ConnectorCall(
            method=request.method,
            path=request.path,
            conversation_id=request.match_info.get("cid"),
            body=body,
            headers=dict(request.headers),
            operation=operation,
            activity_id=request.match_info.get("aid"),
            status=status,
            at=time.monotonic(),
            response=answer,
        )
        async with self._changed:
            self._calls.append(call)
            self._changed.notify_all()
        if answer is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(answer, status=status, headers=headers)

    def _new_activity_id(self) -> str:
        return f"activity-{next(self._ids)}"

    async def _send(self, request: web.Request) -> web.Response:
        return await self._handle(request, "send", {"id": self._new_activity_id()})

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._handle(request, "reply", {"id": self._new_activity_id()})

    async def _update(self, request: web.Request) -> web.Response:
        return await self._handle(request, "update", {"id": request.match_info["aid"]})

    async def _delete(self, request: web.Request) -> web.Response:
        return await self._handle(request, "delete", None)

    async def _create(self, request: web.Request) -> web.Response:
        answer = {
            "id": f"a:new-conv-{next(self._ids)}",
            "activityId": self._new_activity_id(),
            "serviceUrl": self.service_url,
        }
        return await self._handle(request, "create", answer)

    async def _get_member(self, request: web.Request) -> web.Response:
        member = self._members.get(request.match_info["mid"])
        if member is None:
            error = {
                "error": {
                    "code": "MemberNotFoundInConversation",
                    "message": "The member is not part of the conversation.",
                }
            }
            return await self._handle(request, "get_member", error, status=404)
        return await self._handle(request, "get_member", dict(member))

    async def _get_members(self, request: web.Request) -> web.Response:
        members = [dict(m) for m in self._members.values()]
        return await self._handle(request, "get_members", members)

    async def _get_paged_members(self, request: web.Request) -> web.Response:
        answer = {"members": [dict(m) for m in self._members.values()], "continuationToken": None}
        return await self._handle(request, "get_paged_members", answer)
