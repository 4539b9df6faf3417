"""iCalendar: a person's published calendar (a secret iCal address) or a one-off .ics file,
read with icalendar and recurring-ical-events, turned into captured events (metadata only).

An event's title (SUMMARY), description and location are never carried over, unless the firm
allows subjects; the description and location are only searched for a Teams, Zoom or Meet link,
which makes the meeting a video call. Recurring meetings give one event per occurrence, keyed by
UID and the occurrence's original start, so a moved occurrence updates its own suggestion.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import recurring_ical_events

from bot.capture import has_video_link
from bot.capture_ports import CapturedEvent, Direction, EventKind

SOURCE = "ics"
LOOKBACK = timedelta(days=7)  # a feed is read a week back
LOOKAHEAD = timedelta(days=1)  # and a day ahead (suggestions show once the meeting happened)
_VIDEO_PROPS = ("X-MICROSOFT-SKYPETEAMSMEETINGURL", "X-GOOGLE-CONFERENCE", "URL", "CONFERENCE")


class CalendarFileError(ValueError):
    """The data is not an iCalendar file."""


def _address(value: Any) -> str | None:
    text = str(value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.lower() if "@" in text else None


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None  # an all-day entry (a date): a holiday or an absence, not a meeting


def parse(data: bytes | str) -> icalendar.Calendar:
    try:
        cal = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise CalendarFileError("not an iCalendar file") from exc
    if not isinstance(cal, icalendar.Calendar):
        raise CalendarFileError("not an iCalendar file")
    return cal


def events_from_ics(
    data: bytes | str,
    person_id: int,
    person_email: str | None,
    start: datetime,
    end: datetime,
    *,
    subjects: bool = False,
) -> list[CapturedEvent]:
    """The meetings in [start, end) with their attendees' addresses."""
    cal = parse(data)
    own = (person_email or "").strip().lower()
    series_uids = {
        str(c.get("UID"))
        for c in cal.walk("VEVENT")
        if c.get("RRULE") is not None or c.get("RDATE") is not None or c.get("RECURRENCE-ID")
    }
    out: list[CapturedEvent] = []
    for ev in recurring_ical_events.of(cal, skip_bad_series=True).between(start, end):
        when = _aware(ev.get("DTSTART").dt if ev.get("DTSTART") else None)
        uid = str(ev.get("UID") or "").strip()
        if when is None or not uid:
            continue
        original = ev.get("RECURRENCE-ID")
        key = uid
        if uid in series_uids:
            slot = _aware(original.dt) if original is not None else when
            key = f"{uid}#{(slot or when).astimezone(UTC):%Y%m%dT%H%M%SZ}"
        attendees = ev.get("ATTENDEE") or []
        if not isinstance(attendees, list):
            attendees = [attendees]
        emails = [a for a in (_address(x) for x in attendees) if a]
        organizer = _address(ev.get("ORGANIZER"))
        if organizer:
            emails.append(organizer)
        emails = [e for e in dict.fromkeys(emails) if e != own]
        texts = [str(ev.get(p) or "") for p in ("DESCRIPTION", "LOCATION", *_VIDEO_PROPS)]
        kind = EventKind.VIDEO if has_video_link(*texts) else EventKind.MEETING
        status = str(ev.get("STATUS") or "").upper()
        out.append(
            CapturedEvent(
                source=SOURCE,
                source_id=key[:400],
                person_id=person_id,
                when=when.astimezone(UTC),
                kind=kind,
                direction=Direction.SENT if organizer in (own, None) else Direction.RECEIVED,
                emails=tuple(emails),
                cancelled=status == "CANCELLED",
                subject=str(ev.get("SUMMARY") or "") or None if subjects else None,
            )
        )
    return out


def window(now: datetime) -> tuple[datetime, datetime]:
    return now - LOOKBACK, now + LOOKAHEAD
