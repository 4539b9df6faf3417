"""A local Google: the OAuth 2.0 token endpoint for service accounts (JWT bearer grant, the
assertion's RS256 signature checked against the account's public key), Calendar v3
`events.list` and Gmail v1 `messages.list` / `messages.get`, answering as documented. Tokens
are bound to the delegated user (the assertion's `sub`); every request is recorded."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

PAGE = 2


@dataclass
class Recorded:
    path: str
    query: dict[str, str]
    user: str | None


@dataclass
class Mailbox:
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)  # newest first


def google_event(
    event_id: str,
    start: datetime,
    attendees: list[str],
    *,
    organizer: str,
    summary: str,
    meet: bool = False,
    status: str = "confirmed",
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "kind": "calendar#event",
        "etag": f'"{secrets.randbelow(10**12)}"',
        "id": event_id,
        "status": status,
        "summary": summary,
        "description": f"Agenda: {summary}",
        "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": start.isoformat(), "timeZone": "UTC"},
        "organizer": {"email": organizer, "self": True},
        "attendees": [{"email": a, "responseStatus": "needsAction"} for a in attendees],
    }
    if meet:
        item["hangoutLink"] = "https://meet.google.com/abc-defg-hij"
    return item


def gmail_message(
    message_id: str, at: datetime, *, sender: str, to: list[str], subject: str, sent: bool
) -> dict[str, Any]:
    return {
        "id": message_id,
        "threadId": message_id,
        "labelIds": ["SENT"] if sent else ["INBOX", "UNREAD"],
        "snippet": f"About {subject}",
        "internalDate": str(int(at.timestamp() * 1000)),
        "sizeEstimate": 2048,
        "payload": {
            "mimeType": "text/plain",
            "headers": [
                {"name": "From", "value": sender},
                {"name": "To", "value": ", ".join(to)},
                {"name": "Subject", "value": subject},
                {"name": "Date", "value": at.strftime("%a, %d %b %Y %H:%M:%S +0000")},
            ],
        },
    }


class FakeGoogle:
    def __init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self._public_pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        self.client_email = "touchbase@firm-project.iam.gserviceaccount.com"
        self.tokens: dict[str, str] = {}  # token -> delegated user
        self.last_error = ""
        self.requests: list[Recorded] = []
        self.boxes: dict[str, Mailbox] = {}
        self._runner: web.AppRunner | None = None
        self._port = 0

    def box(self, user: str) -> Mailbox:
        return self.boxes.setdefault(user.lower(), Mailbox())

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    def key_file(self, folder: Path) -> Path:
        path = folder / "service-account.json"
        path.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": "firm-project",
                    "private_key_id": secrets.token_hex(20),
                    "private_key": self._private_pem,
                    "client_email": self.client_email,
                    "client_id": "1234567890",
                    "token_uri": "https://oauth2.googleapis.com/token",
                }
            )
        )
        return path

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.requests.append(Recorded(request.path, {}, None))
        try:
            if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
                raise ValueError("grant")
            claims = jwt.decode(
                str(form.get("assertion", "")),
                certs=self._public_pem,
                audience="https://oauth2.googleapis.com/token",  # the documented audience
            )
            if claims.get("iss") != self.client_email or not claims.get("sub"):
                raise ValueError("issuer")
        except ValueError as exc:
            self.last_error = str(exc)
            return web.json_response(
                {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
                status=400,
            )
        token = "ya29." + secrets.token_urlsafe(32)
        self.tokens[token] = str(claims["sub"]).lower()
        return web.json_response(
            {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
        )

    def _user(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        user = self.tokens.get(header[7:]) if header.startswith("Bearer ") else None
        self.requests.append(Recorded(request.path, dict(request.query), user))
        return user

    async def _events(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return _unauthorised()
        items = sorted(self.box(user).events.values(), key=lambda e: e["start"]["dateTime"])
        skip = int(request.query.get("pageToken", "0"))
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "summary": user,
            "timeZone": "UTC",
            "items": items[skip : skip + PAGE],
        }
        if skip + PAGE < len(items):
            body["nextPageToken"] = str(skip + PAGE)
        return web.json_response(body)

    async def _list(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return _unauthorised()
        if "q" in request.query:  # the metadata scope allows no search
            return web.json_response(
                {"error": {"code": 403, "message": "Metadata scope does not support 'q'"}},
                status=403,
            )
        msgs = self.box(user).messages
        skip = int(request.query.get("pageToken", "0"))
        size = int(request.query.get("maxResults", "100"))
        body: dict[str, Any] = {
            "messages": [
                {"id": m["id"], "threadId": m["threadId"]} for m in msgs[skip : skip + size]
            ],
            "resultSizeEstimate": len(msgs),
        }
        if skip + size < len(msgs):
            body["nextPageToken"] = str(skip + size)
        return web.json_response(body)

    async def _get(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return _unauthorised()
        found = next(
            (m for m in self.box(user).messages if m["id"] == request.match_info["id"]), None
        )
        if found is None:
            return web.json_response({"error": {"code": 404, "message": "Not Found"}}, status=404)
        msg = json.loads(json.dumps(found))
        if request.query.get("format") == "metadata":
            wanted = {h.lower() for h in request.query.getall("metadataHeaders", [])}
            msg["payload"] = {
                "mimeType": msg["payload"]["mimeType"],
                "headers": [h for h in msg["payload"]["headers"] if h["name"].lower() in wanted],
            }
        return web.json_response(msg)

    async def __aenter__(self) -> FakeGoogle:
        app = web.Application()
        app.router.add_post("/token", self._token)
        app.router.add_get("/calendar/v3/calendars/{calendar}/events", self._events)
        app.router.add_get("/gmail/v1/users/{user}/messages", self._list)
        app.router.add_get("/gmail/v1/users/{user}/messages/{id}", self._get)
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
        {"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                   "status": "UNAUTHENTICATED"}},
        status=401,
    )  # fmt: skip
