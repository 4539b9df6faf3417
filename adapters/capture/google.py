"""Google Workspace through Google's API client (google-api-python-client), with a service
account and domain-wide delegation: for each person, their calendar's events and their Gmail
messages' metadata, acting as that person (the service account's token names them as subject).

The admin grants the service account the scopes below in the Admin console (Security > API
controls > Domain-wide delegation) and gives Touchbase its key file
(`TOUCHBASE_CAPTURE_GOOGLE_CREDENTIALS_FILE`). Events are asked for with a partial response
(`fields`) that leaves the summary and description out; Gmail with the metadata scope and
`format=metadata` naming only From, To, Cc and Date. The client is synchronous (httplib2), so
each person's read runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import httplib2
from google.oauth2 import service_account
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build

from bot.capture import Collected, has_video_link
from bot.capture_ports import CapturedEvent, CaptureSetup, Direction, EventKind
from bot.domain import Person

SOURCE = "google"
SCOPES = [
    "https://www.googleapis.com/auth/calendar.events.readonly",
    "https://www.googleapis.com/auth/gmail.metadata",
]
EVENT_FIELDS = (
    "nextPageToken,items(id,status,start,organizer/email,attendees/email,hangoutLink,"
    "conferenceData/entryPoints/uri,location)"
)
EVENT_FIELDS_WITH_SUMMARY = EVENT_FIELDS.replace(",location)", ",location,summary)")
MAIL_HEADERS = ["From", "To", "Cc", "Date"]
WINDOW_BACK = timedelta(days=7)
WINDOW_AHEAD = timedelta(days=1)
MAIL_SINCE = timedelta(days=30)
MAX_MESSAGES = 200  # per person and pass


def _addresses(*values: str) -> list[str]:
    return [a.strip().lower() for _, a in getaddresses(list(values)) if "@" in a]


class GoogleSource:
    """Calendars and Gmail metadata of the firm's Google Workspace."""

    name = SOURCE

    def __init__(
        self,
        *,
        credentials_file: str,
        token_url: str = "",
        base_url: str = "",
        subjects: bool = False,
    ) -> None:
        info = json.loads(Path(credentials_file).read_text(encoding="utf-8"))
        if token_url:
            info["token_uri"] = token_url
        self._creds = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=SCOPES
        )
        self.base_url = base_url.rstrip("/")
        self.subjects = subjects

    def wants(self, person: Person, setup: CaptureSetup) -> bool:
        return bool(person.email)

    async def collect(self, person: Person, setup: CaptureSetup, now: datetime) -> Collected:
        state: dict[str, Any] = json.loads(setup.cursors.get(SOURCE) or "{}")
        events = await asyncio.to_thread(self._read, person, state, now)
        return Collected(events=tuple(events), cursor=json.dumps(state))

    def _services(self, person: Person) -> tuple[Any, Any]:
        creds = self._creds.with_subject(person.email)
        http = AuthorizedHttp(creds, http=httplib2.Http(timeout=20))

        def service(name: str, version: str, endpoint: str) -> Any:
            options = {"api_endpoint": endpoint} if self.base_url else None
            return build(
                name, version, http=http, static_discovery=True, cache_discovery=False,
                client_options=options,
            )  # fmt: skip

        calendar = service("calendar", "v3", f"{self.base_url}/calendar/v3/")
        gmail = service("gmail", "v1", f"{self.base_url}/")
        return calendar, gmail

    def _read(self, person: Person, state: dict[str, Any], now: datetime) -> list[CapturedEvent]:
        calendar, gmail = self._services(person)
        own = (person.email or "").lower()
        start, end = now - WINDOW_BACK, now + WINDOW_AHEAD
        out: list[CapturedEvent] = []
        token: str | None = None
        while True:
            page = (
                calendar.events()
                .list(
                    calendarId="primary", timeMin=start.isoformat(), timeMax=end.isoformat(),
                    singleEvents=True, showDeleted=True, maxResults=250, pageToken=token,
                    fields=EVENT_FIELDS_WITH_SUMMARY if self.subjects else EVENT_FIELDS,
                )
                .execute()
            )  # fmt: skip
            for item in page.get("items", []):
                if (ev := self._event(item, person, own)) is not None:
                    out.append(ev)
            token = page.get("nextPageToken")
            if not token:
                break
        out.extend(self._mail(gmail, person, own, state, now))
        return out

    def _event(self, item: dict[str, Any], person: Person, own: str) -> CapturedEvent | None:
        raw = (item.get("start") or {}).get("dateTime")
        if not item.get("id") or not raw:
            return None  # an all-day entry, or nothing to key it on
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        organizer = str((item.get("organizer") or {}).get("email") or "").lower() or None
        emails = [str(a.get("email", "")).lower() for a in item.get("attendees") or []]
        if organizer:
            emails.append(organizer)
        links = [e.get("uri") for e in (item.get("conferenceData") or {}).get("entryPoints", [])]
        video = has_video_link(item.get("hangoutLink"), item.get("location"), *links)
        return CapturedEvent(
            source=SOURCE,
            source_id=str(item["id"]),
            person_id=person.id,
            when=when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC),
            kind=EventKind.VIDEO if video else EventKind.MEETING,
            direction=Direction.SENT if organizer in (own, None) else Direction.RECEIVED,
            emails=tuple(e for e in dict.fromkeys(emails) if e and "@" in e and e != own),
            cancelled=item.get("status") == "cancelled",
            subject=(item.get("summary") or None) if self.subjects else None,
        )

    def _mail(
        self, gmail: Any, person: Person, own: str, state: dict[str, Any], now: datetime
    ) -> list[CapturedEvent]:
        """Newest first, back to the newest one seen last time (or a month back)."""
        since = now - MAIL_SINCE
        known = state.get("gmail_newest")
        out: list[CapturedEvent] = []
        newest: str | None = None
        token: str | None = None
        read = 0
        while read < MAX_MESSAGES:
            page = (
                gmail.users().messages().list(userId="me", maxResults=50, pageToken=token).execute()
            )
            for ref in page.get("messages", []):
                if ref["id"] == known:
                    state["gmail_newest"] = newest or known
                    return out
                newest = newest or ref["id"]
                read += 1
                msg = (
                    gmail.users()
                    .messages()
                    .get(userId="me", id=ref["id"], format="metadata", metadataHeaders=MAIL_HEADERS)
                    .execute()
                )
                at = datetime.fromtimestamp(int(msg.get("internalDate", "0")) / 1000, UTC)
                if at < since:
                    state["gmail_newest"] = newest
                    return out
                headers = {
                    h["name"].lower(): h["value"] for h in msg.get("payload", {}).get("headers", [])
                }
                sent = "SENT" in msg.get("labelIds", [])
                if sent:
                    emails = _addresses(headers.get("to", ""), headers.get("cc", ""))
                else:
                    emails = _addresses(headers.get("from", ""))
                out.append(
                    CapturedEvent(
                        SOURCE, str(msg["id"]), person.id, at, EventKind.EMAIL,
                        Direction.SENT if sent else Direction.RECEIVED,
                        tuple(e for e in dict.fromkeys(emails) if e != own),
                    )
                )  # fmt: skip
            token = page.get("nextPageToken")
            if not token:
                break
        if newest:
            state["gmail_newest"] = newest
        return out
