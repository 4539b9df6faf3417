"""Reading `/touch` text and matching client names.

Staff type free text after the command, for example::

    Acme lunch with CFO
    Globex left voicemail for Dana yesterday
    "Smith & Sons" coffee w/ general counsel last Tuesday
    acme corp emailed the GC about renewal, no reply yet

`parse_touch` turns that into a `ParsedTouch` (or a `ParseProblem` that tells the person
what to type instead). It never raises on string input.

How the text is read, in order:

1. Chat markup is tidied: Slack mentions ``<@U123|dana>`` become ``dana``, links become
   their label, ``&amp;`` becomes ``&``, Teams ``<at>Dana</at>`` becomes ``Dana``, control
   characters become spaces.
2. The client must come first. `match_client` tries, in order: a quoted name (straight,
   curly or single quotes), the longest exact name or alias at word boundaries
   (case-insensitive, punctuation-insensitive, ``&`` == ``and``), a fuzzy match of the
   leading one to four words (typos such as "Acme Crop" or "Globx"), and finally a unique
   leading part of a longer name ("Globex" for "Globex Corporation"). A leading part shared
   by several clients ("Acme" for "Acme Corp" and "Acme Labs") is ambiguous. Nothing is
   ever guessed silently: unknown and ambiguous names come back as problems.
3. One date phrase is taken out of the rest: "today", "yesterday", "last night",
   "this morning", "3 days ago", "a week ago", "last week", "2026-11-03", "Nov 3",
   "3 Nov", "on 11/3" (US month/day; "on 20/11" can only be day first), "last Tuesday",
   "on Tuesday", "Tuesday". Only the extracted phrase is ever handed to the date library
   (python-dateutil), so words such as "may", "march" or "sat" in a note are never read as
   dates. A date written without a year is this year's, unless that is more than 90 days
   ahead ("Dec 20" typed in January means last December). Dates in the future ("tomorrow",
   "next Friday", "2030-01-01") are refused, unless they sit in the topic of the note
   ("emailed about the meeting next Friday") or follow "due", "by", "until" and similar,
   in which case they are part of the note and the touch date stays today.
4. Kind, contact and "awaiting reply" are read from what is left. Words inside the topic
   of a note ("about ...", "re ...", "regarding ...", "to discuss ...") do not set the kind
   or the contact: "called about lunch" is a call.

Note convention: the note is everything typed after the client name, as typed, minus the
date phrase and minus pure "still waiting" markers ("no reply yet", "awaiting reply",
"haven't heard back"...), with whitespace collapsed and stray punctuation or dangling
connectors ("with", "for", "on"...) trimmed from the ends. Kind words and the contact stay
in the note: "Acme lunch with CFO yesterday" gives the note "lunch with CFO". The note may
be empty ("Acme" alone).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal

from dateparser.date import DateDataParser
from rapidfuzz import fuzz, process

from bot.domain import TouchKind

__all__ = [
    "DEFAULT_DATE_ORDER",
    "ClientIndex",
    "ClientMatch",
    "ClientName",
    "DateOrder",
    "ParseProblem",
    "ParsedTouch",
    "Reading",
    "client_index",
    "date_order_for_locale",
    "lookup_client",
    "match_client",
    "parse_touch",
]

USAGE_EXAMPLE = "/touch Acme lunch with the CFO"
FUZZY_CUTOFF = 85.0
SUGGESTION_CUTOFF = 70.0
MAX_CANDIDATES = 5
MAX_SUGGESTIONS = 3
_FUZZY_MAX_WORDS = 4
_FUZZY_MIN_CHARS = 4
_FUZZY_TIE_MARGIN = 3.0


# --------------------------------------------------------------------------------------
# Public types
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientName:
    """What the caller knows about each client in the workspace."""

    id: int
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ClientMatch:
    status: Literal["matched", "ambiguous", "unknown"]
    client: ClientName | None  # set when matched
    candidates: tuple[ClientName, ...]  # ambiguous: best first (max 5); unknown: suggestions
    matched_text: str  # the part of the input taken as the client name (as typed)
    rest: str  # remaining text after the client name, stripped


@dataclass(frozen=True, slots=True)
class Reading:
    """Which words of the line a field was read from: ("When", "yday")."""

    field: str
    words: str


@dataclass(frozen=True, slots=True)
class ParsedTouch:
    client: ClientName
    kind: TouchKind
    contact: str | None
    occurred_on: date
    awaiting_reply: bool
    note: str
    readings: tuple[Reading, ...] = field(default=(), compare=False)  # for the confirmation


@dataclass(frozen=True, slots=True)
class ParseProblem:
    code: Literal["empty", "ambiguous_client", "unknown_client", "future_date", "unclear_date"]
    message: str
    match: ClientMatch | None = None
    # unclear_date: the words that looked like a date, what they probably meant (if anything),
    # and the touch as read otherwise (dated today only as a placeholder: never stored as is).
    phrase: str = ""
    suggestion: date | None = None
    draft: ParsedTouch | None = None


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# --------------------------------------------------------------------------------------
# Text clean-up
# --------------------------------------------------------------------------------------

_SLACK_USER = re.compile(r"<@([A-Z0-9]+)(?:\|([^<>]*))?>", re.IGNORECASE)
_SLACK_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^<>]*))?>", re.IGNORECASE)
_SLACK_SPECIAL = re.compile(r"<!(\w+)(?:\^[^<>|]*)?(?:\|([^<>]*))?>")
_SLACK_LINK = re.compile(r"<((?:mailto:|https?://|tel:)[^<>|\s]*)(?:\|([^<>]*))?>", re.IGNORECASE)
_TEAMS_AT = re.compile(r"<at>([^<>]*)</at>", re.IGNORECASE)
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_INVISIBLE_CHARS = re.compile(r"[\u200b-\u200d\u2060\ufeff]")
_SPACES = re.compile(r"\s+")


def _clean_text(text: str) -> tuple[str, frozenset[str]]:
    """Plain text from chat markup, and the display names of any people mentioned."""
    mentioned: set[str] = set()

    def user(m: re.Match[str]) -> str:
        label = (m.group(2) or "").strip().lstrip("@")
        if label:
            mentioned.add(label)
            return label
        return "@" + m.group(1)

    def labelled(prefix: str) -> Callable[[re.Match[str]], str]:
        def replace(m: re.Match[str]) -> str:
            label = (m.group(2) or "").strip()
            return prefix + (label or m.group(1))

        return replace

    def link(m: re.Match[str]) -> str:
        label = (m.group(2) or "").strip()
        if label:
            return label
        target = m.group(1)
        return target.split(":", 1)[1] if target.lower().startswith(("mailto:", "tel:")) else target

    def teams_at(m: re.Match[str]) -> str:
        label = m.group(1).strip()
        if label:
            mentioned.add(label)
        return label

    text = _SLACK_USER.sub(user, text)
    text = _SLACK_CHANNEL.sub(labelled("#"), text)
    text = _SLACK_SPECIAL.sub(labelled("@"), text)
    text = _SLACK_LINK.sub(link, text)
    text = _TEAMS_AT.sub(teams_at, text)
    text = html.unescape(text)
    text = _INVISIBLE_CHARS.sub("", text)
    text = _CONTROL_CHARS.sub(" ", text)
    return _SPACES.sub(" ", text).strip(), frozenset(mentioned)


def _tidy(text: str) -> str:
    """Collapse whitespace, drop empty clauses and trim punctuation/connectors at the ends."""
    text = _SPACES.sub(" ", text).strip()
    text = re.sub(r"\s+([,;:.!?)])", r"\1", text)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    text = re.sub(r"\s+[-–—]+\s*(?=[,;]|$)", "", text)
    previous = None
    while previous != text:
        previous = text
        text = _EDGE_LEAD.sub("", text)
        text = _EDGE_TRAIL.sub("", text)
        text = text.strip()
    return _SPACES.sub(" ", text)


_EDGE_PUNCT = r"[\s,;:.\-–—/|>]"
_LEADING_CONNECTORS = r"(?:and|then|also|plus)"
_TRAILING_CONNECTORS = r"(?:with|w/|w|for|to|and|at|re|re:|about|regarding|the|a|an|from|then|but)"
_EDGE_LEAD = re.compile(rf"^(?:{_EDGE_PUNCT}+|{_LEADING_CONNECTORS}\b\s*)", re.IGNORECASE)
_EDGE_TRAIL = re.compile(rf"(?:{_EDGE_PUNCT}+|(?<![\w/]){_TRAILING_CONNECTORS})$", re.IGNORECASE)


# --------------------------------------------------------------------------------------
# Client matching
# --------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\s,;:]+")
_OPEN_TO_CLOSE = {'"': '"', "“": "”", "”": "”", "„": "“", "«": "»", "'": "'", "‘": "’", "’": "’"}

# Words that end the client name when guessing what an unknown name was: kinds of touch,
# connectors and date words. Fuzzy matching also never runs across them.
_NAME_BREAKERS = _wordset(
    """
    lunch lunched coffee dinner dined drinks drink beers breakfast brunch call called calls
    calling phone phoned rang ring email emailed e-mail e-mailed mail mailed met meet meeting
    visit visited left texted text messaged message sent spoke zoom zoomed teams video
    voicemail vm sat caught catch dropped stopped popped event conference seminar webinar
    golf game letter status update updated pinged caught with w/ w for to about re re:
    regarding on at today yesterday tonight this last earlier ago intro introduction
    introductory cold kickoff kick-off pitch pitched demo follow follow-up followup check-in
    checkin catch-up catchup chat chatted sync review quick lvm lm touch outreach referral
    hello hi ping skype facetime webex intro'd yday yest
    """
)


@dataclass(frozen=True, slots=True)
class _Token:
    key: str  # normalised: casefolded, alphanumerics only, "&" -> "and"
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Index:
    keys: list[str]  # distinct normalised names and aliases, for rapidfuzz
    key_clients: list[tuple[ClientName, ...]]  # clients per key, parallel to `keys`
    exact: dict[str, tuple[ClientName, ...]]
    prefixes: dict[str, tuple[ClientName, ...]]  # proper leading words of names/aliases
    max_words: int


_SAME_WORDS = {"saint": "st", "ste": "st", "mount": "mt", "company": "co", "and": "and"}


def _norm_token(token: str) -> str:
    folded = token.casefold().replace("&", "and")
    if not folded.isascii():  # "Zoë's" is typed "Zoes", "Müller" "Muller"
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    key = "".join(ch for ch in folded if ch.isalnum())
    return _SAME_WORDS.get(key, key)


def _norm_name(name: str) -> str:
    return " ".join(k for k in (_norm_token(t) for t in _WORD.findall(name)) if k)


def _tokens(text: str) -> list[_Token]:
    found = (_Token(_norm_token(m.group()), m.start(), m.end()) for m in _WORD.finditer(text))
    return [t for t in found if t.key]


def _unique(clients: Iterable[ClientName]) -> tuple[ClientName, ...]:
    seen: dict[int, ClientName] = {}
    for client in clients:
        seen.setdefault(client.id, client)
    return tuple(seen.values())


def _build_index(clients: Sequence[ClientName]) -> _Index:
    exact: dict[str, list[ClientName]] = {}
    compact: dict[str, list[ClientName]] = {}
    prefixes: dict[str, list[ClientName]] = {}
    max_words = 1
    for client in clients:
        for label in (client.name, *client.aliases):
            key = _norm_name(str(label))
            if not key:
                continue
            exact.setdefault(key, []).append(client)
            words = key.split(" ")
            if len(words) > 1:  # "blueridge" for Blue Ridge, "pied-piper" for Pied Piper
                compact.setdefault("".join(words), []).append(client)
            max_words = max(max_words, len(words))
            for n in range(1, len(words)):
                prefixes.setdefault(" ".join(words[:n]), []).append(client)
    for key, found in compact.items():
        exact.setdefault(key, found)  # a client's own one-word name wins over a compact one
    exact_t = {k: _unique(v) for k, v in exact.items()}
    prefix_t = {k: _unique(v) for k, v in prefixes.items()}
    return _Index(
        keys=list(exact_t),
        key_clients=list(exact_t.values()),
        exact=exact_t,
        prefixes=prefix_t,
        max_words=max_words,
    )


@lru_cache(maxsize=16)
def _cached_index(clients: tuple[ClientName, ...]) -> _Index:
    return _build_index(clients)


def _index_for(clients: Sequence[ClientName]) -> _Index:
    try:
        return _cached_index(tuple(clients))
    except TypeError:  # unhashable aliases (a list, say): just build it
        return _build_index(clients)


def _by_closeness(clients: Iterable[ClientName]) -> tuple[ClientName, ...]:
    return tuple(sorted(_unique(clients), key=lambda c: (len(c.name), c.name.casefold(), c.id)))


def _fuzzy(query: str, index: _Index) -> list[tuple[ClientName, float]]:
    """Clients whose name or alias is within the fuzzy cutoff of `query`, best first."""
    if len(query.replace(" ", "")) < _FUZZY_MIN_CHARS or not index.keys:
        return []
    hits = process.extract(
        query, index.keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=20
    )
    best: dict[int, tuple[ClientName, float]] = {}
    for _key, score, position in hits:
        for client in index.key_clients[position]:
            if client.id not in best or best[client.id][1] < score:
                best[client.id] = (client, float(score))
    return sorted(best.values(), key=lambda cs: (-cs[1], len(cs[0].name), cs[0].name))


def _suggestions(query: str, index: _Index) -> tuple[ClientName, ...]:
    key = _norm_name(query)
    if len(key) < 2 or not index.keys:
        return ()
    hits = process.extract(
        key, index.keys, scorer=fuzz.WRatio, score_cutoff=SUGGESTION_CUTOFF, limit=15
    )
    ranked = [client for _k, _s, position in hits for client in index.key_clients[position]]
    return _unique(ranked)[:MAX_SUGGESTIONS]


def _decide(
    scored: list[tuple[ClientName, float]], matched_text: str, rest: str
) -> ClientMatch | None:
    """Matched if one fuzzy candidate clearly leads, ambiguous if several are close."""
    if not scored:
        return None
    top_score = scored[0][1]
    close = [c for c, s in scored if s >= top_score - _FUZZY_TIE_MARGIN]
    if len(close) == 1:
        return ClientMatch("matched", close[0], (), matched_text, rest)
    return ClientMatch("ambiguous", None, tuple(close[:MAX_CANDIDATES]), matched_text, rest)


def label_key(label: str) -> str:
    """How names and aliases are compared: casefolded words, punctuation dropped, "&" as "and"."""
    return _norm_name(label)


def _prefer_names(found: tuple[ClientName, ...], key: str) -> tuple[ClientName, ...]:
    """One client's own name beats another's alias: "Initech" is Initech, even if some other
    client was given the alias "Initech"."""
    if len(found) < 2:
        return found
    named = tuple(c for c in found if _norm_name(c.name) == key)
    return named if len(named) == 1 else found


def _from_clients(found: tuple[ClientName, ...], matched_text: str, rest: str) -> ClientMatch:
    if len(found) == 1:
        return ClientMatch("matched", found[0], (), matched_text, rest)
    ordered = _by_closeness(found)[:MAX_CANDIDATES]
    return ClientMatch("ambiguous", None, ordered, matched_text, rest)


def _lookup(query: str, index: _Index) -> ClientMatch:
    """The whole of `query` is meant as a client name."""
    key = _norm_name(query)
    if key in index.exact:
        return _from_clients(_prefer_names(index.exact[key], key), query, "")
    decided = _decide(_fuzzy(key, index), query, "")
    if decided is not None:
        return decided
    if key in index.prefixes:
        return _from_clients(index.prefixes[key], query, "")
    return ClientMatch("unknown", None, _suggestions(query, index), query, "")


def _strip_rest(text: str) -> str:
    return text.strip().lstrip(",;:-–—|> ").strip()


def _split_quoted(text: str) -> tuple[str, str] | None:
    """("Smith & Sons", rest) for text starting with a quoted name; None if not quoted."""
    if not text or text[0] not in _OPEN_TO_CLOSE:
        return None
    close = _OPEN_TO_CLOSE[text[0]]
    closers = {close, '"'} if close in "“”" else {close}
    for i in range(1, len(text)):
        if text[i] not in closers:
            continue
        if close in "'’" and i + 1 < len(text) and text[i + 1].isalnum():
            continue  # an apostrophe inside the name: O'Brien, Macy's
        inner = text[1:i].strip()
        if inner:
            return inner, _strip_rest(text[i + 1 :])
        return None
    return None


def _guess_name(text: str, tokens: list[_Token]) -> tuple[str, str]:
    """The words that were probably meant as the (unknown) client name, and the rest: the
    shortest plausible name, stopping at a kind word ("Massive Dynamic cold call" offers
    "Massive Dynamic"). A line that starts with what happened offers the capitalised words
    after "at" or "from" ("lunch with Lucius at Wayne Ent" offers "Wayne Ent")."""
    if not tokens:
        return text.strip().strip("\"'“”‘’«»„").strip()[:80], ""
    if tokens[0].key in _NAME_BREAKERS:
        for i, token in enumerate(tokens[:-1]):
            if token.key not in {"at", "from"}:
                continue
            named: list[_Token] = []
            for later in tokens[i + 1 : i + 1 + _FUZZY_MAX_WORDS]:
                raw = text[later.start : later.end]
                if later.key in _NAME_BREAKERS or not raw[:1].isupper():
                    break
                named.append(later)
            if named:
                name = text[named[0].start : named[-1].end].rstrip(".!?")
                rest = _strip_rest(_tidy(f"{text[: token.start]} {text[named[-1].end :]}"))
                return name, rest
    words: list[_Token] = []
    for token in tokens[:_FUZZY_MAX_WORDS]:
        if words and token.key in _NAME_BREAKERS:
            break
        if not words and token.key in _NAME_BREAKERS:
            words.append(token)
            break
        words.append(token)
        if text[token.end : token.end + 1] in {",", ";", ":"}:
            break
    name = text[words[0].start : words[-1].end]
    return name, _strip_rest(text[words[-1].end :])


def _leading_limit(tokens: list[_Token]) -> int:
    """How many leading words may be taken as a fuzzy client name."""
    limit = 0
    for token in tokens[:_FUZZY_MAX_WORDS]:
        if limit and token.key in _NAME_BREAKERS:
            break
        limit += 1
    return limit


def _word_matches(typed: str, word: str) -> bool:
    """One typed word against one word of a name: equal, abbreviated, or a small typo."""
    if typed == word:
        return True
    if len(typed) >= 3 and word.startswith(typed):  # "corp" for "corporation"
        return True
    return min(len(typed), len(word)) >= _FUZZY_MIN_CHARS and fuzz.ratio(typed, word) >= 80


def _longer_typo(tokens: list[_Token], n: int, limit: int, client: ClientName) -> int:
    """How many leading words to take for `client`, found from the first `n`: more if the
    words after them still spell its name or alias, abbreviated or with a small typo
    ("Acme Crop" when the alias is "Acme", "Umbrella Corp" for "Umbrella Corporation")."""
    keys = [k for k in (_norm_name(str(label)) for label in (client.name, *client.aliases)) if k]
    for longer in range(limit, n, -1):
        typed = [t.key for t in tokens[:longer]]
        for key in keys:
            words = key.split(" ")
            if fuzz.ratio(" ".join(typed), key) >= FUZZY_CUTOFF or (
                len(typed) <= len(words)
                and all(_word_matches(t, w) for t, w in zip(typed, words, strict=False))
            ):
                return longer
    return n


def _match_start(text: str, index: _Index) -> ClientMatch:
    text = text.strip()
    quoted = _split_quoted(text)
    if quoted is not None:
        name, rest = quoted
        looked_up = _lookup(name, index)
        return ClientMatch(looked_up.status, looked_up.client, looked_up.candidates, name, rest)
    if text and text[0] in _OPEN_TO_CLOSE:  # an unbalanced quote: read as if unquoted
        text = text[1:].strip()

    tokens = _tokens(text)

    def span(n: int) -> tuple[str, str]:
        return text[tokens[0].start : tokens[n - 1].end], _strip_rest(text[tokens[n - 1].end :])

    limit = _leading_limit(tokens)
    for n in range(min(index.max_words, len(tokens)), 0, -1):
        key = " ".join(t.key for t in tokens[:n])
        if key in index.exact:
            found = _prefer_names(index.exact[key], key)
            if len(found) == 1:  # "Acme Crop" with the alias "Acme": take the typo too
                n = _longer_typo(tokens, n, limit, found[0])
            return _from_clients(found, *span(n))

    scored: dict[int, tuple[ClientName, float, int]] = {}
    for n in range(1, limit + 1):
        for client, score in _fuzzy(" ".join(t.key for t in tokens[:n]), index):
            previous = scored.get(client.id)
            if previous is None or (score, n) > (previous[1], previous[2]):
                scored[client.id] = (client, score, n)
    if scored:
        ranked = sorted(scored.values(), key=lambda c: (-c[1], -c[2], len(c[0].name)))
        n_words = ranked[0][2]
        decided = _decide([(c, s) for c, s, _n in ranked], *span(n_words))
        if decided is not None and decided.client is not None:
            n_words = _longer_typo(tokens, n_words, limit, decided.client)
            return _from_clients((decided.client,), *span(n_words))
        if decided is not None:
            return decided

    for n in range(min(index.max_words, len(tokens)), 0, -1):
        key = " ".join(t.key for t in tokens[:n])
        if key in index.prefixes:
            found = index.prefixes[key]
            if len(found) == 1:
                n = _longer_typo(tokens, n, limit, found[0])
            return _from_clients(found, *span(n))

    inside = _match_inside(text, tokens, index)
    if inside is not None:
        return inside

    guess, rest = _guess_name(text, tokens)
    return ClientMatch("unknown", None, _suggestions(guess, index), guess, rest)


# Words before a client's name later in the line: "lunch with Lucius at Wayne Enterprises".
_CLIENT_LEADS = _wordset("at from of for with w to re")


def _match_inside(text: str, tokens: list[_Token], index: _Index) -> ClientMatch | None:
    """A client named later in the line ("coffee w/ Peter from Initech", "called Dana at
    Globex"). Only exact names and aliases count here, typed with a capital or after "at",
    "from" and the like, and short ones (three letters or fewer) only as written, so "we"
    in a note is never the client "WE"."""
    best: tuple[int, int, tuple[ClientName, ...]] | None = None
    for i in range(1, len(tokens)):
        for n in range(min(index.max_words, len(tokens) - i), 0, -1):
            key = " ".join(t.key for t in tokens[i : i + n])
            found = index.exact.get(key)
            if not found and tokens[i - 1].key in {"at", "from", "of"}:
                found = index.prefixes.get(key)  # "at Cyberdyne" for Cyberdyne Systems
                found = found if found and len(found) == 1 else None
            if not found:
                continue
            typed = text[tokens[i].start : tokens[i + n - 1].end]
            lead = (
                tokens[i - 1].key in _CLIENT_LEADS
                or text[tokens[i].start - 1 : tokens[i].start] == "@"
            )
            if len(key.replace(" ", "")) <= 3:
                ok = any(typed in (c.name, *c.aliases) for c in found)
            else:
                ok = lead or typed[:1].isupper()
            if ok and (best is None or n > best[1]):
                best = (i, n, _prefer_names(found, key))
            break
    if best is None:
        return None
    i, n, found = best
    if len(found) == 1:  # "at Wayne Ent" for Wayne Enterprises: take the abbreviation too
        limit = 0
        for token in tokens[i : i + _FUZZY_MAX_WORDS]:
            if not token.key.isalpha() or (limit and token.key in _NAME_BREAKERS):
                break
            limit += 1
        n = _longer_typo(tokens[i:], n, max(limit, n), found[0])
    start, end = tokens[i].start, tokens[i + n - 1].end
    before = text[:start]
    if tokens[i - 1].key in _CLIENT_LEADS - {"with", "w", "to", "for", "re"}:
        before = text[: tokens[i - 1].start]  # "at Globex" goes, "with Globex" may be a lunch
    rest = _strip_rest(_tidy(f"{before} {text[end:]}"))
    return _from_clients(found, text[start:end], rest)


ClientIndex = _Index


def client_index(clients: Sequence[ClientName]) -> ClientIndex:
    """The matching index for a workspace's clients: build it once and pass it to
    `match_client`, `lookup_client` and `parse_touch` instead of the list to skip the work
    (a small cache keyed on the list does the same for callers that pass the list)."""
    return _index_for(clients)


def _as_index(clients: Sequence[ClientName] | ClientIndex) -> _Index:
    return clients if isinstance(clients, _Index) else _index_for(clients)


def match_client(text: str, clients: Sequence[ClientName] | ClientIndex) -> ClientMatch:
    """Find the client in text: at the start (quoted names, multi-word names, aliases,
    case-insensitive, fuzzy), else named later in the line ("lunch with Lucius at Wayne")."""
    if not isinstance(text, str):
        text = ""
    return _match_start(text, _as_index(clients))


def lookup_client(query: str, clients: Sequence[ClientName] | ClientIndex) -> ClientMatch:
    """The whole query is a client name (for `/client Acme`): exact/alias/fuzzy; rest is ''."""
    if not isinstance(query, str):
        query = ""
    query = _SPACES.sub(" ", query).strip()
    quoted = _split_quoted(query)
    if quoted is not None and not quoted[1]:
        query = quoted[0]
    query = query.strip().strip('"“”„«»').strip()
    if not query:
        return ClientMatch("unknown", None, (), "", "")
    return _lookup(query, _as_index(clients))


# --------------------------------------------------------------------------------------
# Topic spans: "about renewal", "re: fees", "to discuss the pitch"
# --------------------------------------------------------------------------------------

_TOPIC_START = (
    r"(?<![\w'’-])(?:about|re:?|regarding|concerning|wrt|to discuss|to talk about|to go over"
    r"|to arrange|to set up|to book|to schedule|to plan|to invite|to confirm"
    r"|to organi[sz]e|on the subject of)(?![\w-])"
)
_TOPIC = re.compile(
    _TOPIC_START + r"(?:(?!\s[-–—]\s|[,;!?(]|\.\s|\.$|\s(?:with|w/)\s).)*", re.IGNORECASE
)


def _topic_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _TOPIC.finditer(text)]


def _without_topics(text: str) -> str:
    """Topics replaced by a clause break, so kind and contact words in them are ignored."""
    return _TOPIC.sub(" , ", text)


# --------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------
#
# The words that may say when a touch happened are found by a small vocabulary (weekday and
# month names, "yesterday", "ago", units, numbers, numeric dates), grouped into phrases, and
# each phrase is handed to dateparser (PREFER_DATES_FROM past, RELATIVE_BASE today, DATE_ORDER
# from the person's locale). Only such a phrase ever reaches the library, so "may", "march" or
# "sat down" in a note are not read as dates. A phrase that looks like a date but cannot be
# placed ("wendsday", "31/31", "the 45th") is never dropped: it comes back as unclear, so the
# touch is not stored until the person says when it was.

DateOrder = Literal["MDY", "DMY", "YMD"]
DEFAULT_DATE_ORDER: DateOrder = "MDY"
_MONTH_FIRST_REGIONS = frozenset(("US", "PH", "FM", "MH", "PW", "AS", "GU", "MP", "PR", "VI", "UM"))
_YEAR_FIRST_REGIONS = frozenset(("CN", "JP", "KR", "KP", "TW", "HU", "LT", "MN", "IR"))
_YEAR_FIRST_LANGUAGES = frozenset(("ja", "zh", "ko", "hu", "lt", "mn"))


def date_order_for_locale(locale: str | None) -> DateOrder | None:
    """How people of a locale ("en-US", "en_GB", "ja-JP") write 3/11; None if not known."""
    if not locale or not isinstance(locale, str):
        return None
    parts = locale.replace("_", "-").split("-")
    language = parts[0].lower()
    region = next((p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()), "")
    if not language.isalpha() or not 2 <= len(language) <= 3:
        return None
    if region in _MONTH_FIRST_REGIONS or (not region and language == "en"):
        return "MDY" if region or language == "en" else None
    if region in _YEAR_FIRST_REGIONS or (not region and language in _YEAR_FIRST_LANGUAGES):
        return "YMD"
    return "DMY" if region else None


SOON_DAYS = 90  # a date without a year up to this far ahead is this year's, and so refused
_TYPO_CUTOFF = 80.0

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
# Shorthand people type, as the words dateparser reads (a small normalisation, no more).
_SHORTHAND = {
    "yday": "yesterday", "yest": "yesterday", "ystd": "yesterday", "yda": "yesterday",
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmw": "tomorrow", "tomoz": "tomorrow",
    "wk": "week", "wks": "weeks", "wk's": "weeks", "fortnights": "fortnights",
    "yr": "year", "yrs": "years", "mo": "month", "mos": "months", "mth": "month",
    "mths": "months", "hr": "hour", "hrs": "hours", "min": "minute", "mins": "minutes",
    "tues": "tuesday", "tue": "tuesday", "weds": "wednesday", "wed": "wednesday",
    "thu": "thursday", "thur": "thursday", "thurs": "thursday", "thr": "thursday",
    "mon": "monday", "fri": "friday", "sat": "saturday", "sun": "sunday",
    "couple": "2", "few": "3", "a": "1", "an": "1", "one": "1", "two": "2", "three": "3",
    "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "ten": "10", "eleven": "11", "twelve": "12",
}  # fmt: skip
_REL_DAYS = _wordset("today yesterday tonight tomorrow yday yest ystd yda tmrw tmr tmw tomoz")
_UNITS = _wordset(
    """
    day days week weeks wk wks fortnight fortnights month months mo mos mth mths year years
    yr yrs hour hours hr hrs minute minutes min mins
    """
)
_NUMBER_WORDS = _wordset("a an one two three four five six seven eight nine ten eleven twelve")
_QUANTITIES = _wordset("couple few")
_DATE_GLUE = _wordset(
    """
    last past this next ago on the of before after in over at earlier later weekend morning
    afternoon evening night lunchtime noon
    """
)
_PART_OF_DAY = _wordset("morning afternoon evening night lunchtime noon")
_AMBIGUOUS_DAYS = _wordset("sat sun")  # "sat down", "the sun"
_AMBIGUOUS_MONTHS = _wordset("may mar march jan") | frozenset(("sept",))
_MONTH_WORDS = frozenset([m for m in _MONTHS] + [m[:3] for m in _MONTHS] + ["sept", "sep"])
_WEEKDAY_WORDS = frozenset(
    [*_WEEKDAYS, "mon", "tue", "tues", "wed", "weds", "thu", "thur", "thurs", "thr", "fri",
     "sat", "sun"]
)  # fmt: skip
_DAY_BEFORE = r"(?<![\w/.-])"
_DATE_TOKEN = re.compile(
    _DAY_BEFORE + r"(?:\d{4}-\d{1,2}-\d{1,2}"  # 2026-11-03
    r"|\d{1,2}[/.]\d{1,2}(?:[/.](?:\d{4}|\d{2}))?\.?"  # 24/11, 3/11/26, 20.11.2026
    r"|\d{1,2}-\d{1,2}-\d{4}"  # 20-11-2026
    r"|\d+(?:st|nd|rd|th)"  # the 30th
    r"|\d+"
    r"|[a-z]+(?:'[a-z]+)?\.?)"  # words, "Mon."
    r"(?![\w/-])",
    re.IGNORECASE,
)
# A date right after one of these words is about something else ("due Nov 30").
_NOT_TOUCH_DATE_BEFORE = _wordset(
    "due by until till til before deadline since from for expires expiring chase chasing"
)
_NOT_DATES = _wordset("24/7 24/7/365 9/11")
_FUTURE_WORDS = _wordset("next tomorrow tmrw tmr tmw tomoz later")


@dataclass(frozen=True, slots=True)
class _DatePhrase:
    start: int
    end: int
    text: str
    on: date | None  # the day it means; None if it could not be placed or is in the future
    status: Literal["ok", "future", "unclear"] = "ok"
    suggestion: date | None = None  # for an unclear phrase: what it probably meant


@dataclass(frozen=True, slots=True)
class _DateWord:
    raw: str
    word: str  # lowercased, a trailing "." dropped
    start: int
    end: int
    cls: str  # rel, weekday, month, unit, number, ordinal, numeric, year, glue, typo
    fix: str = ""  # for a typo: the word it probably was


def _classify(word: str) -> tuple[str, str]:
    if word in _REL_DAYS:
        return "rel", ""
    if word in _WEEKDAY_WORDS:
        return "weekday", ""
    if word in _MONTH_WORDS:
        return "month", ""
    if word in _UNITS:
        return "unit", ""
    if word in _NUMBER_WORDS or word in _QUANTITIES:
        return "number", ""
    if word in _DATE_GLUE:
        return "glue", ""
    if word[0].isdigit():
        if word.isdigit():
            return (
                ("year", "")
                if len(word) == 4 and word[:2] in {"19", "20"}
                else (("number", "") if len(word) <= 3 else ("", ""))
            )
        if word[-2:] in {"st", "nd", "rd", "th"}:
            return "ordinal", ""
        return "numeric", ""
    if len(word) >= 5 and word.isalpha():
        fix, score, _ = process.extractOne(word, (*_WEEKDAYS, "yesterday"), scorer=fuzz.ratio)
        if score >= _TYPO_CUTOFF:
            return "typo", str(fix)
    return "", ""


def _date_words(text: str) -> list[_DateWord]:
    found: list[_DateWord] = []
    for m in _DATE_TOKEN.finditer(text):
        raw = m.group()
        word = raw.lower()
        if word.endswith(".") and not re.fullmatch(r"[\d/.]+", word):
            word = word[:-1]
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        word = word.rstrip(".") if re.fullmatch(r"\d{1,2}[/.]\d{1,2}\.", word) else word
        cls, fix = _classify(word) if word and word not in _NOT_DATES else ("", "")
        found.append(_DateWord(raw, word, m.start(), m.end(), cls, fix))
    return found


def _is_anchor(words: list[_DateWord], i: int, text: str) -> bool:
    """Whether words[i] makes its run of date words a date (and not just "last" or "the")."""
    w = words[i]
    before = words[i - 1].word if i else ""
    after = words[i + 1].word if i + 1 < len(words) else ""
    if w.cls in {"rel", "numeric", "typo"}:
        return True
    if w.cls == "weekday":
        if w.word in _AMBIGUOUS_DAYS:  # "sat down with", "the sun": only with a date word
            at_end = not text[w.end :].strip(" .,;!?")
            return before in {"on", "last", "this", "past"} or after in _PART_OF_DAY or at_end
        return True
    if w.cls == "month":
        near = {words[j].cls for j in (i - 1, i + 1, i - 2) if 0 <= j < len(words)}
        return bool(near & {"number", "ordinal"}) or (
            w.word not in _AMBIGUOUS_MONTHS and before in {"last", "in", "early", "late"}
        )
    if w.cls == "ordinal":
        return before in {"the", "on"} or after in {"of"} or not before
    if w.cls == "unit":
        return (
            before in {"last", "past", "this", "next"}
            or after == "ago"
            or (i >= 2 and words[i - 2].word == "in" and before.isdigit())
        )
    if w.word == "weekend":
        return True
    if w.word in _PART_OF_DAY:
        return before in {"last", "this", "yesterday", "tonight"}
    return False


def _date_runs(text: str) -> list[list[_DateWord]]:
    """Runs of neighbouring date words that hold at least one anchor."""
    words = _date_words(text)
    runs: list[list[_DateWord]] = []
    current: list[_DateWord] = []
    for w in words:
        gap = text[current[-1].end : w.start] if current else ""
        joined = bool(current) and (gap.strip() == "" or (gap.strip() == "," and w.cls == "year"))
        if w.cls and (not current or joined):
            current.append(w)
            continue
        if current:
            runs.append(current)
        current = [w] if w.cls else []
    if current:
        runs.append(current)
    usable: list[list[_DateWord]] = []
    for run in runs:
        start = words.index(run[0])
        anchors = [j for j in range(len(run)) if _is_anchor(words, start + j, text)]
        if not anchors:
            continue
        # Trim glue at the ends that belongs to the sentence ("at", "the", "over" before an
        # anchor are kept only where they read as part of the date).
        first, last = anchors[0], anchors[-1]
        numbers = 0
        while first > 0 and run[first - 1].cls in {"glue", "number", "ordinal", "month", "unit"}:
            if run[first - 1].word in {"at", "after"}:
                break
            if run[first - 1].cls == "number" and (
                run[first].cls not in {"unit", "number", "month"} and run[first].word != "of"
            ):
                break  # "Number Two fridya": a count goes with a unit or a month only
            if run[first - 1].cls == "number" and run[first - 1].word not in _QUANTITIES:
                numbers += 1
                if numbers > 1 or (
                    run[first].cls == "number" and run[first].word not in _QUANTITIES
                ):
                    break  # "note 0 1 days ago": one number counts the days
            first -= 1
        while (
            last + 1 < len(run)
            and run[last + 1].cls in {"glue", "unit", "number", "year", "month", "ordinal"}
            and run[last + 1].word not in {"on", "at", "in", "the", "of", "this", "next", "last"}
        ):
            last += 1
        if run[last].word == "ago" or (last + 1 < len(run) and run[last + 1].word == "ago"):
            last = max(last, next(j for j in range(len(run)) if run[j].word == "ago"))
        usable.append(run[first : last + 1])
    return usable


def _normalised(run: list[_DateWord]) -> tuple[str, bool]:
    """The phrase as dateparser reads it, and whether it names the future."""
    words = [w.fix or w.word for w in run]
    future = any(w in _FUTURE_WORDS for w in words) or (
        words[0] == "in" and len(words) > 2 and words[2] in _UNITS
    )
    if "weekend" in words:
        words = ["last" if w in {"last", "past"} else "saturday" if w == "weekend" else w
                 for w in words if w not in {"over", "at", "the", "this"}]  # fmt: skip
    out: list[str] = []
    for i, w in enumerate(words):
        after = words[i + 1] if i + 1 < len(words) else ""
        if w in {"on", "at", "over", "earlier"} or (w == "the" and after != "day"):
            continue
        if w == "of" and (not out or out[-1] in {"2", "3"}):  # "a couple of days"
            continue
        if w in _PART_OF_DAY:
            if out and out[-1] == "last" and w in {"night", "evening"}:
                out[-1] = "yesterday"
            elif out and out[-1] == "this":
                out[-1] = "today"
            continue
        if w == "tonight":
            w = "today"
        if w == "past" and after in _UNITS:
            w = "last"
        w = _SHORTHAND.get(w, w)
        if w in {"1", "2", "3"} and out and out[-1] == "1":  # "a couple", "a few"
            out.pop()
        out.append(w)
    return " ".join(out), future


@lru_cache(maxsize=8)
def _date_reader(today: date, order: DateOrder) -> DateDataParser:
    return DateDataParser(
        languages=["en"],
        settings={
            "PREFER_DATES_FROM": "past",
            # Noon, so "2 hours ago" is still today and "last night" yesterday.
            "RELATIVE_BASE": datetime.combine(today, time(12, 0)),
            "DATE_ORDER": order,
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )


@lru_cache(maxsize=4096)
def _dateparser(phrase: str, today: date, order: DateOrder) -> date | None:
    try:
        found = _date_reader(today, order).get_date_data(phrase).date_obj
    except (ValueError, OverflowError, TypeError):
        return None
    return found.date() if found is not None else None


def _numeric(word: str, today: date, order: DateOrder) -> date | None:
    """24/11, 3/11/26, 20.11.2026: read in the person's order; a date that can only be read
    the other way ("24/11" for someone who writes month first) is read that way; dotted
    dates are day first, as everywhere they are written."""
    word = word.rstrip(".")
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", word):
        year, month, day = (int(p) for p in word.split("-"))
        try:
            return date(year, month, day)
        except ValueError:
            return None
    parts = [int(p) for p in re.split(r"[/.-]", word)]
    orders: list[DateOrder] = ["DMY"] if "." in word else [order]
    orders += [o for o in ("MDY", "DMY") if o not in orders]
    for each in orders:
        found = _dateparser(word.replace(".", "/") if "." in word else word, today, each)
        if found is None:
            continue
        day, month = (parts[0], parts[1]) if each == "DMY" else (parts[1], parts[0])
        if (found.day, found.month) != (day, month):
            continue  # the library guessed something else: not what was typed
        if len(parts) == 3 and found.year % 100 != parts[2] % 100:
            continue
        if len(parts) == 2:
            return _this_years(found, today)
        return found
    return None


def _this_years(found: date, today: date) -> date:
    """A date typed without a year: this year's, if that is at most SOON_DAYS ahead (then it
    is refused as still to come); else the last one before today."""
    try:
        this_year = found.replace(year=today.year)
    except ValueError:  # 29 February
        return found
    if this_year <= today + timedelta(days=SOON_DAYS):
        return this_year
    return this_year.replace(year=today.year - 1)


def _ordinal_day(day: int, today: date) -> date | None:
    """ "the 30th": the most recent 30th, today included."""
    if not 1 <= day <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(3):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate <= today:
            return candidate
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return None


def _place(run: list[_DateWord], today: date, order: DateOrder) -> tuple[date | None, bool]:
    """The day a run of date words means (None if it can't be placed) and if it is ahead."""
    classes = {w.cls for w in run}
    numeric = [w for w in run if w.cls == "numeric"]
    if numeric:
        if len(run) > 1 and classes - {"numeric", "glue"}:
            return None, False
        found = _numeric(numeric[0].word, today, order)
        return found, found is not None and found > today
    ordinals = [int(w.word[:-2]) for w in run if w.cls == "ordinal"]
    if ordinals and "month" not in classes:
        if len(ordinals) > 1 or classes - {"ordinal", "glue"}:
            return None, False
        found = _ordinal_day(ordinals[0], today)
        return found, False
    if any(o > 31 for o in ordinals):
        return None, False
    phrase, future = _normalised(run)
    if future:
        return None, True
    found = _dateparser(phrase, today, order)
    if found is None:
        return None, False
    words = phrase.split()
    if "month" in classes and "year" not in classes and "ago" not in words:
        found = _this_years(found, today)
    if len(words) == 1 and words[0] in _WEEKDAYS and words[0] == _WEEKDAYS[today.weekday()]:
        found = today  # "Tuesday", typed on a Tuesday: today (say "last Tuesday" for a week ago)
    if "year" not in classes and found.year < today.year - 2:
        return None, False  # "the 45th" read as 1945: not what anyone meant
    return found, found > today


def _find_date(text: str, today: date, order: DateOrder = DEFAULT_DATE_ORDER) -> _DatePhrase | None:
    """The phrase saying when the touch happened, if any (the first one that is about it)."""
    topics = _topic_spans(text)
    for run in _date_runs(text):
        start, end = run[0].start, run[-1].end
        if _word_before(text, start) in _NOT_TOUCH_DATE_BEFORE:
            continue
        in_topic = any(a <= start < b for a, b in topics)
        phrase = text[start:end]
        if any(w.cls == "typo" for w in run):
            if in_topic:
                continue
            guess, ahead = _place(run, today, order)
            return _DatePhrase(start, end, phrase, None, "unclear", None if ahead else guess)
        found, ahead = _place(run, today, order)
        if ahead:
            clause = re.split(r"[,;.!?]", text[:start])[-1]
            if in_topic or _WAITING_CONTENT.search(clause) or _WAITING_MARKER.search(clause):
                continue  # "about the meeting next Friday", "will get back to us next week"
            return _DatePhrase(start, end, phrase, None, "future")
        if found is None:
            if in_topic:
                continue
            return _DatePhrase(start, end, phrase, None, "unclear")
        return _DatePhrase(start, end, phrase, found)
    return None


def _word_before(text: str, start: int) -> str:
    words = re.findall(r"[\w']+", text[:start])
    return words[-1].lower() if words else ""


# --------------------------------------------------------------------------------------
# Kind of touch
# --------------------------------------------------------------------------------------

_CALL_WORDS = r"call(?:ed|s|ing)?|phone(?:d| call)?|rang|ring|dial(?:l)?ed"
# Most specific first: the first kind with a hit wins.
_KIND_SHAPES: tuple[tuple[TouchKind, str], ...] = (
    (
        TouchKind.VOICEMAIL,
        r"voice[\s-]?mail(?:ed|s)?|vm|lvm|l/?m|answering\s+machine"
        r"|left\s+(?:an?\s+)?(?:message|msg)\s+(?:on|with)\s+(?:(?:his|her|their|the)\s+)?"
        r"(?:phone|mobile|cell|machine|voicemail)",
    ),
    (
        TouchKind.VIDEO_CALL,
        r"zoom(?:ed)?|teams\s+(?:call|meeting|chat)|video[\s-]?(?:call|chat|conference|meeting)"
        r"|google\s+meet|g-?meet|webex|face-?time(?:d)?|skype(?:d)?",
    ),
    (TouchKind.DINNER, r"dinner|dined|supper"),
    (TouchKind.LUNCH, r"lunch(?:ed|eon)?"),
    (TouchKind.BREAKFAST, r"breakfast|brunch"),
    (TouchKind.COFFEE, r"coffees?|cuppa"),
    (TouchKind.DRINKS, r"drinks?|beers?|pints?|happy\s+hour|cocktails?"),
    (
        TouchKind.STATUS_UPDATE,
        r"(?:status|progress|weekly|monthly|quarterly|matter|case|project|deal)\s+update"
        r"|(?:sent|gave|provided|shared|emailed)\s+(?:(?:an?|the|our|a\s+quick|quick)\s+)?update",
    ),
    (
        TouchKind.VISIT,
        r"(?:site|office)\s+visit|visit(?:ed|ing)?|dropped\s+(?:by|in)|stopped\s+by"
        r"|popped\s+(?:by|in)",
    ),
    (
        TouchKind.EVENT,
        r"conference(?!\s+call)|seminar|webinar|events?|game|golf|gala|reception|concert"
        r"|roundtable|summit|tournament|networking",
    ),
    (TouchKind.EMAIL, r"e-?mail(?:ed|s)?|sent\s+(?:an?\s+)?(?:e-?mail|note)"),
    (
        TouchKind.LETTER,
        r"letter|(?:thank[\s-]?you|holiday|christmas|xmas|birthday|greetings?)\s+card",
    ),
    (
        TouchKind.MESSAGE,
        r"text(?:ed|s)?|sms|messaged|message|msg|linkedin|whats-?app(?:ed)?|dm(?:'?d|ed)?"
        r"|slack(?:ed)?|pinged",
    ),
    (TouchKind.CALL, _CALL_WORDS + r"|spoke\s+on\s+the\s+phone"),
    (TouchKind.MEETING, r"met|meet(?:ing|s)?|sat\s+down|catch[\s-]?up|caught\s+up"),
)
_KIND_PATTERNS = tuple(
    (kind, re.compile(rf"(?<![\w-])(?:{shape})(?![\w-])", re.IGNORECASE))
    for kind, shape in _KIND_SHAPES
)
_LEFT_MESSAGE = re.compile(r"\bleft\s+(?:an?\s+)?(?:message|msg)\b", re.IGNORECASE)
_CALL = re.compile(rf"(?<![\w-])(?:{_CALL_WORDS})(?![\w-])", re.IGNORECASE)


def _find_kind(text: str) -> tuple[TouchKind, str]:
    """The kind of touch, and the words it was read from ("" if none)."""
    text = _without_topics(text)
    left = _LEFT_MESSAGE.search(text)
    if left and _CALL.search(text):
        return TouchKind.VOICEMAIL, left.group()  # "called, left a message"
    for kind, pattern in _KIND_PATTERNS:
        found = pattern.search(text)
        if found:
            return kind, found.group()
    return TouchKind.OTHER, ""


# --------------------------------------------------------------------------------------
# Awaiting reply
# --------------------------------------------------------------------------------------

_WAITING_MARKER = re.compile(
    r"(?<![\w-])(?:"
    r"(?:still\s+)?no\s+(?:reply|response|answer|word|call\s*back|callback)"
    r"(?:\s+(?:yet|so\s+far))?(?:\s+from\s+(?:him|her|them))?"
    r"|(?:still\s+)?(?:awaiting|waiting\s+(?:for|on))\s+(?:an?\s+|their\s+|his\s+|her\s+)?"
    r"(?:reply|response|answer|call\s*back|callback)"
    r"|(?:still\s+)?waiting\s+to\s+hear\s+back(?:\s+from\s+(?:him|her|them))?"
    r"|(?:haven'?t|have\s+not|hasn'?t|has\s+not|not|never)\s+(?:yet\s+)?"
    r"(?:heard\s+back|replied|responded|got\s+back(?:\s+to\s+(?:me|us))?)(?:\s+yet)?"
    r"|(?:didn'?t|did\s+not)\s+(?:reply|respond|answer|pick\s+up|get\s+back(?:\s+to\s+(?:me|us))?)"
    r"|pending\s+(?:reply|response)"
    r")(?![\w-])",
    re.IGNORECASE,
)
# Waiting that says what for ("awaiting their sign-off"): it sets awaiting reply, and stays in
# the note, where the pure markers above are dropped from it.
_WAITING_CONTENT = re.compile(
    r"(?<![\w-])(?:"
    r"(?:the\s+)?ball(?:'s|\s+is|\s+now)?\s+in\s+their\s+court"
    r"|(?:still\s+)?(?:awaiting|waiting\s+(?:for|on))\s+(?:their\s+|his\s+|her\s+|the\s+)?"
    r"(?:comments|feedback|sign[\s-]?off|approval|thoughts|decision|confirmation|signature"
    r"|answer|reply|response|go[\s-]?ahead|instructions|markup|mark-up|turn)"
    r"|(?:they|he|she)(?:'ll|\s+will|\s+would|'d|\s+are\s+going\s+to|\s+is\s+going\s+to)"
    r"\s+(?:get|come|revert)\s+back(?:\s+to\s+(?:me|us))?"
    r"|(?:they|he|she)(?:'ll|\s+will)\s+revert|(?:will|to)\s+revert|(?:said|promised)\s+(?:they|he|she)(?:'d|\s+would)\s+get\s+back"
    r"|no\s+(?:answer|pick[\s-]?up)"
    r")(?![\w-])",
    re.IGNORECASE,
)
_WAITING_WORDS = re.compile(
    r"(?<![\w-])(?:waiting|awaiting|left\s+(?:an?\s+)?(?:message|msg)|chasing)(?![\w-])",
    re.IGNORECASE,
)
_REPLIED = re.compile(
    r"(?<![\w-])(?:replied|responded|called\s+(?:me\s+|us\s+)?back|got\s+back\s+to\s+(?:me|us)"
    r"|heard\s+back)(?![\w-])",
    re.IGNORECASE,
)


def _awaiting(text: str, kind: TouchKind, kind_words: str = "") -> tuple[bool, str]:
    """Whether the touch waits for a reply, and the words that say so."""
    marker = _WAITING_MARKER.search(text) or _WAITING_CONTENT.search(text)
    if marker:
        return True, marker.group()
    if _REPLIED.search(text):  # "left voicemail, she called back"
        return False, ""
    if kind is TouchKind.VOICEMAIL:
        return True, kind_words
    words = _WAITING_WORDS.search(text)
    return (True, words.group()) if words else (False, "")


# --------------------------------------------------------------------------------------
# Contact
# --------------------------------------------------------------------------------------

_ACRONYMS = _wordset(
    """
    ceo cfo coo cto cio cmo cro cpo cso cco cdo cao clo cho ciso chro gc dgc agc vp svp evp
    avp md fd hr it ir pa ea ip bd coo cos uk us emea apac ma m&a
    """
)
_DEPARTMENT = (
    r"(?:finance|legal|hr|human\s+resources|it|operations|ops|sales|marketing|procurement"
    r"|technology|tech|engineering|product|compliance|risk|tax|audit|strategy|investor\s+"
    r"relations|ir|commercial|data|security|people|talent|treasury|accounts|accounting"
    r"|purchasing|facilities|communications|comms|business\s+development|bd|research|design"
    r"|growth|partnerships|real\s+estate|litigation|employment|ip|corporate|m&a|deals"
    r"|innovation|transformation|digital|infrastructure|property|payroll|benefits)"
)
_TITLE = re.compile(
    r"(?:"
    r"(?:deputy\s+|associate\s+|assistant\s+)?general\s+counsel"
    r"|(?:in-?house|legal|senior)\s+counsel|counsel"
    r"|chief\s+(?:of\s+staff|[a-z]+\s+(?:and\s+[a-z]+\s+)?officer)"
    rf"|(?:deputy\s+)?head\s+of\s+{_DEPARTMENT}"
    r"|(?:senior\s+|executive\s+|assistant\s+)?(?:s|e|a)?(?:vp|vice\s+president)"
    rf"(?:(?:\s+of)?\s+{_DEPARTMENT})?"
    rf"|director\s+of\s+{_DEPARTMENT}"
    rf"|(?:{_DEPARTMENT}|managing|executive)\s+(?:director|manager|lead|team|partner|head|officer)"
    r"|(?:managing|senior|equity)\s+partner|partner|principal"
    r"|ceo|cfo|coo|cto|cio|cmo|cro|cpo|cso|cco|cdo|cao|clo|cho|ciso|chro|gc|dgc|agc|md|fd"
    r"|board\s+(?:chair(?:man|woman|person)?|member|secretary|director)"
    r"|(?:vice[\s-]|deputy\s+)?chair(?:man|woman|person)?(?:\s+of\s+the\s+board)?"
    r"|president|(?:co-?)?founder|owner|treasurer"
    r"|(?:financial\s+)?controller|comptroller|company\s+secretary|board"
    r"|(?:executive|personal)\s+assistant|ea|pa"
    r")(?![\w&-])",
    re.IGNORECASE,
)
_DETERMINERS = _wordset("the their our his her my your its a an")
_CONTACT_TRIGGERS = _wordset(
    """
    with w/ w for to emailed e-mailed called phoned rang texted messaged met pinged visited
    saw thanked briefed updated invited congratulated dm'd dmed zoomed rung sent gave told
    asked showed forwarded reminded chased cc'd cced introduced
    """
)
_HONORIFICS = _wordset("dr dr. mr mr. mrs mrs. ms ms. prof prof. sir dame lord lady")
_NAME_PARTICLES = _wordset("de van von der den da di del la le du st st. bin al")
_NOT_NAMES = _wordset(
    """
    i we he she they him her them me us it you everyone everybody all team someone somebody
    today yesterday tomorrow tonight monday tuesday wednesday thursday friday saturday sunday
    lunch coffee dinner drinks breakfast call email meeting voicemail zoom teams about re
    regarding no yes ok the a an and or but re: then also plus this that last next
    """
)
_EMAIL_ADDRESS = re.compile(r"^[\w.+'-]+@[\w-]+(?:\.[\w-]+)+$")
_PUNCT_EDGES = "\"'“”‘’()[]{}<>,;:.!?"


@dataclass(frozen=True, slots=True)
class _Word:
    raw: str  # as typed, trailing punctuation removed
    lower: str
    ends_clause: bool  # it was followed by a comma, semicolon or similar


def _words(text: str) -> list[_Word]:
    text = re.sub(r"(?i)(?<![\w/])w/(?=\S)", "w/ ", text)
    words: list[_Word] = []
    for raw in text.split():
        stripped = raw.strip(_PUNCT_EDGES) if not raw.lower().startswith("w/") else raw
        possessive = re.search(r"['’]s$", stripped) is not None
        if possessive:
            stripped = stripped[:-2]
        ends = bool(re.search(r"[,;:.!?)]$", raw)) or possessive or raw in {"-", "–", "—"}
        if stripped:
            words.append(_Word(stripped, stripped.lower(), ends))
        elif words:
            words[-1] = _Word(words[-1].raw, words[-1].lower, True)
    return words


def _title_case(phrase: str) -> str:
    """Acronyms upper-case, everything else as typed."""
    return " ".join(w.upper() if w.lower() in _ACRONYMS else w for w in phrase.split())


# After "with", "called", "met"... a lowercase word is a person's name unless it is one of
# these (people type "lunch with dana"; they also type "call with legal").
_LOWERCASE_TRIGGERS = _wordset("with w/ w called phoned rang met texted pinged emailed saw")
_COMMON_WORDS = _wordset(
    """
    legal finance procurement management partners partner board team teams client clients
    everyone folks people staff group committee counsel office proposal draft contract
    invoice deck agreement update report docs documents terms pricing quote fees fee some
    several two three few various new old follow quick brief short long great good nice
    regards thanks thank reply response answer questions question regard respect lunch
    coffee drinks dinner breakfast call email meeting notes note agenda details info him
    his hers theirs ours whom who what when where which how why ops sales hr marketing
    nda rfp sow plan plans pitch slides intro revised signed final numbers figures back
    again twice briefly quickly later soon then there here out up over in on off down
    """
)


def _is_lowercase_name(word: _Word) -> bool:
    return (
        word.raw.isalpha()
        and word.raw.islower()
        and len(word.raw) >= 2
        and word.lower not in _NOT_NAMES
        and word.lower not in _COMMON_WORDS
        and word.lower not in _DETERMINERS
        and word.lower not in _NAME_BREAKERS
        and word.lower not in _ACRONYMS
        and word.lower not in _DATE_GLUE
        and word.lower not in _WEEKDAY_WORDS
        and word.lower not in _REL_DAYS
    )


def _is_name_word(word: _Word, mentioned: frozenset[str]) -> bool:
    if word.raw in mentioned:
        return True
    first = word.raw[0]
    return (
        first.isupper()
        and word.lower not in _NOT_NAMES
        and any(ch.isalpha() for ch in word.raw)
        and not (word.raw.isupper() and len(word.raw) <= 4)  # NDA, RFP, SOW
    )


def _read_name(words: list[_Word], i: int, mentioned: frozenset[str]) -> tuple[str, int] | None:
    """A name such as "Dana", "Dana Scully" or "Dr. Jane de Souza", starting at words[i]."""
    taken: list[str] = []
    j = i
    if j < len(words) and words[j].lower in _HONORIFICS and j + 1 < len(words):
        taken.append(words[j].raw + ("." if words[j].lower in {"dr", "mr", "mrs", "ms"} else ""))
        j += 1
    while j < len(words) and len([t for t in taken if t[0].isupper()]) < 3:
        word = words[j]
        if _is_name_word(word, mentioned) or (
            taken
            and word.lower in _NAME_PARTICLES
            and j + 1 < len(words)
            and _is_name_word(words[j + 1], mentioned)
            and not word.ends_clause
        ):
            taken.append(word.raw)
        else:
            break
        j += 1
        if word.ends_clause or word.raw in mentioned:
            break
    if not taken or taken[-1].lower() in _HONORIFICS:
        return None
    return " ".join(taken), j


def _read_one_contact(
    words: list[_Word], i: int, mentioned: frozenset[str]
) -> tuple[str, int] | None:
    while i < len(words) and words[i].lower in _DETERMINERS and not words[i].ends_clause:
        i += 1
    if i >= len(words):
        return None
    if _EMAIL_ADDRESS.match(words[i].raw):
        return words[i].raw, i + 1
    # Titles may span several words; match against the remaining words of this clause.
    clause: list[_Word] = []
    for word in words[i:]:
        clause.append(word)
        if word.ends_clause:
            break
    phrase = " ".join(w.raw for w in clause)
    title = _TITLE.match(phrase)
    if title is not None:
        title_text = _SPACES.sub(" ", title.group())
        used = len(title_text.split())
        end = i + used
        if not words[end - 1].ends_clause:
            name = _read_name(words, end, mentioned)
            if name is not None:
                return f"{_title_case(title_text)} {name[0]}", name[1]
        return _title_case(title_text), end
    return _read_name(words, i, mentioned)


def _read_contact(words: list[_Word], i: int, mentioned: frozenset[str]) -> str | None:
    """One contact, or "A and B", starting at words[i]."""
    first = _read_one_contact(words, i, mentioned)
    if first is None:
        return None
    contact, end = first
    if end < len(words) and words[end].lower in {"and", "&"} and not words[end - 1].ends_clause:
        second = _read_one_contact(words, end + 1, mentioned)
        if second is not None:
            contact = f"{contact} and {second[0]}"
    return contact


def _find_contact(text: str, mentioned: frozenset[str]) -> str | None:
    words = _words(_without_topics(text))
    for i, word in enumerate(words):
        if word.lower in _CONTACT_TRIGGERS and not word.ends_clause:
            contact = _read_contact(words, i + 1, mentioned)
            if contact is not None:
                return contact
    for i, word in enumerate(words[:-1]):  # "lunch with dana": a lowercase first name
        if word.lower in _LOWERCASE_TRIGGERS and not word.ends_clause:
            j = i + 1
            if _is_lowercase_name(words[j]):
                name = [words[j].raw.capitalize()]
                nxt = words[j + 1] if j + 1 < len(words) else None
                if (
                    nxt is not None
                    and not words[j].ends_clause
                    and _is_lowercase_name(nxt)
                    and len(nxt.raw) >= 3
                ):
                    name.append(nxt.raw.capitalize())
                return " ".join(name)
    for i, word in enumerate(words):  # "Acme CFO lunch": a title on its own
        if word.lower in _ACRONYMS or word.lower in {"general", "head", "board", "managing"}:
            clause = " ".join(w.raw for w in words[i : i + 4])
            title = _TITLE.match(clause)
            if title is not None and title.group().lower() not in {"it", "us", "pa", "ea"}:
                return _title_case(_SPACES.sub(" ", title.group()))
    return None


# --------------------------------------------------------------------------------------
# The /touch command
# --------------------------------------------------------------------------------------


def _name_list(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def _unknown_message(match: ClientMatch) -> str:
    name = match.matched_text.strip() or "that"
    first_word = _norm_token(name.split()[0]) if name.split() else ""
    if first_word in _NAME_BREAKERS:
        message = f"Start with the client's name, then what happened. Try: {USAGE_EXAMPLE}"
    else:
        message = (
            f'I don\'t know a client called "{name}". '
            f"Add it with /client add {name}, or check the spelling."
        )
    if match.candidates:
        quoted = [f'"{c.name}"' for c in match.candidates]
        message += f" Did you mean {_name_list(quoted)}?"
    return message


def _ambiguous_message(match: ClientMatch) -> str:
    example = match.candidates[0].name if match.candidates else "the full name"
    tail = f" {match.rest}" if match.rest else " lunch with the CFO"
    return (
        f'"{match.matched_text}" could be {_name_list([c.name for c in match.candidates])}. '
        f"Use the full name, e.g. /touch {example}{tail}"
    )


def _future_message(phrase: str) -> str:
    return (
        f'Touches are things that already happened, and "{phrase}" is still to come. '
        "Log it after it happens, or give the day it took place, "
        "e.g. /touch Acme lunch with the CFO yesterday"
    )


def _note(text: str) -> str:
    return _tidy(_WAITING_MARKER.sub(" , ", text))


def _unclear_message(phrase: str, suggestion: date | None, today: date) -> str:
    guess = f" Did you mean {suggestion:%A} {suggestion.day} {suggestion:%B}?" if suggestion else ""
    return (
        f"I couldn't tell which day \"{phrase}\" is, so I haven't logged it yet.{guess} "
        "Choose the day below, or send it again with a date such as yesterday or "
        f"{today - timedelta(days=2):%d %b}."
    )


def parse_touch(
    text: str,
    clients: Sequence[ClientName] | ClientIndex,
    today: date,
    *,
    date_order: DateOrder = DEFAULT_DATE_ORDER,
    on: date | None = None,
) -> ParsedTouch | ParseProblem:
    """Read `/touch` free text (command already stripped) into a touch or a problem.

    `date_order` is how the person writes numeric dates (their locale); `on`, when given, is
    the day the person chose after being asked: the date words of the line are then left in
    the note and nothing in the line can override it."""
    cleaned, mentioned = _clean_text(text if isinstance(text, str) else "")
    if not any(ch.isalnum() for ch in cleaned):
        return ParseProblem(
            "empty", f"Tell me who you were in touch with and how. Try: {USAGE_EXAMPLE}"
        )

    match = match_client(cleaned, clients)
    if match.status == "unknown":
        return ParseProblem("unknown_client", _unknown_message(match), match)
    if match.status == "ambiguous" or match.client is None:
        return ParseProblem("ambiguous_client", _ambiguous_message(match), match)

    rest = match.rest
    readings = [Reading("Client", match.matched_text)]
    occurred_on = on or today
    unclear: _DatePhrase | None = None
    phrase = _find_date(rest, today, date_order) if on is None else None
    if phrase is not None:
        if phrase.status == "future":
            return ParseProblem("future_date", _future_message(phrase.text.strip()), match)
        if phrase.status == "unclear" or phrase.on is None:
            unclear = phrase
        else:
            occurred_on = phrase.on
            readings.append(Reading("When", phrase.text.strip()))
            rest = f"{rest[: phrase.start]} {rest[phrase.end :]}"

    # An unclear date stays in the note, but is no one's name: "call with CFO Wenesday".
    read = f"{rest[: unclear.start]} , {rest[unclear.end :]}" if unclear is not None else rest
    kind, kind_words = _find_kind(read)
    awaiting, waiting_words = _awaiting(read, kind, kind_words)
    contact = _find_contact(read, mentioned)
    if kind_words:
        readings.append(Reading("Kind", kind_words))
    if contact:
        readings.append(Reading("With", contact))
    if waiting_words:
        readings.append(Reading("Awaiting reply", waiting_words))
    parsed = ParsedTouch(
        client=match.client,
        kind=kind,
        contact=contact,
        occurred_on=occurred_on,
        awaiting_reply=awaiting,
        note=_note(rest),
        readings=tuple(readings),
    )
    if unclear is not None:
        return ParseProblem(
            "unclear_date",
            _unclear_message(unclear.text.strip(), unclear.suggestion, today),
            match,
            phrase=unclear.text.strip(),
            suggestion=unclear.suggestion,
            draft=parsed,
        )
    return parsed
