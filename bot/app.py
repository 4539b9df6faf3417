"""The core's entry point: an identity and a command, action or form in; a reply out.

Adapters call `Touchbase.command`, `.action` and `.submit`. Each call is one unit of work: the
handler's changes are committed before the reply is returned, so anything a person is told was
saved has been saved. Messages for other people (a DM to a new owner, a channel post) are written
to the durable outbox in the same transaction and sent right after the commit (see bot/outbox.py);
a crash in between delays them, the scheduler's drainer sends them.

`Touchbase.command_later` is for a command whose person is no longer waiting on the request (the
process that acknowledged it died): its reply goes the same way, queued with the command's own
changes under a key, so running it again sends nothing more.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from bot.capture import without_secret
from bot.clock import Clock, local_today
from bot.config import CoreConfig
from bot.domain import Client, Person, Platform, Touch, Workspace
from bot.inbound import ActionIn, CommandIn, FormIn, Identity
from bot.messages import Action, Form, FormErrors, Message, Section, error
from bot.outbox import DrainReport, drain_outbox, message_to_json
from bot.parsing import DateOrder, date_order_for_locale
from bot.ports import Address, Messenger, Store, UnitOfWork
from bot.privacy import Conversation, Mentioned, is_outsider, refusal

log = logging.getLogger(__name__)

Reply = Message | Form | FormErrors


@dataclass(frozen=True, slots=True)
class Outbound:
    """A message for someone other than the person who asked; sent once the work is committed."""

    address: Address | None
    message: Message
    person_id: int | None = None
    kind: str = "notice"


@dataclass
class _Later:
    """Where the reply of a command run with `command_later` goes, under which outbox kind; and
    whether it is queued (now, or by an earlier run of the same command)."""

    address: Address
    kind: str
    queued: bool = False


def reply_kind(key: str) -> str:
    """The outbox kind of a deferred reply: one per key, within the column's 32 characters."""
    return "reply:" + hashlib.sha256(key.encode()).hexdigest()[:26]


@dataclass
class Context:
    """Everything a handler may use. There is no global bot."""

    uow: UnitOfWork
    workspace: Workspace
    person: Person
    clock: Clock
    config: CoreConfig
    identity: Identity
    channel: Address | None = None
    mentions: Mapping[str, str] = field(default_factory=dict)
    source_id: str | None = None
    outbox: list[Outbound] = field(default_factory=list)
    registry: Registry | None = None
    conversation: Conversation | None = None  # where the request was made, when the adapter said
    mentioned: Mapping[str, Mentioned] = field(default_factory=dict)  # what the platform said

    def today(self) -> date:
        return local_today(self.clock, self.person.tz or self.config.default_tz)

    def date_order(self) -> DateOrder:
        """How this person writes numeric dates: their platform locale, else the firm's."""
        locale = self.identity.locale or self.person.locale
        return date_order_for_locale(locale) or self.config.date_order

    def notify(
        self, address: Address | None, message: Message, person_id: int | None = None
    ) -> None:
        """Queue a message for someone else, sent once the work is committed. Without an address
        but with a person (an imported owner who has not used Touchbase yet), it waits until
        they are first seen."""
        if address is not None or person_id is not None:
            self.outbox.append(Outbound(address, message, person_id))


CommandHandler = Callable[[Context, str], Awaitable[Reply]]
ActionHandler = Callable[[Context, str], Awaitable[Reply]]
FormHandler = Callable[[Context, Mapping[str, str], str], Awaitable[Reply]]
# Extra sections and buttons features add to a client's card (a repair under way, a handoff).
CardExtension = Callable[["Context", Client], Awaitable[tuple[Section, ...]]]
# Extra buttons features offer under a touch confirmation (e.g. "Start a repair" after trouble).
TouchExtension = Callable[["Context", Touch], Awaitable[tuple[Action, ...]]]


class Registry:
    """Commands, button actions and forms by name. Feature modules register into it."""

    def __init__(self) -> None:
        self.commands: dict[str, CommandHandler] = {}
        self.actions: dict[str, ActionHandler] = {}
        self.forms: dict[str, FormHandler] = {}
        self.card_extensions: list[CardExtension] = []
        self.touch_extensions: list[TouchExtension] = []

    def command(self, name: str) -> Callable[[CommandHandler], CommandHandler]:
        def add(handler: CommandHandler) -> CommandHandler:
            self.commands[name] = handler
            return handler

        return add

    def action(self, action_id: str) -> Callable[[ActionHandler], ActionHandler]:
        def add(handler: ActionHandler) -> ActionHandler:
            self.actions[action_id] = handler
            return handler

        return add

    def form(self, form_id: str) -> Callable[[FormHandler], FormHandler]:
        def add(handler: FormHandler) -> FormHandler:
            self.forms[form_id] = handler
            return handler

        return add


def storable(text: str) -> str:
    """Text as every database can keep it: PostgreSQL refuses the NUL character."""
    return text.replace("\x00", "")


SORRY = (
    "Something went wrong on our side and nothing was saved. "
    "Please try again in a minute; your text is below so you can copy it."
)


class Touchbase:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: CoreConfig,
        registry: Registry,
        messengers: Mapping[Platform, Messenger] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.registry = registry
        self.messengers: dict[Platform, Messenger] = dict(messengers or {})
        self.worker = f"app:{socket.gethostname()}:{os.getpid()}:{id(self):x}"

    async def command(self, who: Identity, cmd: CommandIn) -> Reply:
        return await self._command(who, cmd, None)

    async def _command(self, who: Identity, cmd: CommandIn, later: _Later | None) -> Reply:
        if is_outsider(who):  # before anything is looked up or stored (bot/privacy.py)
            return refusal(who)
        name = cmd.name.lstrip("/").lower()
        text = storable(cmd.text).strip()
        first, _, rest = text.partition(" ")
        handler = self.registry.commands.get(f"{name} {first.lower()}") if first else None
        if handler is not None:  # a subcommand such as "touchbase role"
            text = rest.strip()
        else:
            handler = self.registry.commands.get(name)
        if handler is None:
            return error(
                f"I don't know the command {cmd.name!r}.", "Type /touchbase help to see them all."
            )
        return await self._run(
            who,
            lambda ctx: handler(ctx, text),
            channel=cmd.channel,
            mentions=cmd.mentions,
            mentioned=cmd.mentioned,
            conversation=cmd.conversation,
            source_id=cmd.source_id,
            echo=f"/{cmd.name} {without_secret(cmd.name, cmd.text)}".strip(),
            label=f"command:{cmd.name}",
            later=later,
        )

    async def command_later(
        self, who: Identity, cmd: CommandIn, reply_to: Address, key: str
    ) -> Reply | None:
        """Run a command nobody waits on any more, its reply for `reply_to`. The reply is written
        to the outbox in the command's own transaction, under `key`, and sent from there: once,
        however often this is called with the same key (a run whose reply is already queued
        changes nothing and sends nothing). Returns None when the reply is queued; otherwise the
        reply the caller must deliver itself (the command failed and nothing was saved, it
        answered with a form, or this process cannot send on the platform)."""
        later = _Later(reply_to, reply_kind(key))
        reply = await self._command(who, cmd, later)
        return None if later.queued else reply

    async def action(self, who: Identity, act: ActionIn) -> Reply:
        if is_outsider(who):
            return refusal(who)
        handler = self.registry.actions.get(act.action_id)
        if handler is None:
            return error("That button no longer does anything. Type /touchbase help for commands.")
        return await self._run(
            who,
            lambda ctx: handler(ctx, storable(act.value)),
            source_id=act.source_id,
            conversation=act.conversation,
            label=f"action:{act.action_id}",
        )

    async def submit(self, who: Identity, form: FormIn) -> Reply:
        if is_outsider(who):
            return refusal(who)
        handler = self.registry.forms.get(form.form_id)
        if handler is None:
            return error("That form is out of date. Please open it again.")
        return await self._run(
            who,
            lambda ctx: handler(
                ctx,
                {k: storable(v) for k, v in form.values.items()},
                storable(form.private_value),
            ),
            source_id=form.source_id,
            conversation=form.conversation,
            label=f"form:{form.form_id}",
        )

    async def _run(
        self,
        who: Identity,
        work: Callable[[Context], Awaitable[Reply]],
        *,
        label: str,
        channel: Address | None = None,
        mentions: Mapping[str, str] | None = None,
        mentioned: Mapping[str, Mentioned] | None = None,
        conversation: Conversation | None = None,
        source_id: str | None = None,
        echo: str | None = None,
        later: _Later | None = None,
    ) -> Reply:
        workspace = await self.store.workspace(who.platform, who.workspace_key, who.workspace_name)
        try:
            async with self.store.unit(workspace.id) as uow:
                # Asked first, in this unit's own transaction, which also keeps everything the
                # command writes in that transaction (no shared round, store/batch.py): the
                # reply is committed with the command or not at all.
                if later is not None and await uow.outbox.holds(later.kind):
                    # An earlier run committed this command and queued its reply: the outbox
                    # sends it (or has); nothing is done again.
                    later.queued = True
                    return Message(text="")
                person = await uow.people.ensure(
                    who.user_id,
                    who.display_name,
                    tz=who.tz,
                    email=who.email,
                    locale=who.locale,
                    address=who.address,
                    profile_refreshed_at=who.profile_refreshed_at,
                )
                ctx = Context(
                    uow=uow,
                    workspace=workspace,
                    person=person,
                    clock=self.clock,
                    config=self.config,
                    identity=who,
                    channel=channel,
                    mentions=mentions or {},
                    source_id=source_id,
                    registry=self.registry,
                    conversation=conversation,
                    mentioned=mentioned or {},
                )
                reply = await work(ctx)
                if later is not None and isinstance(reply, Message):
                    ctx.outbox.append(Outbound(later.address, reply, kind=later.kind))
                queued = await self.queue(uow, workspace.platform, ctx.outbox)
                await uow.commit()
            if later is not None:  # committed with the command, unless this process can't send
                later.queued = isinstance(reply, Message) and bool(queued)
        except Exception:
            log.exception(
                "handler failed",
                extra={"platform": who.platform.value, "workspace": workspace.id, "what": label},
            )
            return error(SORRY, echo)
        await self.drain(queued)
        return reply

    async def queue(self, uow: UnitOfWork, platform: Platform, outbox: list[Outbound]) -> list[int]:
        """Write the work's messages for others into the outbox, in the work's transaction. Only
        for a platform this process can send on (the one the request came from)."""
        if platform not in self.messengers:
            return []
        return [
            await uow.outbox.add(
                item.address,
                message_to_json(item.message),
                person_id=item.person_id,
                kind=item.kind,
            )
            for item in outbox
        ]

    async def drain(self, ids: list[int] | None = None) -> DrainReport | None:
        """Send queued messages: `ids` right after the commit that wrote them, or all that are
        due (the scheduler). A failure is logged and left for a retry, never raised."""
        if ids is not None and not ids:
            return None
        try:
            return await drain_outbox(
                self.store.outbox_queue(), self.messengers, self.worker, ids=ids
            )
        except Exception:
            log.exception("could not drain the outbox")
            return None
