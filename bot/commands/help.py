"""/touchbase help, and the help shown for anything unclear."""

from __future__ import annotations

from dataclasses import replace

from bot.app import Context, Registry, Reply
from bot.catalog import COMMANDS, find_subcommand, spec, subcommands
from bot.messages import Field, Message, Section, Tone
from bot.text import clip


def help_message() -> Message:
    fields = tuple(
        Field(f"/{c.name} {c.usage}".strip(), f"{c.description}. e.g. {c.example}")
        for c in COMMANDS
    )
    return Message(
        text="Touchbase keeps you in regular touch with your clients.",
        title="Touchbase",
        sections=(
            Section(
                text=(
                    "Log every call, lunch and email with /touch. Each morning I'll tell you who "
                    "is due for contact and whose message still waits for a reply."
                )
            ),
            Section(heading="Commands", fields=fields),
            Section(context="For more about one command: /touchbase help touch"),
        ),
    )


def command_help(name: str) -> Message | None:
    """Every form of one command, each explained; or one subcommand (`role`, `client merge`)."""
    topic = " ".join(name.strip().lstrip("/").lower().split())
    try:
        command = spec(topic)
    except KeyError:
        return subcommand_help(topic)
    forms = subcommands(command.name)
    sections = [Section(heading="For example", text="\n".join((command.example, *command.more)))]
    if forms:
        sections.append(
            Section(
                heading="Also",
                fields=tuple(Field(s.usage, f"{s.description}. e.g. {s.example}") for s in forms),
            )
        )
    return Message(
        text=f"/{command.name}: {command.description}.",
        title=f"/{command.name} {command.usage}".strip(),
        sections=tuple(sections),
    )


def subcommand_help(topic: str) -> Message | None:
    found = find_subcommand(topic)
    if found is None:
        return None
    return Message(
        text=f"{found.usage}: {found.description}.",
        title=found.usage,
        sections=(
            Section(heading="For example", text=found.example),
            Section(context=f"Every form of /{found.command}: /touchbase help {found.command}"),
        ),
    )


async def show_help(ctx: Context, text: str) -> Reply:
    topic = text.removeprefix("help").strip()
    if not topic:
        return help_message()
    found = command_help(topic)
    if found is not None:
        return found
    general = help_message()
    return replace(
        general,
        text=f'There\'s no command "{clip(topic, 40)}". These are the commands I know.',
        tone=Tone.WARNING,
    )


def register(r: Registry) -> None:
    # Subcommands ("touchbase role", "touchbase channel") are registered by their own modules.
    r.command("touchbase")(show_help)
    r.command("help")(show_help)
