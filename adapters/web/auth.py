"""Who may use the web chat and dashboard: sessions, login, CSRF and the security headers.

- Bound to a loopback address (the default, 127.0.0.1) no login is asked, but the Host header
  must name this computer (so a page elsewhere cannot reach the server by DNS rebinding).
- Bound to any other address, every page and API needs a login with TOUCHBASE_WEB_PASSWORD;
  the server refuses to start there without one (`check_bind`).
- The session id lives in a signed cookie (HMAC-SHA256 with TOUCHBASE_WEB_SESSION_SECRET, or a
  random secret per process, which signs everyone out at a restart): HttpOnly, SameSite=Strict,
  and Secure when the request came over https. A signed-in session is also kept server-side
  (`SessionStore`, in the database): signing out revokes it, so a copied cookie stops working.
- Failed sign-ins are counted per account (not per address: behind a proxy every address is
  the proxy's), in the database; past LOGIN_ATTEMPTS the account is locked, a minute at first
  and twice as long at each further failure, up to an hour.
- Every data-changing request carries the session's CSRF token in the X-CSRF-Token header (or
  a `csrf` form field), even on localhost: another local page could otherwise drive the chat.
- Responses carry a strict Content-Security-Policy: scripts only from this server's files.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, Protocol
from urllib.parse import quote, urlsplit

from aiohttp import web

from adapters.web.render import page, template
from app.settings import Settings

SESSION_COOKIE = "touchbase_session"
CSRF_HEADER = "X-CSRF-Token"
SESSION_HOURS = 12
LOGIN_ATTEMPTS = 10  # failed sign-ins to an account before it is locked
FIRST_LOCK = timedelta(minutes=1)  # then doubled at each further failure
LONGEST_LOCK = timedelta(hours=1)
ACCOUNT = "web"  # the one account TOUCHBASE_WEB_PASSWORD signs in to
_LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# plotly.js sets inline styles on the elements it draws, so the dashboard allows inline style
# (never inline script).
CSP_CHARTS = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebAccessError(Exception):
    """The web chat cannot be served safely with these settings."""


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings) -> None:
    if is_loopback(settings.host):
        return
    password = settings.web.password.get_secret_value() if settings.web.password else ""
    if not password:
        raise WebAccessError(
            f"Refusing to serve the web chat on {settings.host}: anyone who can reach that "
            "address could read your clients. Set TOUCHBASE_WEB_PASSWORD (and, for sessions "
            "that survive a restart, TOUCHBASE_WEB_SESSION_SECRET), or bind to 127.0.0.1."
        )


class SessionStore(Protocol):
    """Where signed-in sessions and failed sign-ins are kept (the database, in production)."""

    async def start(self, token_hash: str, account: str, lasts: timedelta) -> None: ...

    async def active(self, token_hash: str) -> bool: ...

    async def revoke(self, token_hash: str) -> None: ...

    async def locked_until(self, account: str) -> datetime | None: ...

    async def failed(
        self, account: str, *, free: int, first_lock: timedelta, longest: timedelta
    ) -> int: ...

    async def succeeded(self, account: str) -> None: ...


def token_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    sid: str
    authed: bool = False
    issued: int = 0


SESSION: web.RequestKey[Session] = web.RequestKey("web_session", Session)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def security_headers(response: web.StreamResponse, *, charts: bool = False) -> None:
    response.headers["Content-Security-Policy"] = CSP_CHARTS if charts else CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")


class Guard:
    def __init__(self, settings: Settings, sessions: SessionStore) -> None:
        check_bind(settings)
        self.sessions = sessions
        self.login_required = not is_loopback(settings.host)
        self._password = (
            settings.web.password.get_secret_value().encode() if settings.web.password else b""
        )
        given = settings.web.session_secret
        self._secret = given.get_secret_value().encode() if given else secrets.token_bytes(32)

    # --- the cookie -------------------------------------------------------------------------

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self._secret, payload, hashlib.sha256).digest())

    def dump(self, session: Session) -> str:
        payload = json.dumps(
            {"sid": session.sid, "auth": session.authed, "t": session.issued},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{self._sign(payload)}"

    async def load(self, request: web.Request) -> Session | None:
        """The request's session; a signed-in one only while the server still holds it (not
        signed out, not expired)."""
        session = self._from_cookie(request)
        if (
            session is not None
            and session.authed
            and self.login_required
            and not await self.sessions.active(token_hash(session.sid))
        ):
            return replace(session, authed=False)
        return session

    def _from_cookie(self, request: web.Request) -> Session | None:
        raw = request.cookies.get(SESSION_COOKIE, "")
        body, _, signature = raw.partition(".")
        if not body or not signature:
            return None
        try:
            payload = _unb64(body)
            if not hmac.compare_digest(self._sign(payload), signature):
                return None
            data = json.loads(payload)
            session = Session(str(data["sid"]), bool(data["auth"]), int(data["t"]))
        except (ValueError, KeyError, TypeError):
            return None
        if session.authed and time.time() - session.issued > SESSION_HOURS * 3600:
            return replace(session, authed=False)
        return session

    @staticmethod
    def new_session(*, authed: bool = False) -> Session:
        return Session(secrets.token_urlsafe(24), authed, int(time.time()))

    def csrf_token(self, session: Session) -> str:
        return _b64(
            hmac.new(self._secret, b"csrf:" + session.sid.encode(), hashlib.sha256).digest()
        )

    def set_cookie(
        self, response: web.StreamResponse, request: web.Request, session: Session
    ) -> None:
        secure = request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"
        response.set_cookie(
            SESSION_COOKIE,
            self.dump(session),
            httponly=True,
            samesite="Strict",
            secure=secure,
            path="/",
            max_age=SESSION_HOURS * 3600,
        )

    # --- checks -----------------------------------------------------------------------------

    def host_ok(self, request: web.Request) -> bool:
        """On localhost, only requests addressed to this computer by name or loopback address."""
        if self.login_required:
            return True
        host = request.headers.get("Host", "")
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
        if not is_loopback(name):
            return False
        return (
            request.headers.get("Sec-Fetch-Site", "same-origin")
            in (
                "same-origin",
                "none",
            )
            or request.method in _SAFE_METHODS
        )

    def csrf_ok(self, request: web.Request, session: Session, form_value: str = "") -> bool:
        given = request.headers.get(CSRF_HEADER, "") or form_value
        return bool(given) and hmac.compare_digest(given, self.csrf_token(session))

    def password_ok(self, given: str) -> bool:
        return bool(self._password) and hmac.compare_digest(given.encode(), self._password)

    # --- wrappers for handlers --------------------------------------------------------------

    def protect(
        self, handler: Handler, *, kind: Literal["page", "api"], charts: bool = False
    ) -> Handler:
        """A handler that runs only for a signed-in session (when login is needed) and, for
        anything but GET, only with the session's CSRF token."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            if not self.host_ok(request):
                return _refuse(403, "This address is not served here.", kind)
            session = await self.load(request)
            fresh = session is None
            current = session or self.new_session()
            response: web.StreamResponse
            if self.login_required and not current.authed:
                if kind == "page" and request.method in _SAFE_METHODS:
                    response = _redirect(f"/login?next={quote(request.path_qs, safe='')}")
                else:
                    response = _refuse(401, "Sign in first.", kind)
            elif request.method not in _SAFE_METHODS and (
                fresh or not self.csrf_ok(request, current)
            ):
                response = _refuse(403, "Missing or wrong CSRF token. Reload the page.", kind)
            else:
                request[SESSION] = current
                response = await handler(request)
            if fresh:
                self.set_cookie(response, request, current)
            security_headers(response, charts=charts)
            return response

        return guarded

    # --- login and logout -------------------------------------------------------------------

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        if not self.host_ok(request):
            return _refuse(403, "This address is not served here.", "page")
        session = await self.load(request)
        fresh = session is None
        current = session or self.new_session()
        target = _safe_next(request.query.get("next", "/"))
        if current.authed or not self.login_required:
            response: web.StreamResponse = _redirect(target)
        else:
            response = self._login_form(current, target, "")
        if fresh:
            self.set_cookie(response, request, current)
        security_headers(response)
        return response

    def _login_form(
        self, session: Session, target: str, problem: str, status: int = 200
    ) -> web.Response:
        html = page(
            template("login.html"),
            csrf=self.csrf_token(session),
            next=target,
            error=problem,
            error_hidden="" if problem else "hidden",
        )
        return web.Response(text=html, content_type="text/html", status=status)

    async def login(self, request: web.Request) -> web.StreamResponse:
        if not self.host_ok(request):
            return _refuse(403, "This address is not served here.", "page")
        form = await request.post()
        session = await self.load(request)
        target = _safe_next(str(form.get("next", "/")))
        if session is None or not self.csrf_ok(request, session, str(form.get("csrf", ""))):
            response: web.StreamResponse = _refuse(
                403, "The sign-in form expired. Reload it.", "page"
            )
        elif await self.sessions.locked_until(ACCOUNT) is not None:
            response = self._login_form(
                session, target, "Too many attempts. Wait a few minutes.", 429
            )
        elif self.password_ok(str(form.get("password", ""))):
            await self.sessions.succeeded(ACCOUNT)
            fresh = self.new_session(authed=True)  # a new session id: never the one before
            await self.sessions.start(
                token_hash(fresh.sid), ACCOUNT, timedelta(hours=SESSION_HOURS)
            )
            response = _redirect(target)
            self.set_cookie(response, request, fresh)
        else:
            await self.sessions.failed(
                ACCOUNT, free=LOGIN_ATTEMPTS, first_lock=FIRST_LOCK, longest=LONGEST_LOCK
            )
            response = self._login_form(session, target, "That password is not right.", 401)
        security_headers(response)
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        session = self._from_cookie(request)
        form = await request.post()
        if session is None or not self.csrf_ok(request, session, str(form.get("csrf", ""))):
            response: web.StreamResponse = _refuse(403, "Missing or wrong CSRF token.", "page")
        else:
            await self.sessions.revoke(token_hash(session.sid))  # ended here and everywhere
            response = _redirect("/login" if self.login_required else "/")
            self.set_cookie(response, request, self.new_session())
        security_headers(response)
        return response


def _safe_next(target: str) -> str:
    """Only a path on this server: never `//elsewhere` or a full address."""
    if any(ord(c) <= 0x20 or c == "\x7f" for c in target) or "\\" in target:
        return "/"  # browsers drop tabs and newlines, which would turn "/\t/x" into "//x"
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return "/"
    return target


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def _refuse(status: int, text: str, kind: str) -> web.Response:
    if kind == "api":
        return web.json_response({"error": text}, status=status)
    return web.Response(text=text, status=status, content_type="text/plain")
