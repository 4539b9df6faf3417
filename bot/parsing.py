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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal

from dateutil import parser as date_parser  # type: ignore[import-untyped, unused-ignore]
from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped, unused-ignore]
from rapidfuzz import fuzz, process

from bot.domain import TouchKind

__all__ = [
    "ClientMatch",
    "ClientName",
    "ParseProblem",
    "ParsedTouch",
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
class ParsedTouch:
    client: ClientName
    kind: TouchKind
    contact: str | None
    occurred_on: date
    awaiting_reply: bool
    note: str


@dataclass(frozen=True, slots=True)
class ParseProblem:
    code: Literal["empty", "ambiguous_client", "unknown_client", "future_date"]
    message: str
    match: ClientMatch | None = None


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
    regarding on at today yesterday tonight this last earlier ago
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


def _norm_token(token: str) -> str:
    folded = token.casefold().replace("&", "and")
    return "".join(ch for ch in folded if ch.isalnum())


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
    prefixes: dict[str, list[ClientName]] = {}
    max_words = 1
    for client in clients:
        for label in (client.name, *client.aliases):
            key = _norm_name(str(label))
            if not key:
                continue
            exact.setdefault(key, []).append(client)
            words = key.split(" ")
            max_words = max(max_words, len(words))
            for n in range(1, len(words)):
                prefixes.setdefault(" ".join(words[:n]), []).append(client)
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


def _guess_name(text: str, tokens: list[_Token]) -> str:
    """The words that were probably meant as the (unknown) client name."""
    if not tokens:
        return text.strip().strip("\"'“”‘’«»„").strip()[:80]
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
    return text[words[0].start : words[-1].end]


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

    guess = _guess_name(text, tokens)
    rest = _strip_rest(text[text.find(guess) + len(guess) :]) if guess else ""
    return ClientMatch("unknown", None, _suggestions(guess, index), guess, rest)


def match_client(text: str, clients: Sequence[ClientName]) -> ClientMatch:
    """Find the client at the START of text (quoted names, multi-word names, aliases,
    case-insensitive, fuzzy)."""
    if not isinstance(text, str):
        text = ""
    return _match_start(text, _index_for(clients))


def lookup_client(query: str, clients: Sequence[ClientName]) -> ClientMatch:
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
    return _lookup(query, _index_for(clients))


# --------------------------------------------------------------------------------------
# Topic spans: "about renewal", "re: fees", "to discuss the pitch"
# --------------------------------------------------------------------------------------

_TOPIC_START = (
    r"(?<![\w'’-])(?:about|re:?|regarding|concerning|wrt|to discuss|to talk about|to go over"
    r"|to arrange|to set up|to book|to schedule|to plan|to invite|to confirm"
    r"|to organi[sz]e|on the subject of)(?![\w-])"
)
_TOPIC = re.compile(_TOPIC_START + r"(?:(?!\s[-–—]\s|[,;!?(]|\.\s|\.$).)*", re.IGNORECASE)


def _topic_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _TOPIC.finditer(text)]


def _without_topics(text: str) -> str:
    """Topics replaced by a clause break, so kind and contact words in them are ignored."""
    return _TOPIC.sub(" , ", text)


# --------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_WEEKDAY_FULL = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_WEEKDAY_SHORT = r"(?:mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)\.?"
_NUMBER = (
    r"(?:\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|(?:a\s+)?couple(?:\s+of)?|(?:a\s+)?few)"
)
_UNIT = r"(?:day|week|fortnight|month|year)s?"
_PART_OF_DAY = r"(?:\s+(?:morning|afternoon|evening|night|lunchtime))?"
_ON = r"(?:on\s+(?:the\s+)?)?"

_DATE_SHAPES: dict[str, str] = {
    "future": (
        r"\b(?:(?:the\s+)?day\s+after\s+tomorrow|tomorrow|tmrw|tmr"
        rf"|next\s+(?:week|month|year|{_WEEKDAY_FULL}|{_WEEKDAY_SHORT})"
        rf"|in\s+{_NUMBER}\s+{_UNIT}|later\s+(?:today|this\s+week))\b{_PART_OF_DAY}"
    ),
    "iso": rf"\b{_ON}(?P<iso>{_YEAR}-\d{{1,2}}-\d{{1,2}})\b",
    "month_day": rf"\b{_ON}(?P<md>{_MONTH}\s+{_DAY}(?:,?\s+(?P<md_year>{_YEAR}))?)\b",
    "day_month": rf"\b{_ON}(?P<dm>{_DAY}(?:\s+of)?\s+{_MONTH}(?:,?\s+(?P<dm_year>{_YEAR}))?)(?!\w)",
    "numeric": (
        r"(?<![\w/])(?:on\s+)?(?P<num>\d{1,2}/\d{1,2}(?:/(?P<num_year>\d{4}|\d{2}))?)(?![\w/])"
    ),
    "relative_day": (
        r"\b(?P<rel>(?:the\s+)?day\s+before\s+yesterday|yesterday|last\s+night|today|tonight"
        r"|this\s+(?:morning|afternoon|evening)|earlier\s+today)\b" + _PART_OF_DAY
    ),
    "ago": rf"\b(?P<ago_n>{_NUMBER})\s+(?P<ago_unit>{_UNIT})\s+ago\b",
    "last_period": r"\b(?:last|past)\s+(?P<period>week|month|fortnight)\b",
    "weekday": (
        rf"\b(?:(?P<wd_prefix>last|this|past|on)\s+)?(?P<wd>{_WEEKDAY_FULL})\b{_PART_OF_DAY}"
        rf"|\b(?P<wd_prefix2>last|this|past|on)\s+(?P<wd2>{_WEEKDAY_SHORT})(?!\w){_PART_OF_DAY}"
    ),
}
_DATE_PATTERNS = {name: re.compile(shape, re.IGNORECASE) for name, shape in _DATE_SHAPES.items()}

# A date right after one of these words is about something else ("due Nov 30").
_NOT_TOUCH_DATE_BEFORE = _wordset(
    "due by until till til before deadline since from for expires expiring chase chasing"
)
_PERIODS = {"week": ("week", 1), "fortnight": ("week", 2), "month": ("month", 1)}
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_WEEKDAY_PREFIXES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class _DatePhrase:
    start: int
    end: int
    text: str
    on: date | None  # None: the phrase is in the future


def _count(word: str) -> int:
    word = _SPACES.sub(" ", word.lower()).strip()
    if word.isdigit():
        return int(word)
    if "couple" in word:
        return 2
    if "few" in word:
        return 3
    return _NUMBER_WORDS.get(word, 1)


def _dateutil(phrase: str, year: int) -> date | None:
    try:
        parsed: datetime = date_parser.parse(phrase, default=datetime(year, 1, 1))
    except (ValueError, OverflowError):
        return None
    return parsed.date()


SOON_DAYS = 90  # a date without a year up to this far ahead means this year's, and is refused


def _calendar_date(phrase: str, has_year: bool, today: date) -> date | None:
    """A written date. Without a year: this year's, unless that is more than SOON_DAYS ahead,
    in which case last year's ("Dec 20" typed in January). A date just ahead ("Dec 1" typed on
    23 Nov) stays in the future, so it is refused rather than moved a year back."""
    if has_year:
        return _dateutil(phrase, today.year)
    for year in range(today.year, today.year - 5, -1):
        found = _dateutil(phrase, year)
        if found is not None and (found - today).days <= SOON_DAYS:
            return found
    return None


def _resolve(name: str, m: re.Match[str], today: date) -> date | Literal[False] | None:
    """The date a phrase means; None if it is in the future; False if it isn't a date."""
    if name == "future":
        return None
    if name == "iso":
        try:
            found: date | None = date.fromisoformat(_iso_padded(m.group("iso")))
        except ValueError:
            return False
    elif name == "month_day":
        found = _calendar_date(m.group("md"), m.group("md_year") is not None, today)
    elif name == "day_month":
        found = _calendar_date(m.group("dm"), m.group("dm_year") is not None, today)
    elif name == "numeric":
        first, second, *rest = m.group("num").split("/")
        phrase = m.group("num")
        day_first = int(first) > 12 and 1 <= int(second) <= 12
        if day_first and m.group(0).lower().startswith("on"):  # "on 20/11": only day first
            phrase = "/".join((second, first, *rest))
        elif not 1 <= int(first) <= 12:
            return False
        found = _calendar_date(phrase, m.group("num_year") is not None, today)
    elif name == "relative_day":
        rel = _SPACES.sub(" ", m.group("rel").lower())
        if "before" in rel:
            found = today - timedelta(days=2)
        elif rel.startswith(("yesterday", "last")):
            found = today - timedelta(days=1)
        else:
            found = today
    elif name == "ago":
        unit = m.group("ago_unit").lower().rstrip("s")
        n = _count(m.group("ago_n"))
        if unit == "fortnight":
            unit, n = "week", n * 2
        found = today - _ago(unit, n)
    elif name == "last_period":
        period = m.group("period").lower()
        found = today - _ago(*_PERIODS[period])
    else:
        found = _weekday_date(m, today)
    if found is None:
        return False
    return found if found <= today else None


def _ago(unit: str, n: int) -> relativedelta:
    if unit == "day":
        return relativedelta(days=n)
    if unit == "week":
        return relativedelta(weeks=n)
    if unit == "month":
        return relativedelta(months=n)
    return relativedelta(years=n)


def _iso_padded(text: str) -> str:
    year, month, day = text.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _weekday_date(m: re.Match[str], today: date) -> date:
    word = (m.group("wd") or m.group("wd2") or "").lower()
    prefix = (m.group("wd_prefix") or m.group("wd_prefix2") or "").lower()
    weekday = _WEEKDAY_PREFIXES.index(word[:3])
    if prefix == "this":  # the one in the current Monday-to-Sunday week
        return today + timedelta(days=weekday - today.weekday())
    days_back = (today.weekday() - weekday) % 7  # the most recent one, today included
    if prefix == "last" and days_back == 0:  # "last Tuesday" on a Tuesday: a week ago
        days_back = 7
    return today - timedelta(days=days_back)


def _word_before(text: str, start: int) -> str:
    words = re.findall(r"[\w']+", text[:start])
    return words[-1].lower() if words else ""


def _find_date(text: str, today: date) -> _DatePhrase | None:
    """The phrase saying when the touch happened, if any (the first usable one)."""
    topics = _topic_spans(text)
    found: list[tuple[int, int, str, re.Match[str]]] = []
    for name, pattern in _DATE_PATTERNS.items():
        found.extend((m.start(), -m.end(), name, m) for m in pattern.finditer(text))
    found.sort(key=lambda f: (f[0], f[1]))
    taken_until = -1
    for start, _neg_end, name, m in found:
        if start < taken_until:
            continue  # overlaps a longer phrase that was already considered
        taken_until = m.end()
        if _word_before(text, start) in _NOT_TOUCH_DATE_BEFORE:
            continue
        resolved = _resolve(name, m, today)
        if resolved is False:
            continue
        if resolved is None and any(a <= start < b for a, b in topics):
            continue  # "emailed about the meeting next Friday": part of the note
        return _DatePhrase(start, m.end(), m.group(), resolved)
    return None


# --------------------------------------------------------------------------------------
# Kind of touch
# --------------------------------------------------------------------------------------

_CALL_WORDS = r"call(?:ed|s|ing)?|phone(?:d| call)?|rang|ring|dial(?:l)?ed"
# Most specific first: the first kind with a hit wins.
_KIND_SHAPES: tuple[tuple[TouchKind, str], ...] = (
    (
        TouchKind.VOICEMAIL,
        r"voice[\s-]?mail(?:ed|s)?|vm|answering\s+machine"
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


def _find_kind(text: str) -> TouchKind:
    text = _without_topics(text)
    if _LEFT_MESSAGE.search(text) and _CALL.search(text):
        return TouchKind.VOICEMAIL  # "called, left a message"
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(text):
            return kind
    return TouchKind.OTHER


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
_WAITING_WORDS = re.compile(
    r"(?<![\w-])(?:waiting|awaiting|left\s+(?:an?\s+)?(?:message|msg)|chasing)(?![\w-])",
    re.IGNORECASE,
)
_REPLIED = re.compile(
    r"(?<![\w-])(?:replied|responded|called\s+(?:me\s+|us\s+)?back|got\s+back\s+to\s+(?:me|us)"
    r"|heard\s+back)(?![\w-])",
    re.IGNORECASE,
)


def _awaiting(text: str, kind: TouchKind) -> bool:
    if _WAITING_MARKER.search(text):
        return True
    if _REPLIED.search(text):  # "left voicemail, she called back"
        return False
    return kind is TouchKind.VOICEMAIL or bool(_WAITING_WORDS.search(text))


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
    r"|president|chair(?:man|woman|person)?|(?:co-?)?founder|owner|treasurer"
    r"|(?:financial\s+)?controller|comptroller|company\s+secretary|board"
    r"|(?:executive|personal)\s+assistant|ea|pa"
    r")(?![\w&-])",
    re.IGNORECASE,
)
_DETERMINERS = _wordset("the their our his her my your its a an")
_CONTACT_TRIGGERS = _wordset(
    """
    with w/ w for to emailed e-mailed called phoned rang texted messaged met pinged visited
    saw thanked briefed updated invited congratulated dm'd dmed zoomed rung
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
    for i, word in enumerate(words):  # "Acme CFO lunch": a title on its own
        if word.lower in _ACRONYMS or word.lower in {"general", "head"}:
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


def parse_touch(
    text: str, clients: Sequence[ClientName], today: date
) -> ParsedTouch | ParseProblem:
    """Read `/touch` free text (command already stripped) into a touch or a problem."""
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
    phrase = _find_date(rest, today)
    occurred_on = today
    if phrase is not None:
        if phrase.on is None:
            return ParseProblem("future_date", _future_message(phrase.text.strip()), match)
        occurred_on = phrase.on
        rest = f"{rest[: phrase.start]} {rest[phrase.end :]}"

    kind = _find_kind(rest)
    return ParsedTouch(
        client=match.client,
        kind=kind,
        contact=_find_contact(rest, mentioned),
        occurred_on=occurred_on,
        awaiting_reply=_awaiting(rest, kind),
        note=_note(rest),
    )
