"""/touchbase help, and the help shown for anything unclear."""

from __future__ import annotations

from bot.app import Context, Registry, Reply
from bot.catalog import COMMANDS
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
        ),
    )


async def show_help(ctx: Context, text: str) -> Reply:
    return help_message()


def register(r: Registry) -> None:
    # Subcommands ("touchbase role", "touchbase channel") are registered by their own modules.
    r.command("touchbase")(show_help)
    r.command("help")(show_help)
