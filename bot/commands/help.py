"""/touchbase help, and the help shown for anything unclear."""

from __future__ import annotations

from bot.app import Context, Registry, Reply
from bot.catalog import COMMANDS, spec
from bot.messages import Field, Message, Section


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
    try:
        command = spec(name.strip().lstrip("/").lower())
    except KeyError:
        return None
    lines = (command.example, *command.more)
    return Message(
        text=f"/{command.name}: {command.description}.",
        title=f"/{command.name} {command.usage}".strip(),
        sections=(Section(heading="For example", text="\n".join(lines)),),
    )


async def show_help(ctx: Context, text: str) -> Reply:
    topic = text.removeprefix("help").strip()
    return (command_help(topic) if topic else None) or help_message()


def register(r: Registry) -> None:
    # Subcommands ("touchbase role", "touchbase channel") are registered by their own modules.
    r.command("touchbase")(show_help)
    r.command("help")(show_help)
