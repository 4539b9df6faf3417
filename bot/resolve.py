"""Which client, matter or person a command names: one reading and one wording for all of them.

Every command that takes a client's name asks `find_client`; a name it cannot place is answered
by `client_problem` (the same words everywhere, with buttons the command chooses). A typed
person's name is read by `people_named`, and a matter's name by `find_target`.

The client names come from a `ClientCandidates` source: by default the workspace's clients,
listed and indexed once per request (`WorkspaceClients`); a store that keeps a prebuilt index
per workspace can pass its own source and nothing else changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.domain import Client, Person
from bot.matter_ports import Matter
from bot.messages import Action, Message, Section, Tone
from bot.parsing import ClientIndex, ClientMatch, ClientName, client_index, lookup_client
from bot.parsing import match_client as _match_at_start
from bot.ports import ClientRepo
from bot.text import clip

_WORD = re.compile(r"[^\s,;:]+")

__all__ = [
    "ClientCandidates",
    "Found",
    "Target",
    "WorkspaceClients",
    "after_client",
    "client_names",
    "client_problem",
    "client_problem_text",
    "find_client",
    "find_target",
    "label_keys",
    "people_named",
]


def client_names(clients: Sequence[Client]) -> list[ClientName]:
    return [ClientName(c.id, c.name, c.aliases) for c in clients]


class ClientCandidates(Protocol):
    """Where the names to match come from: the candidates for this text (the whole
    workspace's index is a fine answer)."""

    async def candidates(self, text: str) -> Sequence[ClientName] | ClientIndex: ...


@dataclass
class WorkspaceClients:
    """The workspace's matching index, as the store keeps it (`ClientRepo.index`, cached
    between requests), asked for once however often it is wanted."""

    repo: ClientRepo
    _index: ClientIndex | None = field(default=None, init=False)

    async def candidates(self, text: str) -> ClientIndex:
        if self._index is None:
            self._index = await self.repo.index()
        return self._index


@dataclass(frozen=True, slots=True)
class Found:
    """What a typed client name came to: the client when it is clear, else the match to
    explain (`client_problem`)."""

    client: Client | None
    match: ClientMatch
    typed: str

    @property
    def rest(self) -> str:
        return self.match.rest.strip()


async def find_client(
    repo: ClientRepo,
    typed: str,
    *,
    at_start: bool = False,
    source: ClientCandidates | None = None,
) -> Found:
    """The client `typed` names: the whole of it (`/client Acme`), or its start when
    `at_start` (`/repair Acme fees dispute`), where a whole name is tried as well."""
    names = await (source or WorkspaceClients(repo)).candidates(typed)
    match = _match_at_start(typed, names) if at_start else lookup_client(typed, names)
    if at_start and (match.status != "matched" or match.client is None):
        whole = lookup_client(typed, names)
        if whole.status == "matched":
            match = whole
    client = None
    if match.status == "matched" and match.client is not None:
        client = await repo.get(match.client.id)
    if at_start and match.matched_text:
        shown = match.matched_text
    elif at_start and match.status == "unknown" and typed.split():
        shown = typed.split()[0]
    else:
        shown = typed
    return Found(client, match, " ".join(shown.strip().strip("\"“”'").split()))


def _quoted(candidates: Sequence[ClientName]) -> str:
    names = [f'"{c.name}"' for c in candidates]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def client_problem_text(typed: str, match: ClientMatch, *, what: str = "a client") -> str:
    """The one way Touchbase says it could not tell which client was meant."""
    shown = clip(typed, 80)
    if match.status == "ambiguous" and match.candidates:
        return (
            f'More than one client matches "{shown}": did you mean {_quoted(match.candidates[:5])}?'
        )
    if match.candidates:
        return (
            f'I don\'t know {what} called "{shown}". Did you mean {_quoted(match.candidates[:3])}?'
        )
    return f'I don\'t know {what} called "{shown}".'


def _open(c: ClientName) -> Action:
    return Action("client_open", clip(c.name, 60), str(c.id))


def client_problem(
    found: Found,
    usage: str | None = None,
    *,
    button: Callable[[ClientName], Action | None] = _open,
) -> Message:
    """The reply to a client name that is not clear: which ones it might be, each a button
    (opening the client unless the command offers its own), and what to type."""
    match = found.match
    candidates = match.candidates[: 5 if match.status == "ambiguous" else 3]
    buttons = tuple(b for c in candidates if (b := button(c)) is not None)
    shown = clip(found.typed, 80)
    if match.status == "ambiguous":
        how = usage or "Type the name in full, or in quotes."
    elif candidates:
        how = usage or f"Type /clients to see yours, or add it: /client add {shown}"
    else:
        how = f"To add it: /client add {shown}"
    return Message(
        text=client_problem_text(found.typed, match),
        sections=(Section(text=how),),
        actions=buttons,
        tone=Tone.WARNING,
    )


# --- people ---------------------------------------------------------------------------------------


def people_named(people: Sequence[Person], typed: str) -> list[Person]:
    """Who a typed name means: display name, platform id, email or its local part, exactly
    (case-insensitive); else the people whose first name (or first words) it is. More than
    one means the name is not enough to tell."""
    name = " ".join(typed.strip().lstrip("@").strip("\"'“”").split()).casefold()
    if not name:
        return []

    def keys(p: Person) -> set[str]:
        own = {" ".join(p.display_name.casefold().split()), p.platform_user_id.casefold()}
        if p.email:
            own |= {p.email.casefold(), p.email.casefold().split("@")[0]}
        return own

    matches = [p for p in people if name in keys(p)]
    if not matches:
        matches = [
            p
            for p in people
            if p.display_name.casefold().split()[:1] == [name]
            or " ".join(p.display_name.casefold().split()).startswith(name + " ")
        ]
    return matches


# --- matters --------------------------------------------------------------------------------------


def _keys(text: str) -> list[tuple[str, int]]:
    """Normalised words of `text` with where each ends: for matching names at its start."""
    out = []
    for m in _WORD.finditer(text):
        key = "".join(ch for ch in m.group().casefold().replace("&", "and") if ch.isalnum())
        if key:
            out.append((key, m.end()))
    return out


def label_keys(label: str) -> list[str]:
    return [k for k, _ in _keys(label)]


def after_client(text: str, client: Client, fallback: str) -> str:
    """The text after the client's exact name or alias at its start; else what the client
    matcher left (it may also take a typo, or a word that looks like one, such as "Acme Q3")."""
    words = _keys(text)
    typed = [k for k, _ in words]
    labels = sorted((label_keys(n) for n in (client.name, *client.aliases)), key=len, reverse=True)
    for label in labels:
        if label and typed[: len(label)] == label:
            return text[words[len(label) - 1][1] :].strip(" ,;:-–—")
    return fallback


@dataclass(frozen=True, slots=True)
class Target:
    """What the start of some text names: a matter, or a client (and which of its matters)."""

    client: Client | None
    matter: Matter | None
    rest: str
    choices: tuple[Matter, ...] = ()  # the client's open matters, when it isn't clear which
    problem: str | None = None


def _prefixes(matter: Matter, clients: Mapping[int, Client]) -> list[list[str]]:
    client = clients.get(matter.client_id)
    prefixes: list[list[str]] = [[]]
    if client is not None:
        prefixes += [label_keys(n) for n in (client.name, *client.aliases)]
    return prefixes


def titles_at_start(
    text: str, matters: Sequence[Matter], clients: Mapping[int, Client]
) -> tuple[tuple[Matter, ...], str]:
    """The open matters whose title (alone, or after its client's name or alias) starts `text`,
    the longest such, and the text after it. More than one when a title is shared by clients
    and their names were left out."""
    words = _keys(text)
    typed = [k for k, _ in words]
    best = 0
    found: dict[int, Matter] = {}
    for matter in matters:
        title = label_keys(matter.title)
        for prefix in _prefixes(matter, clients):
            label = prefix + title
            n = len(label)
            if not title or typed[:n] != label or n < best:
                continue
            if n > best:
                best, found = n, {}
            found[matter.id] = matter
    if not found:
        return (), text
    return tuple(found.values()), text[words[best - 1][1] :].strip(" ,;:-–—")


def title_prefix(
    text: str, matters: Sequence[Matter], clients: Mapping[int, Client]
) -> tuple[tuple[Matter, ...], str]:
    """The open matters whose title (alone, or after its client's name) begins with all of
    `text`, word for word; the shortest names win, so a unique start of a title finds it."""
    typed = label_keys(text)
    if not typed:
        return (), text
    found: dict[int, Matter] = {}
    for matter in matters:
        title = label_keys(matter.title)
        for prefix in _prefixes(matter, clients):
            label = prefix + title
            if len(typed) > len(prefix) and label[: len(typed)] == typed:
                found[matter.id] = matter
    return tuple(found.values()), ""


def title_at_start(
    text: str, matters: Sequence[Matter], clients: Mapping[int, Client]
) -> tuple[Matter, str] | None:
    """The one open matter whose title starts `text`; None if none, or if several do."""
    found, rest = titles_at_start(text, matters, clients)
    return (found[0], rest) if len(found) == 1 else None


def matter_problem_text(text: str, candidates: Sequence[ClientName]) -> str:
    typed = clip(text.split(",")[0], 40)
    if candidates:
        return (
            f'I don\'t know a client or open matter called "{typed}". '
            f"Did you mean {_quoted(candidates[:3])}?"
        )
    return f'I don\'t know a client or open matter called "{typed}".'


async def find_target(
    clients: Sequence[Client],
    open_matters: Sequence[Matter],
    text: str,
    *,
    whole: bool = False,
    index: ClientIndex | None = None,
) -> Target:
    """Read a matter or client at the start of `text` (the whole of it when `whole`): a
    matter's title, alone or after its client's name, or the start of one title; else a
    client, then which of its open matters. `index` is the clients' matching index, when the
    caller has it."""
    by_id = {c.id: c for c in clients}
    titled, after_title = titles_at_start(text, open_matters, by_id)
    if whole and not titled:
        # The whole text may be the start of one title: "series b" for "Series B financing".
        titled, after_title = title_prefix(text, open_matters, by_id)
    if len(titled) == 1 and (not whole or not after_title):
        return Target(by_id.get(titled[0].client_id), titled[0], after_title)
    index = index or client_index(client_names(clients))
    match = lookup_client(text, index) if whole else _match_at_start(text, index)
    if match.status != "matched" or match.client is None:
        if len(titled) > 1 and (not whole or not after_title):
            # One title at several clients, named without the client: ask which.
            return Target(None, None, after_title, choices=titled)
        return Target(None, None, text, problem=matter_problem_text(text, match.candidates))
    client = by_id[match.client.id]
    mine = [m for m in open_matters if m.client_id == client.id]
    rest = after_client(text, client, match.rest)
    if rest and mine:
        inner = title_at_start(rest, mine, {})
        if inner is not None:
            return Target(client, inner[0], inner[1])
    if len(mine) == 1:
        return Target(client, mine[0], rest)
    return Target(client, None, rest, choices=tuple(mine))
