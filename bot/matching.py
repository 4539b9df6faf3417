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
    +1  owns the client, when the client rests on someone else alone (see Spreading)

Touches are counted once per colleague: all their touches with the client this year, and of
those, the ones with this key person. Every line for a colleague therefore gives the same count
for the client ("in touch with Acme 3 times this year, twice with Dana Scully").

Spreading. When a client is single-threaded (one colleague alone is in touch with it or holds
its key people), the point of matching is to bring in someone else: that colleague is suggested
only for the key people they already hold, or where nobody else has room; and the client's
owner, if it is someone else, counts as a plus.

Load. Nobody is suggested past their role's target (`CoreConfig.load_targets`, the high end):
a colleague's current relationships are the clients they own plus the key people they hold.
Suggestions made in the same run count too, so one strong colleague is not handed everyone; a
suggestion says how many a colleague holds now and how many with the suggestions before it.
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
from bot.text import a_role

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
        if p.unreachable_since is not None or p.pending:
            continue  # unreachable, or an invitation from an import nobody has taken up yet
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


def touch_reason(with_client: int, with_them: int, client_name: str, contact_name: str) -> str:
    """ "in touch with Acme 3 times this year, twice with Dana Scully": the client's count is
    every touch with it, the key person's the part of those that were with them."""
    text = f"in touch with {client_name} {_times(with_client)} this year"
    if with_them == with_client:
        return text + (
            f", with {contact_name}" if with_them == 1 else f", each with {contact_name}"
        )
    if with_them:
        return text + f", {_times(with_them)} with {contact_name}"
    return text


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
    if with_them:
        score += 1.5 * min(with_them, 2)
    if len(own) > with_them:
        score += 0.5 * min(len(own) - with_them, 3)
    if own:
        reasons.append(touch_reason(len(own), with_them, client_name, contact.name))
    return Fit(score, tuple(reasons))


# --- suggesting ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The best colleague for one key person (None when nobody has room), and why."""

    contact: Contact
    colleague: Colleague | None  # their load as it is now, before any suggestion
    reasons: tuple[str, ...] = ()
    score: float = 0.0
    earlier: int = 0  # suggestions for the same colleague before this one, in the same run

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
    *,
    owner_id: int | None = None,
    spread_from: int | None = None,
) -> list[Suggestion]:
    """One suggestion per key person, most influential first (see the module docstring).

    `spread_from`: the one colleague a single-threaded client rests on; others are preferred
    for the key people that colleague does not hold, and `owner_id`, the client's owner, counts
    as a plus if it is someone else."""
    now = {c.person.id: c for c in people}
    pool = dict(now)
    earlier: dict[int, int] = {}
    out: list[Suggestion] = []
    for contact in sorted(contacts, key=contact_order):
        ranked: list[tuple[tuple[int, float, int, str, int], Colleague, Fit]] = []
        for colleague in pool.values():
            pid = colleague.person.id
            holds = contact.holder_id == pid
            if not holds and not colleague.has_room():
                continue
            f = fit(contact, colleague, touches, client_name)
            if spread_from is not None and pid == owner_id and pid != spread_from:
                f = Fit(f.score + 1, (*f.reasons, f"owns {client_name}"))
            key = (
                1 if spread_from == pid and not holds else 0,
                -f.score,
                colleague.load,
                colleague.person.display_name.casefold(),
                pid,
            )
            ranked.append((key, colleague, f))
        if not ranked:
            out.append(Suggestion(contact, None))
            continue
        ranked.sort(key=lambda r: r[0])
        _key, best, best_fit = ranked[0]
        pid = best.person.id
        out.append(
            Suggestion(contact, now[pid], best_fit.reasons, best_fit.score, earlier.get(pid, 0))
        )
        if contact.holder_id != pid:
            pool[pid] = replace(best, load=best.load + 1)
            earlier[pid] = earlier.get(pid, 0) + 1
    return out


def load_line(colleague: Colleague, earlier: int = 0) -> str:
    """ "holds 5 relationships, up to 12 for a principal"; with `earlier` suggestions for them
    above: "holds 5 relationships (6 with the suggestion above), up to 12 for a principal"."""
    held = f"{colleague.load} relationship{'s' if colleague.load != 1 else ''}"
    if earlier:
        above = "the suggestion above" if earlier == 1 else "the suggestions above"
        held += f" ({colleague.load + earlier} with {above})"
    if colleague.limit is None:
        return f"holds {held}"
    return f"holds {held}, up to {colleague.limit} for {a_role(colleague.person.role)}"
