"""The web chat: the same commands, buttons and forms as Slack and Teams, in a browser page.

The page posts JSON to /api/chat/{command,action,submit}; the reply comes back as HTML rendered
here from the neutral Message or Form (so escaping happens in one place, `render.py`).

To try Touchbase as several people, the page has a person picker: each request names who is
speaking, and becomes Identity(platform=WEB, workspace_key="local", user_id=name.casefold()).
Messages the core sends to other people (a DM to a new owner, a channel post) go to an
in-memory inbox, shown when you switch to that person. It is a local trial: the inbox is lost
when the server stops.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters.ports import Services
from adapters.web.auth import SESSION, Guard
from adapters.web.render import page, render_errors, render_form, render_message, template
from bot.app import Reply
from bot.catalog import COMMAND_NAMES
from bot.clock import local_today
from bot.commands.settings import valid_zone
from bot.domain import LOCAL_PLATFORM, LOCAL_WORKSPACE_KEY, LOCAL_WORKSPACE_NAME, Workspace
from bot.inbound import ActionIn, CommandIn, FormIn, Identity
from bot.messages import Form, FormErrors, Message, Tone
from bot.ports import Address

_NAME_OK = re.compile(r"^[^\x00-\x1f\x7f<>]{1,60}$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
MAX_TEXT = 4000


@dataclass
class WebMessenger:
    """Delivers to per-person inboxes in memory; channel posts go to everyone's."""

    inbox: dict[str, list[tuple[str, Message]]] = field(default_factory=lambda: defaultdict(list))
    channel: list[Message] = field(default_factory=list)
    channel_seen: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    async def send(self, address: Address, message: Message) -> None:
        user = address.get("user")
        if user:
            self.inbox[str(user)].append(("Direct message", message))
        else:
            self.channel.append(message)

    def take(self, user_key: str) -> list[tuple[str, Message]]:
        items = self.inbox.pop(user_key, [])
        start = self.channel_seen[user_key]
        items += [("Channel", m) for m in self.channel[start:]]
        self.channel_seen[user_key] = len(self.channel)
        return items


MESSENGER: web.AppKey[WebMessenger] = web.AppKey("web_messenger", WebMessenger)


class BadRequest(Exception):
    pass


def identity(name: str, tz: str | None = None) -> Identity:
    key = name.casefold()
    return Identity(
        platform=LOCAL_PLATFORM,
        workspace_key=LOCAL_WORKSPACE_KEY,
        workspace_name=LOCAL_WORKSPACE_NAME,
        user_id=key,
        display_name=name,
        tz=tz,
        address={"user": key, "name": name},
    )


def _browser_tz(body: dict[str, Any]) -> str | None:
    """The time zone the browser reports (an IANA name), if it is one; else None: keep the
    person's own."""
    raw = body.get("tz")
    return valid_zone(raw) if isinstance(raw, str) and raw else None


def _who(body: dict[str, Any]) -> Identity:
    return identity(_clean_name(body.get("user")), _browser_tz(body))


def _clean_name(raw: object) -> str:
    name = " ".join(str(raw or "").split())
    if not _NAME_OK.match(name):
        raise BadRequest("Choose who you are: a name of 1 to 60 letters.")
    return name


def _source(body: dict[str, Any]) -> str:
    given = str(body.get("request_id", ""))
    return f"web:{given if _REQUEST_ID.match(given) else uuid.uuid4()}"


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest("Send JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object.")
    return body


class ChatHandlers:
    def __init__(self, services: Services, guard: Guard, messenger: WebMessenger) -> None:
        self.services = services
        self.guard = guard
        self.messenger = messenger
        self.digest_shown: set[tuple[str, str]] = set()  # (person key, local date): in memory

    async def workspace(self) -> Workspace:
        return await self.services.directory.workspace(
            LOCAL_PLATFORM, LOCAL_WORKSPACE_KEY, LOCAL_WORKSPACE_NAME
        )

    async def reply_json(self, reply: Reply) -> web.Response:
        if isinstance(reply, Form):
            ws = await self.workspace()
            names = [c.name for c in await self.services.directory.client_choices(ws)]
            return web.json_response(
                {"kind": "form", "html": render_form(reply, client_names=names)}
            )
        if isinstance(reply, FormErrors):
            return web.json_response(
                {"kind": "errors", "errors": reply.errors, "html": render_errors(reply.errors)}
            )
        return web.json_response(
            {"kind": "message", "text": reply.text, "html": render_message(reply)}
        )

    # --- pages and endpoints ----------------------------------------------------------------

    async def chat_page(self, request: web.Request) -> web.StreamResponse:
        html = page(
            template("chat.html"),
            csrf=self.guard.csrf_token(request[SESSION]),
            logout_hidden="" if self.guard.login_required else "hidden",
        )
        return web.Response(text=html, content_type="text/html")

    async def people(self, request: web.Request) -> web.StreamResponse:
        people = await self.services.directory.people(await self.workspace())
        names = sorted(
            (p.display_name for p in people if not p.platform_user_id.startswith("import:")),
            key=str.casefold,
        )
        return web.json_response({"people": names, "digest": "due" in self._commands()})

    def _commands(self) -> dict[str, Any]:
        return dict(self.services.app.registry.commands)

    async def command(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        who = _who(body)
        line = str(body.get("text", "")).strip()[:MAX_TEXT]
        name, _, text = line.lstrip("/").partition(" ")
        if not name:
            raise BadRequest("Type a command, like /touch Acme lunch with the CFO.")
        if not line.startswith("/") and name.lower() not in COMMAND_NAMES:
            return await self.reply_json(
                Message(
                    text="Commands start with a slash, like /touch Acme lunch with the CFO. "
                    "Type /touchbase help to see them all.",
                    tone=Tone.INFO,
                )
            )
        reply = await self.services.app.command(
            who,
            CommandIn(
                name.lower(), text.strip(), source_id=_source(body), channel={"channel": "web"}
            ),
        )
        return await self.reply_json(reply)

    async def action(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        who = _who(body)
        act = ActionIn(
            str(body.get("action_id", ""))[:200],
            str(body.get("value", ""))[:MAX_TEXT],
            source_id=_source(body),
        )
        return await self.reply_json(await self.services.app.action(who, act))

    async def submit(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        who = _who(body)
        raw = body.get("values") or {}
        if not isinstance(raw, dict):
            raise BadRequest("values must be an object")
        values = {str(k)[:100]: str(v)[:MAX_TEXT] for k, v in raw.items()}
        form = FormIn(
            str(body.get("form_id", ""))[:200],
            values,
            str(body.get("private_value", ""))[:MAX_TEXT],
            source_id=_source(body),
        )
        return await self.reply_json(await self.services.app.submit(who, form))

    async def inbox(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        key = _clean_name(body.get("user")).casefold()
        items = [
            {"label": label, "html": render_message(message)}
            for label, message in self.messenger.take(key)
        ]
        return web.json_response({"items": items})

    async def digest(self, request: web.Request) -> web.StreamResponse:
        """The morning digest (/due) once a day per person, or on demand with force."""
        body = await _body(request)
        name = _clean_name(body.get("user"))
        if "due" not in self._commands():
            return web.json_response({"kind": "none", "reason": "no /due command yet"})
        tz = _browser_tz(body) or self.services.app.config.default_tz
        today = local_today(self.services.clock, tz).isoformat()
        key = (name.casefold(), today)
        if key in self.digest_shown and not body.get("force"):
            return web.json_response({"kind": "none", "reason": "already shown today"})
        self.digest_shown.add(key)
        reply = await self.services.app.command(
            identity(name, _browser_tz(body)), CommandIn("due", "", source_id=_source(body))
        )
        return await self.reply_json(reply)


def api(handler: Any) -> Any:
    async def run(request: web.Request) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
            return response
        except BadRequest as exc:
            return web.json_response({"error": str(exc)}, status=400)

    return run


def add_routes(
    app: web.Application, services: Services, guard: Guard, messenger: WebMessenger
) -> None:
    handlers = ChatHandlers(services, guard, messenger)
    app[MESSENGER] = messenger
    app.router.add_get("/", guard.protect(handlers.chat_page, kind="page"))
    app.router.add_get("/api/chat/people", guard.protect(api(handlers.people), kind="api"))
    for name in ("command", "action", "submit", "inbox", "digest"):
        app.router.add_post(
            f"/api/chat/{name}", guard.protect(api(getattr(handlers, name)), kind="api")
        )
