"""Your own settings: /touchbase tz and /touchbase workdays.

/touchbase tz                       your time zone now
/touchbase tz Europe/London         set it (an IANA zone name)
/touchbase workdays                 the days you get a morning digest
/touchbase workdays mon-fri         a range, or a list: mon,tue,thu
"""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.app import Context, Registry, Reply
from bot.messages import Message, Section, Tone, error
from bot.text import clip

TZ_USAGE = "Try: /touchbase tz Europe/London (or America/New_York, Asia/Singapore, UTC)"
WORKDAYS_USAGE = "Try: /touchbase workdays mon-fri, or a list such as mon,tue,thu"
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAYS = {
    "mo": 0, "mon": 0, "monday": 0,
    "tu": 1, "tue": 1, "tues": 1, "tuesday": 1,
    "we": 2, "wed": 2, "weds": 2, "wednesday": 2,
    "th": 3, "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fr": 4, "fri": 4, "friday": 4,
    "sa": 5, "sat": 5, "saturday": 5,
    "su": 6, "sun": 6, "sunday": 6,
}  # fmt: skip


def valid_zone(name: str) -> str | None:
    """The canonical spelling of an IANA time zone name (any case), or None if there is none."""
    name = name.strip()
    if not name or len(name) > 64 or not re.fullmatch(r"[A-Za-z0-9_+\-/]+", name):
        return None
    if name.upper() == "UTC":
        return "UTC"
    known = _zones_by_folded().get(name.casefold())
    if known is not None:
        return known
    try:  # a zone the tz database knows but does not list
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


@cache
def _zones_by_folded() -> dict[str, str]:
    return {z.casefold(): z for z in available_timezones()}


def parse_workdays(text: str) -> tuple[int, ...] | None:
    """Weekday numbers (Monday 0) from "mon-fri", "mon,tue,thu", "Mon Wed Fri", "sun-thu";
    None if any part is not a day."""
    days: set[int] = set()
    text = re.sub(r"\s*[-–]\s*", "-", text.casefold().strip())
    text = {"weekdays": "mon-fri", "every day": "mon-sun", "all": "mon-sun"}.get(text, text)
    parts = [p for p in re.split(r"[,\s;/]+|\band\b", text) if p]
    if not parts:
        return None
    for part in parts:
        first, dash, last = part.partition("-")
        if first not in _DAYS or (dash and last not in _DAYS):
            return None
        start, end = _DAYS[first], _DAYS[last] if dash else _DAYS[first]
        day = start
        while True:  # a range may wrap round the week: sun-thu
            days.add(day)
            if day == end:
                break
            day = (day + 1) % 7
    return tuple(sorted(days))


def describe_days(days: tuple[int, ...]) -> str:
    if days == (0, 1, 2, 3, 4):
        return "Monday to Friday"
    if len(days) == 7:
        return "every day"
    return ", ".join(DAY_NAMES[d] for d in days)


async def set_tz(ctx: Context, text: str) -> Reply:
    typed = text.strip()
    if not typed:
        return Message(
            text=f"Your time zone is {ctx.person.tz or ctx.config.default_tz}.",
            sections=(Section(text=TZ_USAGE),),
        )
    if typed.casefold() == "auto":
        reported = ctx.identity.tz
        await ctx.uow.people.update(
            ctx.person.id, tz_chosen=False, **({"tz": reported} if reported else {})
        )
        return Message(
            text="Your time zone now follows your chat app"
            + (f": {reported}." if reported else " as soon as it reports one."),
            tone=Tone.SUCCESS,
        )
    name = valid_zone(typed)
    if name is None:
        return error(f'I don\'t know the time zone "{clip(typed, 40)}".', TZ_USAGE)
    await ctx.uow.people.update(ctx.person.id, tz=name, tz_chosen=True)
    return Message(
        text=f"Your time zone is now {name}. Your morning digest and dates follow it.",
        sections=(
            Section(context="To follow your chat app's time zone again: /touchbase tz auto"),
        ),
        tone=Tone.SUCCESS,
    )


async def set_workdays(ctx: Context, text: str) -> Reply:
    typed = text.strip()
    if not typed:
        return Message(
            text=f"Your working days: {describe_days(tuple(ctx.person.workdays))}.",
            sections=(Section(text=WORKDAYS_USAGE),),
        )
    days = parse_workdays(typed)
    if not days:
        return error(f'I couldn\'t read "{clip(typed, 40)}" as days of the week.', WORKDAYS_USAGE)
    await ctx.uow.people.update(ctx.person.id, workdays=days)
    return Message(
        text=f"Your working days are now {describe_days(days)}. "
        "Your morning digest comes on those days only.",
        tone=Tone.SUCCESS,
    )


def register(r: Registry) -> None:
    r.command("touchbase tz")(set_tz)
    r.command("touchbase workdays")(set_workdays)
