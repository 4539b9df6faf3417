"""The commands Touchbase understands: one list, used by help, the router and both app manifests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str  # without the slash
    usage: str  # argument hint, as shown in Slack's autocomplete
    description: str  # one line, at most 80 characters
    example: str


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "touch",
        "<client> <what happened> [with <person>] [when]",
        "Log a client touchpoint: a call, lunch, email or visit",
        "/touch Acme lunch with the CFO yesterday",
    ),
    CommandSpec(
        "client",
        "<name> | add <name> [aliases]",
        "Show a client's card and history, or add a client",
        "/client Acme",
    ),
    CommandSpec(
        "clients",
        "",
        "Your portfolio: the clients you own and how each is doing",
        "/clients",
    ),
    CommandSpec(
        "due",
        "",
        "What needs your attention now: overdue clients and follow-ups",
        "/due",
    ),
    CommandSpec(
        "owner",
        "<client> @person",
        "Hand a client to a new owner, with a personal handoff",
        "/owner Acme @jane",
    ),
    CommandSpec(
        "repair",
        "<client> <what went wrong>",
        "Start a guided repair when a client relationship sours",
        "/repair Acme missed the filing deadline",
    ),
    CommandSpec(
        "matter",
        "<client> <title> | <matter> close",
        "Open or close a matter, with status updates at the client's rhythm",
        "/matter Acme Q3 audit",
    ),
    CommandSpec(
        "update",
        "<client or matter> <text> [estimate <date>]",
        "Record a status update sent to a client, with your estimate",
        "/update Acme draft filed, estimate Dec 12",
    ),
    CommandSpec(
        "match",
        "<client>",
        "Suggest who at the firm suits each key person at a client",
        "/match Acme",
    ),
    CommandSpec(
        "touchbase",
        "help | channel | role @person <role> | me ...",
        "Help and settings",
        "/touchbase help",
    ),
)

COMMAND_NAMES: frozenset[str] = frozenset(c.name for c in COMMANDS)


def spec(name: str) -> CommandSpec:
    for command in COMMANDS:
        if command.name == name:
            return command
    raise KeyError(name)
