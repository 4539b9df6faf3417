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
            "/client Acme people remove Dana Scully",
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
        ("/repair: the repairs under way",),
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
            "/matter Q3 audit: the matter's card, found by its title alone",
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
            "/touchbase help role: more about one command or setting",
            "/touchbase me seniority partner | interests golf, sailing | practice tax, M&A",
        ),
        teams=True,
    ),
)

COMMAND_NAMES: frozenset[str] = frozenset(c.name for c in COMMANDS)


@dataclass(frozen=True, slots=True)
class Subcommand:
    """One form of a command: `/client <name> cadence ...`, `/touchbase role ...`."""

    command: str
    name: str  # the word that selects it
    usage: str  # the whole form, with the slash
    description: str
    example: str


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("client", "add", "/client add <name>, <alias>, ...", "Add a client; you become its owner", "/client add Acme Corp, ACME"),
    Subcommand("client", "people", "/client <name> people [add|remove <person>]", "The client's key people: who decides, who influences, what each cares about", "/client Acme people add Dana Scully, CFO, decision maker"),
    Subcommand("client", "segment", "/client <name> segment <segment>|none", "Put the client in a segment (its cadence follows the segment's)", "/client Acme segment Manufacturing"),
    Subcommand("client", "prefers", "/client <name> prefers <how and how often>", "How and how often the client wants updates", "/client Acme prefers weekly email updates"),
    Subcommand("client", "profile", "/client <name> profile", "Edit the client's profile in a form", "/client Acme profile"),
    Subcommand("client", "cadence", "/client <name> cadence <N> [days]|weekly|every 2 weeks|monthly|quarterly|default", "How often the client should hear from us; default follows its segment, else the firm", "/client Acme cadence every 2 weeks"),
    Subcommand("client", "rename", "/client <name> rename <new name>", "Rename the client; the old name still finds it", "/client Acme Crop rename Acme Corp"),
    Subcommand("client", "merge", "/client <name> merge into <other client>", "Two records of one client become one: everything moves, asked first", "/client Acme Crop merge into Acme Corp"),
    Subcommand("client", "archive", "/client <name> archive", "No more reminders; out of lists and the dashboard; history kept", "/client Initech archive"),
    Subcommand("client", "unarchive", "/client <name> unarchive", "Bring an archived client back", "/client Initech unarchive"),
    Subcommand("client", "delete", "/client <name> delete", "Erase the client and all of it for good, asked first (admins)", "/client Hooli delete"),
    Subcommand("client", "domain", "/client <name> domain <domain> ...|remove <domain>", "Mail domains that mean this client, for capture from calendars and mail", "/client Globex domain globex.com"),
    Subcommand("client", "closeout", "/client <name> closeout [what finished]", "The work is done: plan the client-care check-ins", "/client Acme closeout the Q3 audit"),
    Subcommand("repair", "status", "/repair <client> status", "Where the repair stands", "/repair Acme status"),
    Subcommand("repair", "breathe", "/repair <client> breathe <days>", "Set the breathing period, in days", "/repair Acme breathe 10"),
    Subcommand("repair", "pause", "/repair <client> pause", "Pause the repair (and its reminders)", "/repair Acme pause"),
    Subcommand("repair", "resume", "/repair <client> resume", "Carry on with a paused repair", "/repair Acme resume"),
    Subcommand("repair", "cancel", "/repair <client> cancel <reason>", "Stop the repair, saying why", "/repair Acme cancel they signed with us again"),
    Subcommand("repair", "restart", "/repair <client> restart", "Start again from step 1, asked first", "/repair Acme restart"),
    Subcommand("matter", "close", "/matter <matter> close", "Close a matter; the care check-ins start with the client's last one", "/matter Q3 audit close"),
    Subcommand("touchbase", "help", "/touchbase help [command]", "The commands, or every form of one", "/touchbase help client"),
    Subcommand("touchbase", "channel", "/touchbase channel [off]", "Typed in a channel: it becomes the relationships channel (admins); off stops the posts", "/touchbase channel"),
    Subcommand("touchbase", "role", "/touchbase role @person staff|senior|principal|admin", "Set someone's role, and so their load target (admins)", "/touchbase role @dana senior"),
    Subcommand("touchbase", "me", "/touchbase me [seniority|interests|practice ...]", "Your own profile, used to suggest who suits whom", "/touchbase me interests golf, sailing"),
    Subcommand("touchbase", "tz", "/touchbase tz <zone>|auto", "Your time zone, for your morning digest and dates", "/touchbase tz Europe/London"),
    Subcommand("touchbase", "workdays", "/touchbase workdays <days>", "The days you get a morning digest", "/touchbase workdays mon-fri"),
    Subcommand("touchbase", "capture", "/touchbase capture [auto|suggest|off]", "What happens to client meetings found in your calendar: logged, suggested, or not read", "/touchbase capture suggest"),
    Subcommand("touchbase", "calendar", "/touchbase calendar <secret iCal address>|off", "Read your calendar from its secret iCal address (metadata only, never titles)", "/touchbase calendar https://outlook.office365.com/owa/calendar/…/calendar.ics"),
)  # fmt: skip


def subcommands(command: str) -> tuple[Subcommand, ...]:
    return tuple(s for s in SUBCOMMANDS if s.command == command)


def find_subcommand(topic: str) -> Subcommand | None:
    """`role`, `touchbase role`, `client cadence`: the subcommand a help topic names. A word
    alone means a /touchbase setting first, else the one command that has it."""
    words = topic.lower().lstrip("/").split()
    if len(words) == 2:
        return next((s for s in SUBCOMMANDS if (s.command, s.name) == tuple(words)), None)
    if len(words) != 1:
        return None
    found = [s for s in SUBCOMMANDS if s.name == words[0]]
    own = [s for s in found if s.command == "touchbase"]
    if own:
        return own[0]
    return found[0] if len(found) == 1 else None


def spec(name: str) -> CommandSpec:
    for command in COMMANDS:
        if command.name == name:
            return command
    raise KeyError(name)
