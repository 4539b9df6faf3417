"""Microsoft 365 through Microsoft Graph, with the official SDK (msgraph-sdk), app-only.

The firm's admin registers an app with the application permissions `Calendars.ReadBasic.All`
and `Mail.ReadBasic.All` and grants admin consent; Touchbase signs in with the client
credentials grant (`TOUCHBASE_CAPTURE_GRAPH_TENANT_ID`, `_CLIENT_ID`, `_CLIENT_SECRET`).
People are matched by e-mail: each person's address is their Graph user.

Per person and pass: the calendar view's delta (a two-week window around today, restarted as
the days move on) and the delta of the Sent Items and Inbox message headers, each resumed from
its `@odata.deltaLink`. Messages are asked for with `$select` of the sender, recipients and
dates only, so no subject or body is even sent; the calendar view's delta cannot `$select`, so
an event's subject arrives and is dropped here unless the firm allows subjects.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from azure.core.credentials import AccessToken
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from msgraph.generated.models.event import Event
from msgraph.generated.models.message import Message
from msgraph.generated.users.item.calendar_view.delta.delta_request_builder import (
    DeltaRequestBuilder as CalendarDelta,
)
from msgraph.generated.users.item.mail_folders.item.messages.delta.delta_request_builder import (
    DeltaRequestBuilder as MessagesDelta,
)
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient

from bot.capture import Collected, has_video_link
from bot.capture_ports import CapturedEvent, CaptureSetup, Direction, EventKind
from bot.domain import Person

SOURCE = "graph"
SCOPE = "https://graph.microsoft.com/.default"
WINDOW_BACK = timedelta(days=7)
WINDOW_AHEAD = timedelta(days=7)
MAIL_SINCE = timedelta(days=30)  # the first read of a mailbox goes back this far
MAIL_FIELDS = ["from", "toRecipients", "ccRecipients", "sentDateTime", "receivedDateTime"]


class GraphError(Exception):
    """Graph or its token endpoint refused; the message holds no secret."""


class ClientCredentials:
    """An async token credential: the OAuth 2.0 client credentials grant against the tenant's
    token endpoint (Microsoft Entra ID, or a local fake in tests); the token is reused until a
    minute before it expires."""

    def __init__(self, token_url: str, client_id: str, client_secret: str) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self._token: AccessToken | None = None
        self._http = httpx.AsyncClient(timeout=20.0)

    async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        if self._token is not None and self._token.expires_on - 60 > time.time():
            return self._token
        resp = await self._http.post(
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._secret,
                "scope": " ".join(scopes) or SCOPE,
            },
        )
        if resp.status_code != 200:
            raise GraphError(f"the token endpoint answered {resp.status_code}")
        body = resp.json()
        self._token = AccessToken(
            str(body["access_token"]), int(time.time()) + int(body.get("expires_in", 3600))
        )
        return self._token

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ClientCredentials:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _address(recipient: Any) -> str | None:
    email = getattr(recipient, "email_address", None)
    address = getattr(email, "address", None)
    return address.strip().lower() if address and "@" in address else None


def _when(value: Any) -> datetime | None:
    """Graph's dateTimeTimeZone ("2026-11-22T10:00:00.0000000", "UTC") as an aware datetime."""
    raw = getattr(value, "date_time", None)
    if not raw:
        return None
    head, _, fraction = raw.partition(".")
    at = datetime.fromisoformat(head + (f".{fraction[:6]}" if fraction else ""))
    try:
        tz = ZoneInfo(getattr(value, "time_zone", None) or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    return at.replace(tzinfo=tz).astimezone(UTC) if at.tzinfo is None else at.astimezone(UTC)


def _removed(item: Any) -> bool:
    return "@removed" in (getattr(item, "additional_data", None) or {})


def event_to_captured(
    ev: Event, person: Person, now: datetime, *, subjects: bool = False
) -> CapturedEvent | None:
    if not ev.id:
        return None
    if _removed(ev):
        return CapturedEvent(
            SOURCE, ev.id, person.id, now, EventKind.MEETING, Direction.RECEIVED, (), True
        )
    when = _when(ev.start)
    if when is None or ev.is_all_day:
        return None
    own = (person.email or "").lower()
    organizer = _address(ev.organizer)
    emails = [a for a in (_address(x) for x in ev.attendees or []) if a]
    if organizer:
        emails.append(organizer)
    join = getattr(ev.online_meeting, "join_url", None)
    place = getattr(ev.location, "display_name", None)
    video = bool(ev.is_online_meeting) or has_video_link(join, ev.online_meeting_url, place)
    return CapturedEvent(
        source=SOURCE,
        source_id=ev.id,
        person_id=person.id,
        when=when,
        kind=EventKind.VIDEO if video else EventKind.MEETING,
        direction=Direction.SENT if organizer in (own, None) else Direction.RECEIVED,
        emails=tuple(e for e in dict.fromkeys(emails) if e != own),
        cancelled=bool(ev.is_cancelled),
        subject=(ev.subject or None) if subjects else None,
    )


def message_to_captured(
    msg: Message, person: Person, direction: Direction, now: datetime
) -> CapturedEvent | None:
    if not msg.id:
        return None
    if _removed(msg):
        return CapturedEvent(SOURCE, msg.id, person.id, now, EventKind.EMAIL, direction, (), True)
    if direction is Direction.SENT:
        people = [*(msg.to_recipients or []), *(msg.cc_recipients or [])]
        when = msg.sent_date_time
    else:
        people = [msg.from_] if msg.from_ else []
        when = msg.received_date_time
    if when is None:
        return None
    own = (person.email or "").lower()
    emails = tuple(a for a in dict.fromkeys(_address(p) for p in people) if a and a != own)
    at = when if when.tzinfo else when.replace(tzinfo=UTC)
    return CapturedEvent(
        SOURCE, msg.id, person.id, at.astimezone(UTC), EventKind.EMAIL, direction, emails
    )


class GraphSource:
    """Calendars and mail headers of the firm's Microsoft 365 tenant."""

    name = SOURCE

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        base_url: str = "https://graph.microsoft.com/v1.0",
        authority: str = "https://login.microsoftonline.com",
        subjects: bool = False,
    ) -> None:
        self.subjects = subjects
        self.credential = ClientCredentials(
            f"{authority.rstrip('/')}/{tenant_id}/oauth2/v2.0/token", client_id, client_secret
        )
        host = urlsplit(base_url).hostname or "graph.microsoft.com"
        auth = AzureIdentityAuthenticationProvider(
            self.credential, scopes=[SCOPE], allowed_hosts=[host]
        )
        adapter = GraphRequestAdapter(auth)
        adapter.base_url = base_url.rstrip("/")
        self.client = GraphServiceClient(request_adapter=adapter)

    def wants(self, person: Person, setup: CaptureSetup) -> bool:
        return bool(person.email)

    async def collect(self, person: Person, setup: CaptureSetup, now: datetime) -> Collected:
        assert person.email
        state: dict[str, Any] = json.loads(setup.cursors.get(SOURCE) or "{}")
        user = self.client.users.by_user_id(person.email)
        events: list[CapturedEvent] = []
        for ev in await self._calendar(user, state, now):
            if (captured := event_to_captured(ev, person, now, subjects=self.subjects)) is not None:
                events.append(captured)
        for folder, direction in (("sentitems", Direction.SENT), ("inbox", Direction.RECEIVED)):
            for msg in await self._mail(user, folder, state, now):
                if (captured := message_to_captured(msg, person, direction, now)) is not None:
                    events.append(captured)
        return Collected(events=tuple(events), cursor=json.dumps(state))

    async def _calendar(
        self, user: UserItemRequestBuilder, state: dict[str, Any], now: datetime
    ) -> list[Event]:
        link = state.get("calendar")
        until = state.get("calendar_until")
        builder = user.calendar_view.delta
        if link and until and datetime.fromisoformat(until) > now + timedelta(days=1):
            page = await builder.with_url(link).get()
        else:  # the first read, or the window has moved on: a fresh one around today
            start, end = now - WINDOW_BACK, now + WINDOW_AHEAD
            query = CalendarDelta.DeltaRequestBuilderGetQueryParameters(
                start_date_time=start.isoformat(), end_date_time=end.isoformat()
            )
            config = RequestConfiguration(query_parameters=query)
            config.headers.add("Prefer", 'outlook.timezone="UTC"')
            page = await builder.get(request_configuration=config)
            state["calendar_until"] = end.isoformat()
        items: list[Event] = []
        while page is not None:
            items.extend(page.value or [])
            if page.odata_next_link:
                page = await builder.with_url(page.odata_next_link).get()
                continue
            if page.odata_delta_link:
                state["calendar"] = page.odata_delta_link
            break
        return items

    async def _mail(
        self, user: UserItemRequestBuilder, folder: str, state: dict[str, Any], now: datetime
    ) -> list[Message]:
        builder = user.mail_folders.by_mail_folder_id(folder).messages.delta
        link = state.get(folder)
        if link:
            page = await builder.with_url(link).get()
        else:
            since = (now - MAIL_SINCE).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            query = MessagesDelta.DeltaRequestBuilderGetQueryParameters(
                select=MAIL_FIELDS, filter=f"receivedDateTime ge {since}"
            )
            page = await builder.get(
                request_configuration=RequestConfiguration(query_parameters=query)
            )
        items: list[Message] = []
        while page is not None:
            items.extend(page.value or [])
            if page.odata_next_link:
                page = await builder.with_url(page.odata_next_link).get()
                continue
            if page.odata_delta_link:
                state[folder] = page.odata_delta_link
            break
        return items
