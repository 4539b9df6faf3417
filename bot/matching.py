"""Matching: for each key person at a client, the colleague who suits them best, and why.

Relationships are person to person. Clients stay with the people they know, so the firm should
know who the influential people at each client are and pair each with the right colleague:
peers with peers, principals with executives. Everything here is a pure function of plain data.

Seniority, on one scale for both sides:
    3 principal: C-level, president, founder, owner, partner, principal, managing director
    2 senior:    director, VP, head of, general counsel, controller, senior manager
    1 staff:     manager, analyst, associate, specialist, coordinator, assistant
A colleague's seniority is what they told us (`/touchbase me seniority partner`), else their
role (principal, senior, staff). A key person's is their recorded seniority, else their title.

Scoring a colleague for a key person:
    +3  peers in seniority (same level); +1 one level apart; -2 two levels apart
    +2  for each shared interest (a colleague's interest named in the key person's notes)
    +1  a practice area of the colleague named in the key person's title or notes
    +1.5 for each touch with that person this year (at most 2 counted)
    +0.5 for each other touch with the client this year (at most 3 counted)
    +2  already holds the relationship (clients don't like being moved between people)

Load. Nobody is suggested past their role's target (`CoreConfig.load_targets`, the high end):
a colleague's current relationships are the clients they own plus the key people they hold.
Suggestions made in the same run count too, so one strong colleague is not handed everyone.
Admins have no target and no limit. People marked unreachable are never suggested.

Order and ties. Key people are matched most influential first (decision makers, influencers,
users, then the rest), more senior first, then by name and id, so the people who matter most
get the first pick. Among colleagues the highest score wins; equal scores go to whoever holds
fewer relationships now, then by name (case-insensitive), then by id. The same data therefore
always gives the same suggestions, in the same order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.config import LoadTarget
from bot.domain import Contact, Person, Role
from bot.matter_ports import TouchLine

PRINCIPAL, SENIOR, STAFF = 3, 2, 1
LEVEL_NAMES = {PRINCIPAL: "principal", SENIOR: "senior", STAFF: "staff"}

# Checked in order: the first pattern found in the text sets the level.
_LEVEL_PATTERNS: tuple[tuple[int, re.Pattern[str]], ...] = tuple(
    (level, re.compile(pattern, re.IGNORECASE))
    for level, pattern in (
        (STAFF, r"\bexecutive assistant\b"),
        (SENIOR, r"\b(?:assistant|associate|deputy)\s+(?:director|general counsel)\b"),
        (
            PRINCIPAL,
            r"\b(?:c[a-z]o|chief|president|founder|co-founder|owner|partner|principal|chair"
            r"(?:man|woman|person)?|executive director|managing director|board|exec(?:utive)?"
            r"|c-level|c-suite|head of the firm)\b",
        ),
        (
            SENIOR,
            r"\b(?:director|vp|svp|evp|vice president|head|general counsel|controller"
            r"|treasurer|senior manager|senior|lead|counsel)\b",
        ),
        (
            STAFF,
            r"\b(?:manager|analyst|associate|specialist|coordinator|assistant|accountant"
            r"|engineer|officer|consultant|staff|junior|clerk|administrator|user|trainee)\b",
        ),
    )
)
_ROLE_LEVEL = {Role.PRINCIPAL: PRINCIPAL, Role.SENIOR: SENIOR, Role.STAFF: STAFF}

INFLUENCE_ORDER = {"decision maker": 0, "influencer": 1, "user": 2}


def level_of(text: str | None) -> int | None:
    """The common-scale level a title or seniority names; None when it names none."""
    if not text:
        return None
    for level, pattern in _LEVEL_PATTERNS:
        if pattern.search(text):
            return level
    return None


def contact_level(contact: Contact) -> int | None:
    return level_of(contact.seniority) or level_of(contact.title)


def colleague_level(person: Person, seniority: str | None) -> int | None:
    return level_of(seniority) or _ROLE_LEVEL.get(person.role)


def influence_rank(contact: Contact) -> int:
    key = " ".join((contact.influence or "").casefold().replace("-", " ").split())
    return INFLUENCE_ORDER.get(key, len(INFLUENCE_ORDER))


@dataclass(frozen=True, slots=True)
class Colleague:
    """A colleague as matching sees them: level, interests, current load and limit."""

    person: Person
    seniority: str | None = None
    load: int = 0  # clients owned + key people held
    limit: int | None = None  # the high end of their role's target; None: no limit

    @property
    def level(self) -> int | None:
        return colleague_level(self.person, self.seniority)

    @property
    def label(self) -> str:
        """How they are described in a suggestion: "Jane Roe (partner)"."""
        return f"{self.person.display_name} ({self.seniority or self.person.role.value})"

    def has_room(self) -> bool:
        return self.limit is None or self.load < self.limit


def colleagues(
    people: Iterable[Person],
    seniorities: Mapping[int, str],
    loads: Mapping[int, int],
    targets: Mapping[Role, LoadTarget],
) -> list[Colleague]:
    """Everyone who may be suggested: reachable people, with their load and its limit."""
    out = []
    for p in people:
        if p.unreachable_since is not None:
            continue
        target = targets.get(p.role)
        out.append(
            Colleague(
                person=p,
                seniority=seniorities.get(p.id),
                load=loads.get(p.id, 0),
                limit=target.high if target else None,
            )
        )
    return out


# --- scoring -----------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9&]+", text.casefold()) if len(w) >= 3}


def mentions_phrase(text: str | None, phrase: str) -> bool:
    """Whether `phrase` (an interest, a practice area) is named in `text`: as written, or by its
    stem ("sailing" in "loves to sail", "M&A" as is). Whole words only."""
    if not text or not phrase.strip():
        return False
    phrase = " ".join(phrase.casefold().split())
    body = text.casefold()
    if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", body):
        return True
    stem = re.sub(r"(?:ing|s)$", "", phrase)
    if len(stem) >= 4 and stem != phrase:
        return re.search(rf"(?<!\w){re.escape(stem)}", body) is not None
    return False


def is_with(touch_contact: str | None, contact: Contact) -> bool:
    """Whether a touch's free-text "with whom" names this key person (a name word or title)."""
    if not touch_contact:
        return False
    said = _words(touch_contact)
    if said & _words(contact.name):
        return True
    return bool(contact.title) and mentions_phrase(touch_contact, contact.title or "")


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass(frozen=True, slots=True)
class Fit:
    score: float
    reasons: tuple[str, ...]


def fit(
    contact: Contact, colleague: Colleague, touches: Sequence[TouchLine], client_name: str
) -> Fit:
    """How well `colleague` suits `contact`, with the reasons in plain words.

    `touches` are this year's touches with the contact's client."""
    score = 0.0
    reasons: list[str] = []
    if contact.holder_id == colleague.person.id:
        score += 2
        reasons.append("already holds the relationship")
    theirs, mine = contact_level(contact), colleague.level
    if theirs is not None and mine is not None:
        gap = abs(theirs - mine)
        if gap == 0:
            score += 3
            reasons.append("peers in seniority")
        elif gap == 1:
            score += 1
            reasons.append("close in seniority")
        else:
            score -= 2
    shared = [i for i in colleague.person.interests if mentions_phrase(contact.notes, i)]
    if shared:
        score += 2 * len(shared)
        reasons.append(f"both into {_and([s.strip() for s in shared])}")
    about = " ".join(x for x in (contact.title, contact.notes) if x)
    practice = [a for a in colleague.person.practice_areas if mentions_phrase(about, a)]
    if practice:
        score += 1
        reasons.append(f"works in {_and([a.strip() for a in practice])}")
    own = [t for t in touches if t.person_id == colleague.person.id]
    with_them = sum(1 for t in own if is_with(t.contact, contact))
    with_client = len(own) - with_them
    if with_them:
        score += 1.5 * min(with_them, 2)
        reasons.append(f"already in touch {_times(with_them)} this year")
    if with_client:
        score += 0.5 * min(with_client, 3)
        reasons.append(f"in touch with {client_name} {_times(with_client)} this year")
    return Fit(score, tuple(reasons))


# --- suggesting ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The best colleague for one key person (None when nobody has room), and why."""

    contact: Contact
    colleague: Colleague | None
    reasons: tuple[str, ...] = ()
    score: float = 0.0

    @property
    def keeps_holder(self) -> bool:
        return self.colleague is not None and self.contact.holder_id == self.colleague.person.id


def contact_label(contact: Contact) -> str:
    """ "Dana Scully (CFO, decision maker)"."""
    extra = [x for x in (contact.title, contact.influence) if x]
    return f"{contact.name} ({', '.join(extra)})" if extra else contact.name


def explain(s: Suggestion) -> str:
    """ "Jane Roe (partner) for Dana Scully (CFO, decision maker): peers in seniority, ..." """
    if s.colleague is None:
        return f"{contact_label(s.contact)}: nobody suitable has room for another relationship"
    why = ", ".join(s.reasons) if s.reasons else "has room for another relationship"
    return f"{s.colleague.label} for {contact_label(s.contact)}: {why}"


def contact_order(contact: Contact) -> tuple[int, int, str, int]:
    level = contact_level(contact)
    return (influence_rank(contact), -(level or 0), contact.name.casefold(), contact.id)


def suggest(
    contacts: Sequence[Contact],
    people: Sequence[Colleague],
    touches: Sequence[TouchLine],
    client_name: str,
) -> list[Suggestion]:
    """One suggestion per key person, most influential first (see the module docstring)."""
    pool = {c.person.id: c for c in people}
    out: list[Suggestion] = []
    for contact in sorted(contacts, key=contact_order):
        ranked: list[tuple[tuple[float, int, str, int], Colleague, Fit]] = []
        for colleague in pool.values():
            holds = contact.holder_id == colleague.person.id
            if not holds and not colleague.has_room():
                continue
            f = fit(contact, colleague, touches, client_name)
            key = (
                -f.score,
                colleague.load,
                colleague.person.display_name.casefold(),
                colleague.person.id,
            )
            ranked.append((key, colleague, f))
        if not ranked:
            out.append(Suggestion(contact, None))
            continue
        ranked.sort(key=lambda r: r[0])
        _key, best, best_fit = ranked[0]
        out.append(Suggestion(contact, best, best_fit.reasons, best_fit.score))
        if contact.holder_id != best.person.id:
            pool[best.person.id] = replace(best, load=best.load + 1)
    return out


def load_line(colleague: Colleague) -> str:
    """ "holds 5 relationships, up to 12 for a principal" """
    held = f"{colleague.load} relationship{'s' if colleague.load != 1 else ''}"
    if colleague.limit is None:
        return f"holds {held}"
    return f"holds {held}, up to {colleague.limit} for a {colleague.person.role.value}"
