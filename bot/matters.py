"""Matters: status updates at the client's rhythm, each with an estimate of when it will be done.

A client working with the firm on something cares less that we are on it than about when it will
be solved. So every open matter has an update rhythm, and its lead is nudged when an update is due:
"Send Acme a status update, with your estimate".

The rules here are pure functions of data and a date; `MatterSource` feeds them to the digest.

Rhythm. A matter's own `rhythm_days` if set, else the client's `update_rhythm_days`, else weekly.

When an update is due. The clock starts at the later of the day the matter was opened and the
last status update to the client that counts for it: one recorded for this matter, or one for the
client as a whole (a status-update touch with no matter, e.g. ``/touch Acme status update``),
which covers every matter of that client. An update is due once a full rhythm has passed since
then (opened on a Monday with a weekly rhythm: due the next Monday), and later is more urgent.

Estimates. Each `/update` may carry an estimate of the completion date. The estimate "slips" when
it is later than the one before it (or, for the first estimate, later than the expected
completion date given when the matter was opened); an estimate past the expected date is also
flagged. Both show on the matter, e.g. "estimate slipped from 12 Dec to 9 Jan".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil import parser as date_parser  # type: ignore[import-untyped, unused-ignore]
from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped, unused-ignore]

from bot.clock import zone
from bot.config import CoreConfig
from bot.domain import Client
from bot.matter_ports import Matter, StatusUpdate
from bot.messages import Action
from bot.nudges import Nudge, local_day, people_by_id
from bot.ports import UnitOfWork

DEFAULT_RHYTHM_DAYS = 7
MATTER = "matter"


# --- rhythm -----------------------------------------------------------------------------------


def rhythm_days(matter: Matter, client: Client | None) -> int:
    """The matter's own rhythm, else the client's update preference, else weekly."""
    if matter.rhythm_days and matter.rhythm_days > 0:
        return matter.rhythm_days
    if client is not None and client.update_rhythm_days and client.update_rhythm_days > 0:
        return client.update_rhythm_days
    return DEFAULT_RHYTHM_DAYS


def counts_for(update: StatusUpdate, matter: Matter) -> bool:
    """A status update counts for a matter when it names it, or names no matter of the client."""
    if update.client_id != matter.client_id:
        return False
    return update.matter_id is None or update.matter_id == matter.id


def last_update_on(matter: Matter, updates: Iterable[StatusUpdate]) -> date | None:
    days = [u.occurred_on for u in updates if counts_for(u, matter)]
    return max(days) if days else None


def opened_on(matter: Matter, tz: str = "UTC") -> date:
    return matter.opened_at.astimezone(zone(tz)).date()


def next_update_on(opened: date, last_update: date | None, rhythm: int) -> date:
    """The day the next status update is due: a rhythm after the later of opening and the last."""
    start = max(opened, last_update) if last_update else opened
    return start + timedelta(days=rhythm)


@dataclass(frozen=True, slots=True)
class MatterView:
    """One open matter with everything the nudge rule and the card need."""

    matter: Matter
    client_name: str
    rhythm: int
    opened: date
    last_update: date | None
    estimates: tuple[date, ...] = ()  # this matter's estimates, in the order they were given

    @property
    def next_update(self) -> date:
        return next_update_on(self.opened, self.last_update, self.rhythm)


def view(
    matter: Matter, client: Client | None, updates: Sequence[StatusUpdate], tz: str = "UTC"
) -> MatterView:
    mine = [u for u in updates if counts_for(u, matter)]
    estimates = tuple(
        u.estimate_on
        for u in sorted(mine, key=lambda u: (u.occurred_on, u.touch_id))
        if u.matter_id == matter.id and u.estimate_on is not None
    )
    return MatterView(
        matter=matter,
        client_name=client.name if client else "the client",
        rhythm=rhythm_days(matter, client),
        opened=opened_on(matter, tz),
        last_update=last_update_on(matter, mine),
        estimates=estimates,
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def matter_nudge(v: MatterView, today: date) -> Nudge | None:
    """A "matter" nudge for the lead once a status update is due; None before that, for closed
    matters and for matters with no lead. Urgency 1.5 when just due, one more per rhythm late:
    a promised update weighs a little more than a routine call."""
    matter = v.matter
    if not matter.is_open or matter.lead_id is None:
        return None
    late = (today - v.next_update).days
    if late < 0:
        return None
    every = "every week" if v.rhythm == 7 else f"every {_plural(v.rhythm, 'day')}"
    if v.last_update is None:
        since = (today - v.opened).days
        detail = (
            f"{matter.title}: no update yet, {_plural(since, 'day')} since it was opened; "
            f"{v.client_name} hears from us {every}."
        )
    else:
        ago = (today - v.last_update).days
        detail = (
            f"{matter.title}: last update {_plural(ago, 'day')} ago; "
            f"{v.client_name} hears from us {every}."
        )
    if v.estimates:
        detail += f" Your last estimate: {short_date(v.estimates[-1], today)}."
    return Nudge(
        key=f"matter:{matter.id}",
        person_id=matter.lead_id,
        kind=MATTER,
        urgency=1.5 + late / v.rhythm,
        title=f"Send {v.client_name} a status update, with your estimate",
        detail=detail,
        client_id=matter.client_id,
        actions=(Action("matter_open", "Open matter", str(matter.id)),),
    )


# --- estimates --------------------------------------------------------------------------------


def short_date(day: date, today: date) -> str:
    """ "12 Dec"; with the year when it is not within about ten months of today."""
    if abs((day - today).days) < 300:
        return f"{day.day} {day:%b}"
    return f"{day.day} {day:%b %Y}"


def estimate_slip(estimates: Sequence[date], expected_on: date | None, today: date) -> str | None:
    """What the latest estimate says against the one before it (else the expected date):
    "estimate slipped from 12 Dec to 9 Jan", "... past the expected 12 Dec". None when the
    latest estimate holds or improves and is not past the expected date."""
    if not estimates:
        return None
    latest = estimates[-1]
    before = estimates[-2] if len(estimates) > 1 else expected_on
    parts: list[str] = []
    if before is not None and latest > before:
        parts.append(
            f"estimate slipped from {short_date(before, today)} to {short_date(latest, today)}"
        )
    if expected_on is not None and latest > expected_on and before != expected_on:
        parts.append(f"past the expected {short_date(expected_on, today)}")
    return ", ".join(parts) if parts else None


# --- dates ahead ------------------------------------------------------------------------------

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_CALENDAR = re.compile(
    rf"^(?:{_MONTH}\s+{_DAY}|{_DAY}(?:\s+of)?\s+{_MONTH})(?:,?\s+(?P<year>{_YEAR}))?$", re.I
)
_NUMERIC = re.compile(r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?$")
_IN = re.compile(r"^in\s+(?P<n>\d{1,3}|an?|one|two|three|four|six)\s+(?P<unit>day|week|month)s?$")
_WEEKDAY = re.compile(
    r"^(?:(?P<next>next|this|on)\s+)?"
    r"(?P<wd>mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?\.?$"
)
_SMALL = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "six": 6}


def _calendar(phrase: str, year: int) -> date | None:
    try:
        parsed: datetime = date_parser.parse(phrase, default=datetime(year, 1, 1))
    except (ValueError, OverflowError):
        return None
    return parsed.date()


def future_date(phrase: str, today: date) -> date | None:
    """A date on or after today from what people type for an estimate or an expected date:
    "Dec 12", "12 December", "2026-12-12", "12/12" (month/day), "Friday", "next Friday",
    "tomorrow", "in 3 weeks", "end of month". Without a year, the next such date. None if it
    is not a date, or is in the past."""
    text = " ".join(phrase.lower().strip(" .,;:").split())
    text = re.sub(r"^(?:on|by|the)\s+", "", text)
    found: date | None = None
    if text == "today":
        found = today
    elif text == "tomorrow":
        found = today + timedelta(days=1)
    elif text in ("end of month", "end of the month", "month end"):
        found = today + relativedelta(day=31)
    elif text in ("end of week", "end of the week", "week end"):
        found = today + timedelta(days=(4 - today.weekday()) % 7)
    elif _ISO.match(text):
        try:
            y, m, d = (int(p) for p in text.split("-"))
            found = date(y, m, d)
        except ValueError:
            return None
    elif (cal := _CALENDAR.match(text)) is not None:
        if cal.group("year"):
            found = _calendar(text, today.year)
        else:
            for year in (today.year, today.year + 1):
                found = _calendar(text, year)
                if found is not None and found >= today:
                    break
    elif (num := _NUMERIC.match(text)) is not None:
        month, day = int(num.group("m")), int(num.group("d"))
        years = [int(num.group("y"))] if num.group("y") else [today.year, today.year + 1]
        if years[0] < 100:
            years = [2000 + years[0]]
        for year in years:
            try:
                found = date(year, month, day)
            except ValueError:
                return None
            if found >= today:
                break
    elif (ahead := _IN.match(text)) is not None:
        n_text = ahead.group("n")
        n = int(n_text) if n_text.isdigit() else _SMALL[n_text]
        unit = ahead.group("unit")
        step = {"day": relativedelta(days=n), "week": relativedelta(weeks=n)}.get(
            unit, relativedelta(months=n)
        )
        found = today + step
    elif (wd := _WEEKDAY.match(text)) is not None:
        weekday = _WEEKDAYS.index(wd.group("wd")[:3])
        days = (weekday - today.weekday()) % 7
        if wd.group("next") == "next" and days == 0:
            days = 7
        found = today + timedelta(days=days)
    if found is None or found < today:
        return None
    return found


_DATE_WORDS = 4  # the longest date phrase tried after a keyword ("December 12th, 2026")


@dataclass(frozen=True, slots=True)
class TakenDate:
    """A date taken out of free text after a keyword ("estimate Dec 12")."""

    text: str  # the text without the keyword and the date
    on: date | None  # None when the keyword is absent
    problem: str | None = None  # the keyword was there but no date ahead followed it


def take_date(text: str, keywords: Sequence[str], today: date) -> TakenDate:
    """Find the last of `keywords` followed by a date ahead, and take both out of `text`."""
    if not keywords:
        return TakenDate(text.strip(), None)
    words = "|".join(re.escape(k) for k in keywords)
    pattern = re.compile(
        rf"(?:^|(?<=[\s,;(]))(?:{words})(?::|\s+(?:of|is|now|on|by|to be))?\s+", re.IGNORECASE
    )
    found = list(pattern.finditer(text))
    if not found:
        return TakenDate(text.strip(), None)
    for m in reversed(found):
        after = text[m.end() :]
        tokens = list(re.finditer(r"\S+", after))
        for n in range(min(_DATE_WORDS, len(tokens)), 0, -1):
            end = tokens[n - 1].end()
            phrase = after[:end]
            on = future_date(phrase, today)
            if on is not None:
                rest = (text[: m.start()] + " " + after[end:]).strip()
                return TakenDate(_tidy(rest), on)
    keyword = found[-1].group().strip().rstrip(":").split()[0]
    return TakenDate(
        text.strip(),
        None,
        f'I couldn\'t read a date still to come after "{keyword}". '
        "Write it like Dec 12, 12 December, 2026-12-12 or next Friday.",
    )


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    text = re.sub(r"\s+([,;.])", r"\1", text)
    text = re.sub(r"([,;])(?:\s*[,;])+", r"\1", text)
    return text.strip(" ,;-–—")


# --- the digest source --------------------------------------------------------------------------


async def matter_views(
    uow: UnitOfWork, matters: Sequence[Matter], tz_of: dict[int, str] | None = None
) -> list[MatterView]:
    """Views of these matters, with their clients and status updates read in two queries."""
    client_ids = sorted({m.client_id for m in matters})
    updates = await uow.matters.status_updates(client_ids)
    clients: dict[int, Client | None] = {cid: await uow.clients.get(cid) for cid in client_ids}
    out = []
    for m in matters:
        tz = (tz_of or {}).get(m.lead_id or 0, "UTC")
        out.append(view(m, clients.get(m.client_id), updates, tz))
    return out


class MatterSource:
    """Open matters whose status update is due, for their leads."""

    async def nudges(
        self,
        uow: UnitOfWork,
        person_ids: Sequence[int] | None,
        now: datetime,
        config: CoreConfig,
    ) -> list[Nudge]:
        people = await people_by_id(uow, person_ids)
        if not people:
            return []
        matters = await uow.matters.list(
            lead_ids=list(people) if person_ids is not None else None, open_only=True
        )
        matters = [m for m in matters if m.lead_id in people]
        if not matters:
            return []
        tz_of = {pid: p.tz or config.default_tz for pid, p in people.items()}
        out: list[Nudge] = []
        for v in await matter_views(uow, matters, tz_of):
            lead = people[v.matter.lead_id or 0]
            nudge = matter_nudge(v, local_day(lead, now, config.default_tz))
            if nudge is not None:
                out.append(nudge)
        return out
