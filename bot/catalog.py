"""The commands Touchbase understands: one list, used by help, the router and both app manifests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str  # without the slash
    usage: str  # argument hint, as shown in Slack's autocomplete
    description: str  # one line, at most 80 characters
    example: str
    more: tuple[str, ...] = ()  # further forms, shown by `/touchbase help <command>`
    # Listed in the Teams app's command list (Teams takes at most 10 per bot; the commands not
    # listed still work there, and `/touchbase help` lists every command).
    teams: bool = False


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "touch",
        "<client> <what happened> [with <person>] [when]",
        "Log a client touchpoint: a call, lunch, email or visit",
        "/touch Acme lunch with the CFO yesterday",
        (
            "/touch Globex left voicemail for Dana: awaits a reply, so I remind you to follow up",
            '/touch "Smith & Sons" coffee w/ general counsel last Tuesday',
            "/touch Acme emailed the GC about renewal, no reply yet",
        ),
        teams=True,
    ),
    CommandSpec(
        "client",
        "<name> | add <name> [aliases]",
        "Show a client's card and history, or add a client",
        "/client Acme",
        (
            "/client add Acme Corp, ACME, Acme Inc: a name, then any aliases",
            "/client Acme people: the key people at Acme",
            "/client Acme people add Dana Scully, CFO, decision maker, values predictability",
            "/client Acme people remove Dana Scully",
            "/client Acme segment Manufacturing",
            "/client Acme prefers weekly email updates",
            "/client Acme profile: edit the profile in a form",
            "/client Acme closeout: the engagement is finished; plan care check-ins",
        ),
        teams=True,
    ),
    CommandSpec(
        "clients",
        "",
        "Your portfolio: the clients you own and how each is doing",
        "/clients",
        ("/clients @bob: someone else's portfolio (principals and admins)",),
        teams=True,
    ),
    CommandSpec(
        "due",
        "",
        "What needs your attention now: overdue clients and follow-ups",
        "/due",
        teams=True,
    ),
    CommandSpec(
        "owner",
        "<client> @person",
        "Hand a client to a new owner, with a personal handoff",
        "/owner Acme @jane",
        ("The current owner, a principal or an admin can hand a client on.",),
        teams=True,
    ),
    CommandSpec(
        "repair",
        "<client> <what went wrong>",
        "Start a guided repair when a client relationship sours",
        "/repair Acme missed the filing deadline",
        (
            "/repair: the repairs under way",
            "/repair Acme status",
            "/repair Acme breathe 10: a breathing period of 10 days",
            "/repair Acme pause, then /repair Acme resume",
            "/repair Acme cancel <reason>",
            "/repair Acme restart",
        ),
        teams=True,
    ),
    CommandSpec(
        "matter",
        "<client> <title> | <matter> close",
        "Open or close a matter, with status updates at the client's rhythm",
        "/matter Acme Q3 audit",
        (
            "/matter Acme Q3 audit expected Dec 12 lead @dana every 2 weeks",
            "/matter: the matters you lead; /matter Acme: Acme's matters",
            "/matter Q3 audit close: ends it and plans care check-ins",
        ),
        teams=True,
    ),
    CommandSpec(
        "update",
        "<client or matter> <text> [estimate <date>]",
        "Record a status update sent to a client, with your estimate",
        "/update Acme draft filed, estimate Dec 12",
        teams=True,
    ),
    CommandSpec(
        "match",
        "<client>",
        "Suggest who at the firm suits each key person at a client",
        "/match Acme",
        ("/match: clients whose relationship rests on one colleague alone",),
        teams=True,
    ),
    CommandSpec(
        "touchbase",
        "help | channel | role @person <role> | me ...",
        "Help and settings",
        "/touchbase help",
        (
            "/touchbase help <command>: more about one command",
            "/touchbase channel: typed in a channel, makes it the relationships channel (admins)",
            "/touchbase channel off: stop posting to the relationships channel (admins)",
            "/touchbase role @person staff|senior|principal|admin (admins)",
            "/touchbase me seniority partner | interests golf, sailing | practice tax, M&A",
            "/touchbase tz Europe/London: your time zone, for your morning digest and dates",
            "/touchbase workdays mon-fri (or mon,tue,thu): the days you get a digest",
        ),
        teams=True,
    ),
)

COMMAND_NAMES: frozenset[str] = frozenset(c.name for c in COMMANDS)


def spec(name: str) -> CommandSpec:
    for command in COMMANDS:
        if command.name == name:
            return command
    raise KeyError(name)
