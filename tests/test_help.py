"""Help names every subcommand and explains it, and each one it names is one the router knows."""

from __future__ import annotations

import json

import pytest

from bot.catalog import COMMANDS, SUBCOMMANDS, subcommands
from bot.commands import default_registry, profile, repair
from tests.conftest import Chat
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    Harness,
    slack_fake_fixture,
    slack_fixture,
)
from tests.teams_helpers import (
    Teams,
    card_text,
    teams,
    unescape,
)

__all__ = ["teams"]  # the fixture


def test_every_subcommand_in_help_is_routed() -> None:
    registry = default_registry()
    for s in SUBCOMMANDS:
        if s.command == "touchbase" and s.name != "help":
            assert f"touchbase {s.name}" in registry.commands, s
        elif s.command == "client" and s.name != "add":
            assert profile._keyword(s.name) in profile.HANDLERS, s
        elif s.command == "repair":
            assert s.name in repair.SUBCOMMANDS, s
    # And the other way round: every "touchbase <word>" the router knows is in help.
    routed = {name.split(" ", 1)[1] for name in registry.commands if name.startswith("touchbase ")}
    assert routed <= {s.name for s in subcommands("touchbase")}
    assert set(repair.SUBCOMMANDS) <= {s.name for s in subcommands("repair")}
    assert {k for k in profile.HANDLERS if k not in ("keypeople", "prefer", "mergeinto")} <= {
        profile._keyword(s.name) for s in subcommands("client")
    }


async def test_each_command_help_lists_and_explains_its_subcommands(chat: Chat) -> None:
    for command in COMMANDS:
        out = await chat.say(f"/touchbase help {command.name}")
        for s in subcommands(command.name):
            assert f"{s.usage}: {s.description}" in out, (command.name, s.name)


@pytest.mark.parametrize("topic", ["role", "me", "channel", "tz", "workdays", "client merge"])
async def test_help_on_one_subcommand(chat: Chat, topic: str) -> None:
    out = await chat.say(f"/touchbase help {topic}")
    assert "There's no command" not in out
    [s] = [
        s
        for s in SUBCOMMANDS
        if s.name == topic.split()[-1] and (s.command == "touchbase" or " " in topic)
    ]
    assert s.usage in out and s.example in out


async def test_help_role_and_help_me_from_slack_and_teams(slack: Harness, teams: Teams) -> None:
    _, body = await slack.command("help role", command="/touchbase")
    said = json.dumps(body)
    assert "/touchbase role @person" in said and "no command" not in said
    _, body = await slack.command("help me", command="/touchbase")
    assert "/touchbase me" in json.dumps(body)
    await teams.post(teams.personal("touchbase help role"))
    card = unescape(card_text(await teams.last_card(1)))
    assert "/touchbase role @person" in card and "no command" not in card
    await teams.post(teams.personal("touchbase help cadence"))
    assert "/client <name> cadence" in unescape(card_text(await teams.last_card(2)))
