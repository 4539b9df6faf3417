"""One Teams turn, whichever SDK received it: activity JSON in, cards out. No SDK here.

Both Teams adapters (botbuilder in :mod:`adapters.teams.bot`, the Microsoft 365 Agents SDK in
:mod:`adapters.agents.bot`) hand each activity's JSON to :class:`TeamsTurns` with a small
:class:`TurnIO` (reply in this conversation, look a member up in the roster) and a
:class:`CardSender` (send a card to a stored address). So the rules below hold for both:

* **Who may act.** A sender of another tenant or a guest (:func:`activity.membership_of`; their
  roster entry is looked up the first time and then once a day) gets the core's one short
  refusal, here, and nothing is stored for them.
* **Private stays private** (:func:`bot.privacy.route_reply`). Teams cannot show a message to one
  person inside a channel or group chat, so a private reply asked for there goes to the
  person's personal chat (proactively, to the address stored when they last spoke to the bot
  there) and the conversation gets only "I've sent you a DM", or, when the personal chat cannot
  be reached, a line saying so. Forms count as private too: they carry what was typed.
* **People are who the roster says.** A mention carries a ``29:`` id and a name, usually without
  an ``aadObjectId``: the roster (``GET /v3/conversations/{id}/members/{member}``) says whose it
  is. A member Touchbase knows becomes ``<@aadObjectId>``; anyone else is reported to the core
  as unknown or an outsider (``CommandIn.mentioned``), which answers "I don't know Bob Brown
  yet..." instead of inventing a person.
* **Invokes are answered.** ``adaptiveCard/action`` (``Action.Execute``) is handled like an
  ``Action.Submit`` (a card's own refresh leaves it as it is); ``task/fetch`` and ``composeExtension/query`` get a proper answer; every
  other invoke a 200 with an empty body.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any, Protocol

from adapters.teams import activity as read
from adapters.teams import cards
from adapters.teams.universal import REFRESH, error_response, execute_response, message_response
from bot.app import Reply, Touchbase
from bot.directory import Directory
from bot.domain import Platform
from bot.inbound import CommandIn, Identity
from bot.messages import Form, FormErrors, Message
from bot.ports import Address
from bot.privacy import (
    COULD_NOT_DM,
    Capabilities,
    Conversation,
    Membership,
    Mentioned,
    MentionStatus,
    Route,
    is_outsider,
    pointer,
    refusal,
    route_reply,
)

log = logging.getLogger(__name__)

Json = Mapping[str, Any]
TEAMS_CAN = Capabilities(can_reply_privately_in_channel=False)
ROSTER_REFRESH = timedelta(days=1)  # how long a roster check of a known sender holds

TASK_FETCH_TEXT = "Touchbase has no dialog to open here: type help in your chat with Touchbase."
DONE = "Done."


class TurnIO(Protocol):
    """What a turn needs from its SDK."""

    async def reply(self, card: cards.Card, summary: str) -> None:
        """Post a card in the conversation the activity came from."""

    async def member(self, member_id: str) -> Json | None:
        """The roster entry (``TeamsChannelAccount`` JSON) of a member of this conversation, or
        None when Teams does not know them here or could not be asked."""


class CardSender(Protocol):
    async def send_card(self, address: Address, card: cards.Card, summary: str) -> None:
        """Send a card to a stored conversation reference; raises on failure."""


def reply_card(
    reply: Reply, *, form: Form | None = None, values: Mapping[str, str] | None = None
) -> tuple[cards.Card, str]:
    """A core reply as an Adaptive Card and its one-line summary."""
    if isinstance(reply, Message):
        return cards.message_card(reply), reply.text
    if isinstance(reply, Form):
        return cards.form_card(reply), reply.title
    if form is not None:
        return cards.form_card(form, errors=reply.errors, values=values), form.title
    # the card was not one of ours, or was tampered with
    problems = "; ".join(reply.errors.values()) or "Please check the form."
    message = Message(text=problems, title="That did not work")
    return cards.message_card(message), message.text


class TeamsTurns:
    """The rules of a Teams turn; one instance per server, no per-conversation state."""

    def __init__(
        self,
        app: Touchbase,
        directory: Directory,
        sender: CardSender,
        *,
        development: bool = False,
    ) -> None:
        self.app = app
        self.directory = directory
        self.sender = sender
        self.development = development

    # ---- who

    async def who(self, activity: Json, io: TurnIO) -> Identity | None:
        """The sender, with their membership. The roster is asked about someone new, and
        again once a day (:data:`ROSTER_REFRESH`), so a member who became a guest is no
        longer let in; the time of the check is stored with the person."""
        who = read.identity_of(activity, development=self.development)
        if who is None or is_outsider(who) or who.workspace_key == read.EMULATOR_WORKSPACE:
            return who
        _, known = await self.directory.known_person(Platform.TEAMS, who.workspace_key, who.user_id)
        now = self.app.clock.now()
        checked = known.profile_refreshed_at if known is not None else None
        if checked is not None and now - checked < ROSTER_REFRESH:
            return who
        sender_id = str(_map(activity.get("from")).get("id") or "")
        member = await io.member(sender_id) if sender_id else None
        found = read.identity_of(activity, development=self.development, member=member)
        if found is None or member is None:
            return found
        email = member.get("email") or member.get("userPrincipalName")
        return replace(
            found,
            email=str(email) if email and "@" in str(email) else found.email,
            profile_refreshed_at=now,
        )

    # ---- messages and Action.Submit

    async def message(self, activity: Json, io: TurnIO) -> None:
        who = await self.who(activity, io)
        if who is None:
            log.warning("ignored a Teams message without a tenant or sender")
            return
        if is_outsider(who):
            await self._refuse(io)
            return
        value = activity.get("value")
        if isinstance(value, Mapping) and value:
            await self._submitted(activity, io, who, value)
            return
        command = await self._command(activity, io, who)
        reply = await self.app.command(who, command)
        await self.deliver(activity, io, who, reply)

    async def _submitted(
        self, activity: Json, io: TurnIO, who: Identity, data: Json
    ) -> Message | None:
        """Run a card's form or button; the pointer posted instead of the reply, if any."""
        source, where = read.source_id(activity), read.conversation_of(activity)
        submitted = read.form_of(data, source, where)
        if submitted is not None:
            form_in, values = submitted
            reply: Reply = await self.app.submit(who, form_in)
            shown = cards.form_from_description(
                form_in.form_id, form_in.private_value, data.get("form")
            )
            return await self.deliver(activity, io, who, reply, form=shown, values=values)
        action = read.action_of(data, source, where)
        if action is not None:
            reply = await self.app.action(who, action)
            return await self.deliver(activity, io, who, reply)
        log.info("ignored a Teams card submit without action_id or form_id")
        return None

    async def _command(self, activity: Json, io: TurnIO, who: Identity) -> CommandIn:
        """The command, with each mentioned person resolved through the roster."""
        aad_ids: dict[str, str] = {}
        mentioned: dict[str, Mentioned] = {}
        for account in read.people_mentioned(activity):
            teams_id, name = str(account["id"]), str(account.get("name") or "")
            aad = str(account.get("aadObjectId") or "")
            member = await io.member(teams_id)
            if member is not None and member.get("aadObjectId"):
                aad = str(member["aadObjectId"])
                name = str(member.get("name") or name)
            if not aad:
                mentioned[teams_id] = Mentioned(teams_id, name, MentionStatus.UNKNOWN)
                continue
            aad_ids[teams_id] = aad
            if member is not None and read.membership_of(activity, member) is not Membership.MEMBER:
                mentioned[aad] = Mentioned(aad, name, MentionStatus.OUTSIDER)
                continue
            _, known = await self.directory.known_person(Platform.TEAMS, who.workspace_key, aad)
            if known is None:  # never spoke to Touchbase: no way to tell them anything
                mentioned[aad] = Mentioned(aad, name, MentionStatus.UNKNOWN)
            else:
                mentioned[aad] = Mentioned(aad, known.display_name or name, email=known.email)
        command = read.command_of(read.with_mentions_resolved(activity, aad_ids))
        return CommandIn(
            name=command.name,
            text=command.text,
            source_id=command.source_id,
            channel=command.channel,
            mentions=command.mentions,
            mentioned=mentioned,
            conversation=command.conversation,
        )

    # ---- replies: the privacy rule

    async def deliver(
        self,
        activity: Json,
        io: TurnIO,
        who: Identity,
        reply: Reply,
        *,
        form: Form | None = None,
        values: Mapping[str, str] | None = None,
    ) -> Message | None:
        """Post the reply here, or in the person's personal chat with a pointer here; the
        pointer posted, if any."""
        card, summary = reply_card(reply, form=form, values=values)
        where = read.conversation_of(activity)
        if not self._needs_personal_chat(reply, where):
            await io.reply(card, summary)
            return None
        note = pointer(COULD_NOT_DM)
        address = await self._personal_address(who)
        if address is not None:
            try:
                await self.sender.send_card(address, card, summary)
            except Exception as error:  # blocked, removed, unreachable: say so, never post it
                log.warning("could not send a private reply: %s", type(error).__name__)
            else:
                note = pointer()
        await io.reply(cards.message_card(note), note.text)
        return note

    @staticmethod
    def _needs_personal_chat(reply: Reply, where: Conversation) -> bool:
        if not where.is_shared:
            return False
        if isinstance(reply, Message):
            return route_reply(reply, where, TEAMS_CAN).route is Route.PERSONAL_CHAT
        return True  # a form shows what was typed, and who it is for

    async def _personal_address(self, who: Identity) -> Address | None:
        if who.address is not None:
            return who.address
        _, person = await self.directory.known_person(
            Platform.TEAMS, who.workspace_key, who.user_id
        )
        return person.address if person is not None else None

    async def _refuse(self, io: TurnIO) -> None:
        """The one short answer for an outsider, where they asked: it holds nothing of the
        firm's, so it may be read by all."""
        message = refusal()
        await io.reply(cards.message_card(message), message.text)

    # ---- invokes

    async def invoke(self, activity: Json, io: TurnIO) -> tuple[int, dict[str, Any]]:
        """The HTTP status and body answering an invoke activity."""
        name = str(activity.get("name") or "")
        if name == "adaptiveCard/action":
            return 200, await self._execute(activity, io)
        if name == "task/fetch":
            return 200, {"task": {"type": "message", "value": TASK_FETCH_TEXT}}
        if name.startswith("composeExtension/"):
            return 200, {
                "composeExtension": {
                    "type": "result",
                    "attachmentLayout": "list",
                    "attachments": [],
                }
            }
        return 200, {}

    async def _execute(self, activity: Json, io: TurnIO) -> dict[str, Any]:
        """``Action.Execute``: the same core call as the ``Action.Submit`` it falls back to.
        A card's refresh is answered without a new card: it keeps what it showed."""
        action = _map(_map(activity.get("value")).get("action"))
        if action.get("verb") == REFRESH:
            return message_response("")
        who = await self.who(activity, io)
        if who is None:
            return error_response(403, "Forbidden", "Touchbase could not tell who you are.")
        if is_outsider(who):
            return message_response(refusal().text)
        data = read.execute_data(activity)
        where = read.conversation_of(activity)
        source = read.source_id(activity)
        submitted = read.form_of(data, source, where)
        if submitted is None and read.action_of(data, source) is None:
            return error_response(400, "BadRequest", "That button is not one of ours.")
        if submitted is not None and not where.is_shared:
            form_in, values = submitted
            reply = await self.app.submit(who, form_in)
            if isinstance(reply, FormErrors):  # shown again in place, to the one person here
                shown = cards.form_from_description(
                    form_in.form_id, form_in.private_value, data.get("form")
                )
                card, _ = reply_card(reply, form=shown, values=values)
                return execute_response(card)
            await self.deliver(activity, io, who, reply)
            return message_response(DONE)
        moved = await self._submitted(activity, io, who, data)
        return message_response(moved.text if moved is not None else DONE)

    # ---- installation: remember the personal chat

    async def members_added(self, activity: Json, io: TurnIO) -> None:
        bot_id = _map(activity.get("recipient")).get("id")
        added = activity.get("membersAdded") or ()
        if not any(_map(m).get("id") == bot_id for m in added):
            return  # someone joined a team the bot is in: nothing to do
        if read.conversation_type(activity) != read.PERSONAL:
            return
        who = await self.who(activity, io)
        if who is None or is_outsider(who):
            return
        # The help reply is the welcome; running it through the core stores the address.
        reply = await self.app.command(who, CommandIn("touchbase", "help"))
        await self.deliver(activity, io, who, reply)

    async def installation_added(self, activity: Json, io: TurnIO) -> None:
        if read.conversation_type(activity) != read.PERSONAL:
            return
        who = await self.who(activity, io)
        if who is not None:
            await self.directory.remember(who)  # quietly: no reply; never an outsider


def _map(value: Any) -> Json:
    return value if isinstance(value, Mapping) else {}
