"""A local chat in the terminal. Buttons show as numbered choices; forms ask one field at a time.

It also reads piped standard input, one command a line, and exits at its end, so it can be
scripted. It doubles as the fake platform for core tests: give it streams and read the transcript.
"""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from bot.app import Reply, Touchbase
from bot.catalog import COMMAND_NAMES
from bot.commands.settings import valid_zone
from bot.domain import LOCAL_PLATFORM, LOCAL_WORKSPACE_KEY, LOCAL_WORKSPACE_NAME
from bot.inbound import ActionIn, CommandIn, FormIn, Identity
from bot.messages import Action, Form, FormErrors, InputKind, Message, Tone
from bot.ports import Address

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0, DEL and C1 (\x9b is CSI)
_ICONS = {Tone.SUCCESS: "✔", Tone.WARNING: "!", Tone.ERROR: "✘", Tone.INFO: "•"}


def clean(text: str) -> str:
    """Terminal-safe: no escape sequences or control characters from user text."""
    return _CONTROL.sub("", text)


def render(message: Message, *, numbered_from: int = 1) -> str:
    """A message as plain text, with its buttons as numbered choices."""
    lines = [f"{_ICONS[message.tone]} {clean(message.text)}"]
    if message.title and message.title not in message.text:
        lines.insert(0, f"== {clean(message.title)} ==")
    number = numbered_from
    for section in message.sections:
        if section.heading:
            lines.append(f"  {clean(section.heading)}:")
        if section.text:
            lines.extend(f"    {clean(line)}" for line in section.text.splitlines())
        lines.extend(f"    {'✓' if i.done else '☐'} {clean(i.text)}" for i in section.checklist)
        for f in section.fields:
            lines.append(f"    {clean(f.label)}: {clean(f.value)}")
        if section.context:
            lines.append(f"    ({clean(section.context)})")
        if section.actions:
            lines.append(
                "    "
                + "  ".join(
                    f"[{number + i}] {clean(a.label)}" for i, a in enumerate(section.actions)
                )
            )
            number += len(section.actions)
    if message.actions:
        lines.append(
            "  "
            + "  ".join(f"[{number + i}] {clean(a.label)}" for i, a in enumerate(message.actions))
        )
    return "\n".join(lines)


@dataclass
class ConsoleMessenger:
    """Messages for other people (DMs, channel posts) are printed with who they are for."""

    out: TextIO
    sent: list[tuple[Address, Message]] = field(default_factory=list)

    async def send(self, address: Address, message: Message) -> None:
        self.sent.append((address, message))
        to = address.get("name") or address.get("channel") or address.get("user") or "someone"
        self.out.write(f"\n--- message for {clean(str(to))} ---\n{render(message)}\n---\n")
        self.out.flush()


@dataclass
class ConsoleChat:
    app: Touchbase
    user: str
    tz: str | None
    read_line: Callable[[], str]  # returns "" at the end of input
    out: TextIO
    interactive: bool = False
    choices: list[Action] = field(default_factory=list)

    def identity(self) -> Identity:
        return Identity(
            platform=LOCAL_PLATFORM,
            workspace_key=LOCAL_WORKSPACE_KEY,
            workspace_name=LOCAL_WORKSPACE_NAME,
            user_id=self.user.casefold(),
            display_name=self.user,
            tz=self.tz,
            address={"user": self.user.casefold(), "name": self.user},
        )

    def _source(self) -> str:
        return f"console:{uuid.uuid4().hex}"

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def prompt(self, text: str) -> None:
        if self.interactive:
            self.out.write(text)
            self.out.flush()

    async def run(self) -> None:
        if self.interactive:
            self.say(f"Touchbase, local chat. You are {self.user}. Type /touchbase help, or /quit.")
        while True:
            self.prompt("> ")
            line = await asyncio.to_thread(self.read_line)
            if line == "":
                break
            line = line.strip()
            if not line:
                continue
            if line in ("/quit", "/exit", "quit", "exit"):
                break
            await self.handle(line)

    async def handle(self, line: str) -> None:
        if line.isdigit() and self.choices:
            index = int(line) - 1
            if not 0 <= index < len(self.choices):
                self.say(f"✘ Choose a number from 1 to {len(self.choices)}.")
                return
            action = self.choices[index]
            reply = await self.app.action(
                self.identity(), ActionIn(action.action_id, action.value, self._source())
            )
            await self.show(reply)
            return
        name, _, text = line.lstrip("/").partition(" ")
        if not line.startswith("/") and name.lower() not in COMMAND_NAMES:
            self.say(
                "• Commands start with a slash, like /touch Acme lunch with the CFO. "
                "Type /touchbase help to see them all."
            )
            return
        reply = await self.app.command(
            self.identity(),
            CommandIn(name.lower(), text, source_id=self._source(), channel={"channel": "console"}),
        )
        await self.show(reply)

    async def show(self, reply: Reply) -> None:
        if isinstance(reply, Form):
            reply = await self.fill(reply)
            if isinstance(reply, Form) or (isinstance(reply, Message) and not reply.text):
                return
        if isinstance(reply, FormErrors):
            for name, problem in reply.errors.items():
                self.say(f"✘ {name}: {clean(problem)}")
            return
        self.choices = list(reply.all_actions())
        self.say(render(reply))

    async def fill(self, form: Form) -> Reply:
        """Ask for each input in turn; an empty answer keeps the suggested value."""
        self.say(f"== {clean(form.title)} == (press Enter to keep the value in brackets)")
        values: dict[str, str] = {}
        for item in form.inputs:
            hint = ""
            if item.kind is InputKind.SELECT:
                hint = " (" + ", ".join(o.value for o in item.options) + ")"
            elif item.kind is InputKind.CHECKBOX:
                hint = " (yes/no)"
            elif item.kind is InputKind.DATE:
                hint = " (YYYY-MM-DD)"
            default = f" [{item.initial}]" if item.initial else ""
            self.say(f"{clean(item.label)}{hint}{default}:")
            answer = (await asyncio.to_thread(self.read_line)).strip()
            if answer.startswith("/"):  # a command instead of an answer: leave the form
                self.say("• Form closed; nothing was saved.")
                await self.handle(answer)
                return Message(text="", tone=Tone.INFO)
            values[item.name] = answer or (item.initial or "")
        while True:
            reply = await self.app.submit(
                self.identity(), FormIn(form.form_id, values, form.private_value, self._source())
            )
            if not isinstance(reply, FormErrors) or not self.interactive:
                return reply
            for name, problem in reply.errors.items():
                self.say(f"✘ {clean(problem)}")
                self.say(f"{name}:")
                values[name] = (await asyncio.to_thread(self.read_line)).strip()


async def run_console(
    app: Touchbase,
    user: str,
    tz: str | None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> ConsoleChat:
    if tz is not None and valid_zone(tz) is None:
        raise SystemExit(
            f'touchbase console: unknown time zone "{clean(tz)}". '
            "Give an IANA name such as Europe/London, America/New_York or UTC."
        )
    tz = valid_zone(tz) if tz is not None else None
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    chat = ConsoleChat(app, user, tz, stdin.readline, stdout, interactive=interactive)
    await chat.run()
    return chat
