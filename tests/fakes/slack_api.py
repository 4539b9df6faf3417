"""A local fake of the Slack Web API that speaks real HTTP.

:class:`FakeSlackApi` is an aiohttp server bound to ``127.0.0.1`` on an ephemeral port. It plays
the Slack Web API under ``/api/<method>`` closely enough for the real ``slack_sdk`` clients
(and slack-bolt's ``AsyncApp``) to run against it, and it plays ``response_url`` endpoints
under ``/response/<id>``. Nothing leaves the machine.

Usage::

    async with FakeSlackApi() as fake:
        fake.add_user("U123", "ada", tz="Europe/London", email="ada@example.com")
        client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url)
        await client.chat_postMessage(channel="C1", text="hi")
        [call] = fake.calls("chat.postMessage")
        assert call.params["text"] == "hi" and call.token == "xoxb-test"

What it accepts: GET and POST; query strings, form-encoded, multipart and JSON bodies (they are
merged into :attr:`SlackCall.params`); the token from ``Authorization: Bearer ...`` or from a
``token`` field. A call without a token gets ``not_authed``; when ``valid_tokens`` is given,
any other token gets ``invalid_auth``.

What it answers (HTTP 200 with Slack-shaped JSON):

* ``auth.test``: ``ok``, ``url``, ``team``, ``user``, ``team_id``, ``user_id``, ``bot_id``.
* ``chat.postMessage``: ``ok``, ``channel``, ``ts`` (strictly increasing), ``message``; posting to a
  user id (``U...``/``W...``) answers with the DM channel ``D<user id>``. Missing channel gives
  ``channel_not_found``; no ``text``/``blocks``/``attachments`` gives ``no_text``.
* ``chat.postEphemeral`` (``message_ts``), ``chat.update`` (``message_not_found`` for a ``ts``
  this fake never issued), ``chat.delete``.
* ``views.open`` / ``views.push`` / ``views.update`` / ``views.publish``: ``ok`` and ``view``
  with an ``id`` (``views.update`` keeps the id it is given).
* ``users.info`` and ``users.lookupByEmail``, from the registry filled by :meth:`add_user`
  (``user_not_found`` / ``users_not_found`` otherwise).
* ``conversations.open``: ``channel.id`` is ``"D" + user``.
* ``oauth.v2.access``: a plausible OAuth v2 installation payload (needs ``code``).
* ``apps.connections.open``: ``url`` of :attr:`socket_mode_url` when set (needs an ``xapp-``
  token), else ``ok: false``.
* anything else: ``{"ok": false, "error": "unknown_method"}``.
* ``POST /response/<id>``: recorded with method ``"response_url"``; answers ``{"ok": true}``.
  After ``response_url_limit`` posts (Slack allows 5) the fake answers 404 ``used_url``
  (the status and error name are this fake's stand-in for "no longer accepted").

Fault injection:

* ``fake.fail_next("chat.postMessage", status=429, retry_after=1)``: HTTP 429 with
  ``Retry-After`` (integer seconds) and ``error: ratelimited``.
* ``fake.fail_next("chat.postMessage", error="channel_not_found")``: HTTP 200, ``ok: false``.
* ``fake.fail_next("chat.postMessage", status=503)``: a 5xx with a JSON ``ok: false`` body.
* ``fake.post_delay = 2.0``: every ``chat.postMessage`` takes two seconds to answer.
* ``fake.down = 503``: every Web API call answers 503 until set back to ``None`` (an outage).
* ``times=n`` repeats a fault for the next ``n`` calls of that method; faults queue in order.
* ``fake.rate_limit(per_channel_per_second=1.0, burst=1)``: a token bucket per channel for
  ``chat.postMessage``; an exceeded bucket answers 429 with ``Retry-After``.
  ``fake.rate_limit(None)`` turns it off.
* ``fake.rate_limit(per_channel_per_second=1.0, workspace_per_second=10.0, workspace_burst=5)``
  adds a second token bucket for ``chat.postMessage`` across every channel of the workspace
  (one bucket per token, i.e. per app installation): a post needs a token from both buckets and
  takes one from each only when both have one; otherwise 429 with ``Retry-After``.
* ``error_rate=0.10, seed=7`` (with ``rate_limit``) answers a seeded, reproducible 10 % of
  ``chat.postMessage`` calls with a fault instead: half HTTP 429 ``ratelimited`` with
  ``Retry-After: 1``, the other half a 5xx (500, 502 or 503) with an ``ok: false`` body. Such a
  call posts nothing and takes no token. ``fake.injected`` counts them by status.

Every call, failed or not, is recorded as a frozen :class:`SlackCall`; ``calls(method)`` filters
them and ``await wait_for(method, count)`` waits (without polling) until enough have arrived.
``set_handler(method, fn)`` replaces the answer for one method.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import json
import math
import random
import re
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

__all__ = ["FakeSlackApi", "SlackCall", "SlackHandler"]

JsonDict = dict[str, Any]
SlackHandler = Callable[[JsonDict], JsonDict]
"""A replacement answer for one method: receives the call's params, returns the JSON body."""

_NO_TOKEN_METHODS = frozenset({"oauth.v2.access", "oauth.v2.exchange", "api.test"})


@dataclass(frozen=True)
class SlackCall:
    """One request the fake received.

    ``at`` is ``time.monotonic()`` when the request arrived. ``params`` merges the query string
    and the body (form or JSON) without the ``token`` field. ``status`` and ``response`` are what
    the fake answered; ``path`` is the request path (``/api/chat.postMessage``, ``/response/x``).
    """

    method: str
    params: dict[str, Any]
    token: str | None
    at: float
    http_method: str = "POST"
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    path: str = ""


@dataclass
class _Fault:
    status: int
    error: str | None
    retry_after: float | None
    remaining: int


@dataclass
class _Bucket:
    tokens: float
    last: float

    def refill(self, now: float, rate: float, burst: int) -> None:
        self.tokens = min(float(burst), self.tokens + (now - self.last) * rate)
        self.last = now

    def wait(self, rate: float) -> int:
        """Whole seconds until this bucket holds a token (at least 1, as Slack answers)."""
        return max(1, math.ceil((1.0 - self.tokens) / rate))


_INJECTED_5XX = (500, 502, 503)


def _maybe_json(value: Any) -> Any:
    """Form bodies carry ``blocks``/``view`` as JSON strings; JSON bodies carry objects."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class FakeSlackApi:
    """The Slack Web API on ``127.0.0.1:<ephemeral port>``; see the module docstring."""

    wait_timeout: float = 5.0
    """Seconds :meth:`wait_for` waits before raising ``TimeoutError``."""

    def __init__(
        self,
        *,
        team_id: str = "T0FAKE",
        team_name: str = "Fake Workspace",
        team_domain: str = "fake-workspace",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        app_id: str = "A0FAKE",
        installer_user_id: str = "U0INSTALLER",
        valid_tokens: Iterable[str] | None = None,
        socket_mode_url: str | None = None,
        response_url_limit: int = 5,
    ) -> None:
        self.team_id = team_id
        self._home_team = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.installer_user_id = installer_user_id
        self.valid_tokens: set[str] | None = set(valid_tokens) if valid_tokens else None
        self.socket_mode_url = socket_mode_url
        self.response_url_limit = response_url_limit

        self._calls: list[SlackCall] = []
        self._changed = asyncio.Condition()
        self._users: dict[str, JsonDict] = {}
        self._channels: dict[str, JsonDict] = {}
        self._locales: dict[str, str] = {}
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._handlers: dict[str, SlackHandler] = {}
        self._rate: float | None = None
        self._burst = 1
        self._buckets: dict[str, _Bucket] = {}
        self._workspace_rate: float | None = None
        self._workspace_burst = 1
        self._workspace_buckets: dict[str, _Bucket] = {}
        self._error_rate = 0.0
        self._rng = random.Random(0)
        self.injected: Counter[int] = Counter()
        """Faults injected by ``rate_limit(error_rate=...)``, counted by HTTP status."""
        self._ts_base = int(time.time())
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)
        self._messages: set[tuple[str, str]] = set()
        self._response_posts: dict[str, int] = defaultdict(int)

        self.post_delay = 0.0
        """Seconds every ``chat.postMessage`` takes to answer (a slow Slack)."""
        self.down: int | None = None
        """While set, every Web API call answers this HTTP status (an outage), recorded."""

        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{response_id}", self._handle_response_url)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlackApi:
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
            raise RuntimeError("FakeSlackApi is not started")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/``"""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``: pass as ``AsyncWebClient(base_url=...)``."""
        return f"{self.url}api/"

    def response_url(self, response_id: str) -> str:
        """A full ``response_url`` this fake accepts: ``http://127.0.0.1:PORT/response/<id>``."""
        return f"{self.url}response/{response_id}"

    # ------------------------------------------------------------------ set-up helpers

    def add_user(
        self,
        user_id: str,
        name: str,
        tz: str = "America/New_York",
        email: str | None = None,
        *,
        real_name: str | None = None,
        display_name: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
        locale: str | None = None,
    ) -> JsonDict:
        """Register a user for ``users.info``; returns the ``user`` object the fake will answer.

        Like Slack, the fake tells the user's ``locale`` only when asked (``include_locale``)."""
        zone = ZoneInfo(tz)
        now = datetime.now(zone)
        offset = now.utcoffset()
        real = real_name if real_name is not None else name.replace(".", " ").title()
        profile: JsonDict = {
            "real_name": real,
            "real_name_normalized": real,
            "display_name": display_name if display_name is not None else name,
            "display_name_normalized": display_name if display_name is not None else name,
            "team": self.team_id,
        }
        if email is not None:
            profile["email"] = email
        user: JsonDict = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": deleted,
            "real_name": real,
            "tz": tz,
            "tz_label": now.tzname() or tz,
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "is_bot": is_bot,
            "is_admin": False,
            "is_app_user": False,
            "updated": self._ts_base,
            "profile": profile,
        }
        self._users[user_id] = user
        if locale is not None:
            self._locales[user_id] = locale
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        is_ext_shared: bool = False,
        is_im: bool = False,
        is_mpim: bool = False,
    ) -> JsonDict:
        """Register a conversation for ``conversations.info``. Channels never added answer as an
        ordinary public channel of this team (``C…``) or a DM (``D…``)."""
        channel: JsonDict = {
            "id": channel_id,
            "name": name,
            "is_channel": not (is_private or is_im or is_mpim),
            "is_group": is_private,
            "is_im": is_im,
            "is_mpim": is_mpim,
            "is_private": is_private or is_im or is_mpim,
            "is_archived": False,
            "is_general": False,
            "is_shared": is_ext_shared,
            "is_ext_shared": is_ext_shared,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "context_team_id": self.team_id,
            "shared_team_ids": [self.team_id, "T0OTHERORG"] if is_ext_shared else [self.team_id],
            "created": self._ts_base,
        }
        self._channels[channel_id] = channel
        return channel

    def set_handler(self, method: str, handler: SlackHandler) -> None:
        """Answer ``method`` with ``handler(params)`` instead of the built-in default."""
        self._handlers[method] = handler

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: float | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        ``error`` alone gives HTTP 200 ``{"ok": false, "error": error}``; ``status=429`` (also
        the default when neither is given) gives ``Retry-After`` (``retry_after``, default 1 s,
        rounded up to whole seconds); any other status gives that status with an ``ok: false``
        JSON body. ``method`` may be ``"response_url"``.
        """
        if status is None:
            status = 200 if error is not None else 429
        if status == 429 and retry_after is None:
            retry_after = 1
        if error is None:
            error = "ratelimited" if status == 429 else "internal_error"
        self._faults[method].append(_Fault(status, error, retry_after, times))

    def rate_limit(
        self,
        per_channel_per_second: float | None = 1.0,
        burst: int = 1,
        *,
        workspace_per_second: float | None = None,
        workspace_burst: int | None = None,
        error_rate: float = 0.0,
        seed: int = 0,
    ) -> None:
        """Rate-limit ``chat.postMessage`` per channel (token bucket); ``None`` turns it off.

        ``workspace_per_second`` (burst ``workspace_burst``, default one second's worth) adds a
        cap across all channels of the workspace; ``error_rate`` answers that share of calls,
        drawn from ``random.Random(seed)``, with an injected 429 or 5xx (see the module doc)."""
        self._rate = per_channel_per_second if per_channel_per_second else None
        self._burst = max(1, burst)
        self._buckets.clear()
        self._workspace_rate = workspace_per_second if workspace_per_second else None
        default_burst = math.ceil(workspace_per_second) if workspace_per_second else 1
        self._workspace_burst = max(1, workspace_burst or default_burst)
        self._workspace_buckets.clear()
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError("error_rate is a share between 0 and 1")
        self._error_rate = error_rate
        self._rng = random.Random(seed)
        self.injected.clear()

    # ------------------------------------------------------------------ inspection

    def calls(self, method: str | None = None) -> list[SlackCall]:
        """Recorded calls, oldest first; only those of ``method`` when given."""
        return [c for c in self._calls if method is None or c.method == method]

    def clear_calls(self) -> None:
        self._calls.clear()

    async def wait_for(self, method: str | None = None, count: int = 1) -> list[SlackCall]:
        """Wait until at least ``count`` calls of ``method`` are recorded; returns them.

        Gives up with ``TimeoutError`` after :attr:`wait_timeout` seconds; wrap the call in
        ``asyncio.timeout(...)`` for a shorter limit.
        """
        async with asyncio.timeout(self.wait_timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.calls(method)) >= count)
        return self.calls(method)

    # ------------------------------------------------------------------ HTTP plumbing

    async def _read_params(self, request: web.Request) -> JsonDict:
        params: JsonDict = dict(request.query)
        if request.method != "POST" or not request.can_read_body:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                params.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                params[key] = value if isinstance(value, str) else getattr(value, "filename", "")
        return params

    async def _record(self, call: SlackCall) -> None:
        async with self._changed:
            self._calls.append(call)
            self._changed.notify_all()

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    @staticmethod
    def _fault_response(fault: _Fault) -> tuple[int, JsonDict, dict[str, str]]:
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(math.ceil(fault.retry_after))
        return fault.status, {"ok": False, "error": fault.error}, headers

    def _rate_check(self, channel: str, token: str | None = None) -> int | None:
        """Seconds to wait when ``channel`` (or, with a workspace cap, the workspace of
        ``token``) is over its rate, else ``None`` (a token taken from each bucket)."""
        now = time.monotonic()
        waits: list[int] = []
        taken: list[_Bucket] = []
        checks: list[tuple[dict[str, _Bucket], str, float, int]] = []
        if self._rate is not None:
            checks.append((self._buckets, channel, self._rate, self._burst))
        if self._workspace_rate is not None:
            checks.append(
                (self._workspace_buckets, token or "", self._workspace_rate, self._workspace_burst)
            )
        for buckets, key, rate, burst in checks:
            bucket = buckets.setdefault(key, _Bucket(float(burst), now))
            bucket.refill(now, rate, burst)
            if bucket.tokens >= 1.0:
                taken.append(bucket)
            else:
                waits.append(bucket.wait(rate))
        if waits:
            return max(waits)
        for bucket in taken:
            bucket.tokens -= 1.0
        return None

    def _injected_fault(self) -> tuple[int, JsonDict, dict[str, str]] | None:
        if not self._error_rate or self._rng.random() >= self._error_rate:
            return None
        if self._rng.random() < 0.5:
            self.injected[429] += 1
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}
        status = self._rng.choice(_INJECTED_5XX)
        self.injected[status] += 1
        return status, {"ok": False, "error": "internal_error"}, {}

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._read_params(request)
        token: str | None = None
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("Bearer "):
            token = authorization[len("Bearer ") :].strip() or None
        elif authorization.startswith("Basic "):
            try:
                decoded = base64.b64decode(authorization[len("Basic ") :]).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            client_id, _, client_secret = decoded.partition(":")
            params.setdefault("client_id", client_id)
            params.setdefault("client_secret", client_secret)
        form_token = params.pop("token", None)
        if token is None and isinstance(form_token, str) and form_token:
            token = form_token

        if self.down is not None:
            status, body, headers = self.down, {"ok": False, "error": "service_unavailable"}, {}
        else:
            if method == "chat.postMessage" and self.post_delay:
                await asyncio.sleep(self.post_delay)
            status, body, headers = self._answer(method, params, token)
        await self._record(
            SlackCall(
                method=method,
                params=params,
                token=token,
                at=time.monotonic(),
                http_method=request.method,
                status=status,
                response=body,
                path=request.path,
            )
        )
        return web.json_response(body, status=status, headers=headers)

    def _answer(
        self, method: str, params: JsonDict, token: str | None
    ) -> tuple[int, JsonDict, dict[str, str]]:
        fault = self._take_fault(method)
        if fault is not None:
            return self._fault_response(fault)
        if method not in _NO_TOKEN_METHODS:
            if token is None:
                return 200, {"ok": False, "error": "not_authed"}, {}
            if self.valid_tokens is not None and token not in self.valid_tokens:
                return 200, {"ok": False, "error": "invalid_auth"}, {}
        if method == "chat.postMessage":
            injected = self._injected_fault()
            if injected is not None:
                return injected
            wait = self._rate_check(str(params.get("channel", "")), token)
            if wait is not None:
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
        handler = self._handlers.get(method)
        if handler is not None:
            return 200, handler(params), {}
        default = self._defaults.get(method)
        if default is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        return 200, default(self, params, token), {}

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        response_id = request.match_info["response_id"]
        params: JsonDict = {}
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                params = body
        else:
            form = await request.post()
            payload = form.get("payload")
            parsed = _maybe_json(payload) if isinstance(payload, str) else None
            params = parsed if isinstance(parsed, dict) else {k: str(v) for k, v in form.items()}

        fault = self._take_fault("response_url")
        status: int
        headers: dict[str, str] = {}
        if fault is not None:
            status, answer, headers = self._fault_response(fault)
        elif self._response_posts[response_id] >= self.response_url_limit:
            status, answer = 404, {"ok": False, "error": "used_url"}
        else:
            self._response_posts[response_id] += 1
            status, answer = 200, {"ok": True}
        await self._record(
            SlackCall(
                method="response_url",
                params=params,
                token=None,
                at=time.monotonic(),
                http_method=request.method,
                status=status,
                response=answer,
                path=request.path,
            )
        )
        return web.json_response(answer, status=status, headers=headers)

    # ------------------------------------------------------------------ default answers

    def _next_ts(self) -> str:
        return f"{self._ts_base}.{next(self._ts_counter):06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._id_counter):08d}"

    @staticmethod
    def _dm_channel(channel: str) -> str:
        return f"D{channel}" if channel[:1] in ("U", "W") else channel

    def _token_team(self, token: str | None) -> str:
        """The team a token was issued for: the one ``oauth.v2.access`` named in it, else the
        fake's own team."""
        match = re.fullmatch(r"xoxb-(T[A-Z0-9]+)-\d+-fake", token or "")
        return match.group(1) if match else self._home_team

    def _auth_test(self, params: JsonDict, token: str | None) -> JsonDict:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": "touchbase",
            "team_id": self._token_team(token),
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _message(self, params: JsonDict, ts: str) -> JsonDict:
        message: JsonDict = {
            "type": "message",
            "subtype": "bot_message",
            "text": params.get("text", ""),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata"):
            if key in params:
                message[key] = _maybe_json(params[key])
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        return message

    def _chat_post_message(self, params: JsonDict, token: str | None) -> JsonDict:
        channel = str(params.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not any(params.get(k) for k in ("text", "blocks", "attachments")):
            return {"ok": False, "error": "no_text"}
        channel = self._dm_channel(channel)
        ts = self._next_ts()
        self._messages.add((channel, ts))
        return {"ok": True, "channel": channel, "ts": ts, "message": self._message(params, ts)}

    def _chat_post_ephemeral(self, params: JsonDict, token: str | None) -> JsonDict:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, params: JsonDict, token: str | None) -> JsonDict:
        channel = str(params.get("channel") or "")
        ts = str(params.get("ts") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if (channel, ts) not in self._messages:
            return {"ok": False, "error": "message_not_found"}
        message = self._message(params, ts)
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": message,
        }

    def _chat_delete(self, params: JsonDict, token: str | None) -> JsonDict:
        key = (str(params.get("channel") or ""), str(params.get("ts") or ""))
        if key not in self._messages:
            return {"ok": False, "error": "message_not_found"}
        self._messages.discard(key)
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _view(self, params: JsonDict, view_id: str, default_type: str) -> JsonDict:
        raw = _maybe_json(params.get("view"))
        view: JsonDict = dict(raw) if isinstance(raw, dict) else {}
        return {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type", default_type),
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{self._ts_base}.{view_id}",
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
        }

    def _views_open(self, params: JsonDict, token: str | None) -> JsonDict:
        if not params.get("trigger_id") and not params.get("interactivity_pointer"):
            return {"ok": False, "error": "invalid_arguments"}
        if not params.get("view"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self._view(params, self._next_id("V"), "modal")}

    def _views_update(self, params: JsonDict, token: str | None) -> JsonDict:
        view_id = params.get("view_id") or params.get("external_id")
        if not view_id or not params.get("view"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self._view(params, str(view_id), "modal")}

    def _views_publish(self, params: JsonDict, token: str | None) -> JsonDict:
        if not params.get("user_id") or not params.get("view"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self._view(params, self._next_id("V"), "home")}

    def _users_info(self, params: JsonDict, token: str | None) -> JsonDict:
        user = self._users.get(str(params.get("user") or ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        team = self._token_team(token)
        if user.get("team_id") == self._home_team and team != self._home_team:
            # A user added to the fake is a member of every team installed through it.
            user = {**user, "team_id": team, "profile": {**user["profile"], "team": team}}
        if str(params.get("include_locale", "")).lower() in {"1", "true"}:
            user = {**user, "locale": self._locales.get(str(user["id"]), "en-US")}
        return {"ok": True, "user": user}

    def _users_lookup_by_email(self, params: JsonDict, token: str | None) -> JsonDict:
        email = str(params.get("email") or "").lower()
        for user in self._users.values():
            if str(user["profile"].get("email", "")).lower() == email and email:
                return {"ok": True, "user": user}
        return {"ok": False, "error": "users_not_found"}

    def _conversations_open(self, params: JsonDict, token: str | None) -> JsonDict:
        users = [u.strip() for u in str(params.get("users") or "").split(",") if u.strip()]
        if params.get("channel"):
            return {"ok": True, "channel": {"id": str(params["channel"])}}
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        channel_id = f"D{users[0]}" if len(users) == 1 else "G" + "".join(users)
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": channel_id}}

    def _conversations_info(self, params: JsonDict, token: str | None) -> JsonDict:
        channel_id = str(params.get("channel") or "")
        channel = self._channels.get(channel_id)
        if channel is None and channel_id[:1] in ("C", "D"):
            is_im = channel_id.startswith("D")
            name = "" if is_im else channel_id.lower()
            channel = self.add_channel(channel_id, name, is_im=is_im)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": channel}

    def _oauth_v2_access(self, params: JsonDict, token: str | None) -> JsonDict:
        if not params.get("code"):
            return {"ok": False, "error": "invalid_code"}
        return {
            "ok": True,
            "app_id": self.app_id,
            "access_token": f"xoxb-{self.team_id}-{next(self._id_counter)}-fake",
            "token_type": "bot",
            "scope": "chat:write,commands,im:history,im:write,users:read,users:read.email",
            "bot_user_id": self.bot_user_id,
            "team": {"id": self.team_id, "name": self.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {
                "id": self.installer_user_id,
                "scope": "",
                "access_token": None,
                "token_type": None,
            },
        }

    def _apps_connections_open(self, params: JsonDict, token: str | None) -> JsonDict:
        if token is not None and not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if self.socket_mode_url is None:
            return {"ok": False, "error": "socket_mode_not_configured"}
        return {"ok": True, "url": self.socket_mode_url}

    _defaults: Mapping[str, Callable[[FakeSlackApi, JsonDict, str | None], JsonDict]] = {
        "auth.test": _auth_test,
        "chat.postMessage": _chat_post_message,
        "chat.postEphemeral": _chat_post_ephemeral,
        "chat.update": _chat_update,
        "chat.delete": _chat_delete,
        "views.open": _views_open,
        "views.push": _views_open,
        "views.update": _views_update,
        "views.publish": _views_publish,
        "users.info": _users_info,
        "users.lookupByEmail": _users_lookup_by_email,
        "conversations.open": _conversations_open,
        "conversations.info": _conversations_info,
        "oauth.v2.access": _oauth_v2_access,
        "apps.connections.open": _apps_connections_open,
    }
