"""The Slack adapter: a slack-bolt AsyncApp whose listeners translate Slack ↔ the core.

Built by `build_slack(services)`; nothing here runs at import. Listeners only translate: a
payload becomes an Identity and a CommandIn/ActionIn/FormIn, the core's reply becomes Block
Kit. Every listener acks within Slack's 3 seconds: the core call gets a budget (`ack_budget`)
and when it overruns, the ack says "Saving…" and the outcome follows through `response_url`
(or a DM). Work that continues after an ack runs in a tracked task that never raises, because
an exception after `ack()` would make bolt discard the ack.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from adapters.client_errors import ClientErrorLog, refuse
from adapters.manifests import declared_bot_scopes, slack_manifest
from adapters.ports import Services
from adapters.slack.blocks import (
    CLIENT_SEARCH_ACTION,
    ModalState,
    client_option,
    clip,
    decode_action_id,
    form_view,
    from_slack_text,
    home_view,
    message_payload,
    view_values,
)
from adapters.slack.guard import check_slack_request
from adapters.slack.messenger import post_response_url, reply_address
from adapters.slack.people import SlackPeople
from adapters.slack.tenancy import (
    Host,
    claimed_outsider,
    conversation_from_info,
    conversation_of,
    host_of,
    split_workspace_key,
    workspace_of,
)
from app.settings import SlackSettings
from bot.app import SORRY, Reply
from bot.capture import without_secret
from bot.catalog import COMMAND_NAMES, COMMANDS
from bot.clock import local_today
from bot.commands.touch import touch_form
from bot.domain import Platform
from bot.inbound import ActionIn, CommandIn, FormIn, Identity
from bot.messages import Form, FormErrors, Message, Tone, error
from bot.privacy import (
    Conversation,
    ConversationKind,
    Membership,
    Mentioned,
    MentionStatus,
    is_outsider,
    refusal,
)

log = logging.getLogger(__name__)

ACK_BUDGET = 2.5  # seconds: Slack wants an answer within 3
PROFILE_WAIT = 1.0  # seconds users.info may take before a click goes on without it
SAVING = "Saving… I'll confirm here in a moment."
RESPONSE_URL_VALID_SECONDS = 25 * 60  # Slack takes posts for 30 minutes; leave a margin
LOG_AS_TOUCH = "log_as_touch"

#: What the app listens to. The manifest must declare exactly these (tests check both ways).
SLASH_COMMANDS: tuple[str, ...] = tuple(f"/{c.name}" for c in COMMANDS)
MESSAGE_SHORTCUTS: tuple[str, ...] = (LOG_AS_TOUCH,)
BOT_EVENTS: dict[str, str] = {  # manifest event name -> Events API type
    "app_home_opened": "app_home_opened",
    "app_mention": "app_mention",
    "message.im": "message",
    "app_uninstalled": "app_uninstalled",
    "tokens_revoked": "tokens_revoked",
}

_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s:,]*")


def quiet_logger(name: str, floor: int) -> logging.Logger:
    """A logger that never goes below `floor`: bolt logs request bodies at INFO and slack_sdk
    logs request payloads at DEBUG, and both can hold tokens, response URLs and client notes."""
    logger = logging.getLogger(name)
    logger.setLevel(max(floor, logging.getLogger().getEffectiveLevel()))
    return logger


def make_client(settings: SlackSettings, token: str | None = None) -> AsyncWebClient:
    """A Web API client aimed at `api_url`, retrying rate limits, 5xx and dropped connections."""
    client = AsyncWebClient(
        token=token,
        base_url=settings.api_url,
        logger=quiet_logger("adapters.slack.web", logging.INFO),
    )
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    client.retry_handlers.append(AsyncServerErrorRetryHandler(max_retry_count=2))
    return client


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


@dataclass
class SlackAdapter:
    services: Services
    bolt: AsyncApp
    people: SlackPeople
    # bolt's installation store, kept in our database; for OAuth (None with one bot token)
    installation_store: AsyncInstallationStore | None = None
    # where an uninstall forgets the workspace's installation, whichever mode is in use
    installations: AsyncInstallationStore | None = None
    ack_budget: float = ACK_BUDGET
    profile_wait: float = PROFILE_WAIT
    registered: dict[str, set[str]] = field(default_factory=dict)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    # requests refused before bolt: logged once a minute per reason
    _refused: ClientErrorLog = field(default_factory=lambda: ClientErrorLog(log))

    # --- plumbing -------------------------------------------------------------------------------

    @property
    def settings(self) -> SlackSettings:
        return self.services.settings.slack

    async def handle_http(self, request: web.Request) -> web.Response:
        """POST /slack/events: commands, events, interactivity and options, signature-checked."""
        secret = self.settings.signing_secret
        refusal = check_slack_request(
            await request.read(),
            request.content_type,
            request.headers.get("X-Slack-Request-Timestamp"),
            request.headers.get("X-Slack-Signature"),
            secret.get_secret_value() if secret is not None else "",
        )
        if refusal is not None:
            self._refused.refused("Slack", refusal.error)
            return refuse(refusal.status, refusal.error)
        bolt_request = await to_bolt_request(request)
        bolt_response = await self.bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def handle_install(self, request: web.Request) -> web.Response:
        flow = self.bolt.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        return await to_aiohttp_response(
            await flow.handle_installation(await to_bolt_request(request))
        )

    async def handle_oauth_redirect(self, request: web.Request) -> web.Response:
        flow = self.bolt.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    def spawn(self, work: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        """Run work after an ack; it is kept referenced and its failure logged, never raised."""

        async def guarded() -> Any:
            try:
                return await work
            except Exception:
                log.exception("Slack follow-up failed", extra={"platform": "slack", "what": what})
                return None

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self) -> None:
        """Wait for every follow-up in flight (tests, and a clean shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, _app: web.Application | None = None) -> None:
        await self.drain()

    async def client_for(self, key: str | None) -> AsyncWebClient | None:
        """The client holding the bot token for a workspace (OAuth) or the one bot token."""
        if self.installation_store is None:
            return self.bolt.client
        if not key:
            return None
        enterprise_id, team_id = split_workspace_key(key)
        bot = await self.installation_store.async_find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=team_id is None
        )
        if bot is None:
            return None
        return make_client(self.settings, bot.bot_token)

    @staticmethod
    def host(context: AsyncBoltContext, body: dict[str, Any]) -> Host:
        """The firm whose installation this request came for (not the sender's team): an
        org-wide install is the whole Grid org; otherwise the team the token belongs to."""
        result = context.authorize_result
        enterprise = context.enterprise_id or (result.enterprise_id if result else None)
        if context.is_enterprise_install:
            return Host(enterprise, None)
        team = result.team_id if result is not None else None
        return host_of(enterprise, team or context.team_id, body)

    def workspace(self, context: AsyncBoltContext, body: dict[str, Any]) -> str:
        """Our workspace key for a request, the same from every surface (see tenancy.py)."""
        return workspace_of(self.host(context, body), body, context.team_id)

    async def identity(
        self,
        client: AsyncWebClient,
        context: AsyncBoltContext,
        body: dict[str, Any],
        *,
        fallback_name: str = "",
        workspace_name: str | None = None,
    ) -> Identity:
        """Who is speaking, and whether they are of the firm: a sender the payload places in
        another organisation is an outsider at once (no lookup, nothing stored); anyone else is
        looked up with users.info (team, is_stranger, guest), once a day."""
        key = self.workspace(context, body)
        user_id = str(context.user_id)
        if claimed_outsider(self.host(context, body), body):
            return Identity(
                platform=Platform.SLACK,
                workspace_key=key,
                user_id=user_id,
                display_name=fallback_name or user_id,
                membership=Membership.EXTERNAL,
            )
        return await self.people.identity(
            client, key, user_id, workspace_name=workspace_name, fallback_name=fallback_name
        )

    async def quick_identity(
        self, client: AsyncWebClient, context: AsyncBoltContext, body: dict[str, Any]
    ) -> Identity:
        """Who clicked, within the life of the click's trigger (3 s), so a button that opens a
        modal opens it: users.info gets `profile_wait` seconds, then the person is who they
        were when last seen (their team already checked), or, never met, unverified: asked to
        try again, since they could be a guest. The lookup finishes in the background,
        remembered for next time."""
        user = body.get("user") or {}
        fallback = str(user.get("name") or user.get("username") or "")
        lookup = self.spawn(self.identity(client, context, body, fallback_name=fallback), "who")
        try:
            found = await asyncio.wait_for(asyncio.shield(lookup), self.profile_wait)
        except TimeoutError:
            found = None
        if isinstance(found, Identity):
            return found
        log.info("profile lookup still running; going on", extra={"platform": "slack"})
        return await self.people.as_last_seen(
            self.workspace(context, body), str(context.user_id), fallback_name=fallback
        )

    async def mentioned(
        self,
        client: AsyncWebClient,
        context: AsyncBoltContext,
        key: str,
        mentions: dict[str, str],
    ) -> dict[str, Mentioned]:
        """What Slack says about each person named with @: the bot, a deactivated account,
        someone of another organisation or a guest, or nobody it will tell us about."""
        found: dict[str, Mentioned] = {}
        for user_id, label in mentions.items():
            if user_id in (context.bot_user_id, context.bot_id):
                found[user_id] = Mentioned(user_id, label, MentionStatus.BOT)
                continue
            profile = await self.people.profile(client, key, user_id)
            if profile is None or profile.membership is Membership.UNVERIFIED:
                found[user_id] = Mentioned(user_id, label, MentionStatus.UNKNOWN)
                continue
            if profile.is_bot:
                status = MentionStatus.BOT
            elif profile.deleted:
                status = MentionStatus.DEACTIVATED
            elif profile.membership is not Membership.MEMBER:
                status = MentionStatus.OUTSIDER
            else:
                status = MentionStatus.MEMBER
            found[user_id] = Mentioned(
                user_id, profile.display_name or label, status, profile.email, profile.tz
            )
        return found

    async def where(
        self, client: AsyncWebClient, command: dict[str, Any], *, ask: bool
    ) -> Conversation | None:
        """The conversation a slash command was typed in. With `ask`, a channel is looked up
        (conversations.info) to learn whether another organisation shares it; None when Slack
        would not say."""
        channel_id = str(command.get("channel_id") or "")
        seen = conversation_of(channel_id, channel_name=str(command.get("channel_name") or ""))
        if not ask or seen is None or seen.kind is not ConversationKind.CHANNEL:
            return seen
        try:
            info = await client.conversations_info(channel=channel_id)
        except SlackApiError as exc:
            log.info(
                "conversations.info failed",
                extra={"platform": "slack", "error": exc.response.get("error")},
            )
            return None
        channel = info.get("channel")
        return conversation_from_info(channel) if isinstance(channel, dict) else None

    async def _safely(self, work: Awaitable[Reply], echo: str | None) -> Reply:
        try:
            return await work
        except Exception:
            log.exception("Slack request failed", extra={"platform": "slack"})
            return error(SORRY, echo)

    async def within_budget(
        self, work: Awaitable[Reply], echo: str | None = None
    ) -> tuple[Reply | None, asyncio.Task[Any]]:
        """The reply if the work finishes within the ack budget, else None; the work goes on."""
        task = self.spawn(self._safely(work, echo), "core call")
        done, _pending = await asyncio.wait((task,), timeout=self.ack_budget)
        return (task.result() if done else None), task

    # --- replies --------------------------------------------------------------------------------

    async def post_response_url(self, url: str | None, body: dict[str, Any]) -> bool:
        return await post_response_url(url, body)

    async def send_dm(self, client: AsyncWebClient, user_id: str, message: Message) -> None:
        await client.chat_postMessage(channel=user_id, **message_payload(message))

    async def reply_later(
        self,
        client: AsyncWebClient,
        user_id: str,
        message: Message,
        response_url: str | None,
        *,
        replace: bool,
    ) -> None:
        """Post a reply after the ack: through response_url, else as a DM. Never dropped."""
        body = {
            "response_type": "ephemeral" if message.private else "in_channel",
            "replace_original": replace,
            **message_payload(message),
        }
        if not await self.post_response_url(response_url, body):
            await self.send_dm(client, user_id, message)

    async def open_form(
        self, client: AsyncWebClient, trigger_id: str, form: Form, state: ModalState
    ) -> bool:
        try:
            await client.views_open(trigger_id=trigger_id, view=form_view(form, state))
        except SlackApiError as exc:
            log.warning(
                "views.open failed", extra={"platform": "slack", "error": exc.response.get("error")}
            )
            return False
        return True

    # --- slash commands -------------------------------------------------------------------------

    async def on_command(
        self,
        ack: AsyncAck,
        command: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        name = str(command.get("command", "")).lstrip("/").lower()
        text, mentions = from_slack_text(str(command.get("text", "")))
        channel_id = command.get("channel_id")
        key = self.workspace(context, command)
        trigger_id = command.get("trigger_id")
        response_url = command.get("response_url")
        words = text.strip().lower().split()
        picks_channel = words[:1] == ["channel"] and words[1:2] not in (["off"], ["none"])
        picks_channel = picks_channel and name == "touchbase"

        async def work() -> Reply:
            who = await self.identity(
                client,
                context,
                command,
                fallback_name=str(command.get("user_name", "")),
                workspace_name=command.get("team_domain"),
            )
            if is_outsider(who):
                return await self.services.app.command(who, CommandIn(name, text))
            conversation = await self.where(client, command, ask=picks_channel)
            if picks_channel and conversation is None:
                return error(
                    "I couldn't check who is in this channel, so I can't make it the "
                    "relationships channel.",
                    "Add me to it (/invite @touchbase) and type /touchbase channel again; if "
                    "that doesn't help, an admin should reinstall Touchbase so it may read "
                    "channel details.",
                )
            return await self.services.app.command(
                who,
                CommandIn(
                    name,
                    text,
                    source_id=f"slack:{trigger_id}" if trigger_id else None,
                    channel={"channel": channel_id, "team": key} if channel_id else None,
                    mentions=mentions,
                    mentioned=await self.mentioned(client, context, key, mentions),
                    conversation=conversation,
                ),
            )

        echo = f"/{name} {without_secret(name, text)}".strip()
        reply, task = await self.within_budget(work(), echo)
        user_id = str(context.user_id)
        state = ModalState(response_url=response_url, channel_id=channel_id)
        if reply is None:
            # Journaled before "Saving…" goes out: if this process dies now, the next one
            # completes the command and tells the person (see `replay_intake`).
            journaled = await self.journal(command, key)
            await ack(response_type="ephemeral", text=SAVING)
            self.spawn(
                self._finish_command(task, client, user_id, trigger_id, state, journaled),
                "command",
            )
            return
        if isinstance(reply, Form):
            await ack()  # first: opening the modal is another round trip to Slack
            modal = ModalState(reply.private_value, response_url, channel_id)
            self.spawn(self._open_command_form(client, user_id, trigger_id, reply, modal), "form")
            return
        if isinstance(reply, FormErrors):
            reply = error(" ".join(reply.errors.values()) or "That didn't work.")
        await ack(
            response_type="ephemeral" if reply.private else "in_channel", **message_payload(reply)
        )

    async def _open_command_form(
        self,
        client: AsyncWebClient,
        user_id: str,
        trigger_id: str | None,
        form: Form,
        modal: ModalState,
    ) -> None:
        if not (trigger_id and await self.open_form(client, trigger_id, form, modal)):
            sorry = error("I couldn't open the form. Please run the command again.")
            await self.reply_later(client, user_id, sorry, modal.response_url, replace=True)

    async def journal(self, command: dict[str, Any], key: str | None) -> str | None:
        """Write a command about to be answered "Saving…" to the intake journal: what Slack sent
        (no token), so it can be run again as it came. A calendar address in it is not written
        as it is: the text is redacted, the original kept only encrypted (intake_journal). None
        when there is no journal, or it could not be written (logged): the command still goes
        on in this process."""
        journal = self.services.intake
        if journal is None:
            return None
        fields = ("command", "text", "user_id", "user_name", "team_domain", "channel_id")
        entry: dict[str, Any] = {f: str(command.get(f) or "") for f in fields}
        secrets: dict[str, str] = {}
        shown = without_secret(entry["command"], entry["text"])
        if shown != entry["text"]:
            secrets["text"], entry["text"] = entry["text"], shown
        entry.update(
            platform="slack",
            workspace=key or "",
            trigger_id=str(command.get("trigger_id") or ""),
            response_url=str(command.get("response_url") or ""),
            received_at=time.time(),
        )
        try:
            return await journal.write(entry, secrets)
        except OSError:
            log.exception("could not journal a slow command", extra={"platform": "slack"})
            return None

    async def replay_intake(self) -> int:
        """Complete every journaled command a dead process left, once, and tell each person the
        outcome once: through response_url while Slack still takes it (30 minutes), else a DM.
        Returns how many were completed.

        Each entry is claimed first (see adapters.intake_journal): a replica starting beside
        this one, or the live process that wrote it, never runs it too. The outcome is queued in
        the durable outbox in the command's own transaction, under the entry's key, and sent
        from there; a run after a crash that came after that commit (the entry was not yet
        removed) finds the reply queued and does nothing. The outbox claims each message before
        it is sent and settles it after; only a death between Slack taking the message and that
        settlement sends it twice, once the claim's lease has passed (bot/outbox.py)."""
        journal = self.services.intake
        if journal is None:
            return 0
        done = 0
        for entry in journal.claim():
            if entry.data.get("platform") != "slack":
                journal.release(entry.key)
                continue
            try:
                await self._replay_one(entry.key, entry.data, entry.withheld)
            except Exception:
                log.exception("could not complete a journaled command", extra={"platform": "slack"})
                journal.release(entry.key)  # the next start tries again
                continue
            await journal.done(entry.key)
            done += 1
        if done:
            log.info("completed %d journaled commands", done, extra={"platform": "slack"})
            # A reply an earlier run queued but did not get to send goes now, not at the
            # scheduler's next turn (a message another drainer holds is left to it).
            await self.services.app.drain()
        return done

    async def _replay_one(
        self, entry_key: str, data: dict[str, Any], withheld: tuple[str, ...] = ()
    ) -> None:
        key = data.get("workspace") or None
        client = await self.client_for(key)
        if client is None:
            raise RuntimeError("no Slack client for a journaled command's workspace")
        user_id = str(data["user_id"])
        who = await self.people.identity(
            client,
            key or "",
            user_id,
            workspace_name=data.get("team_domain") or None,
            fallback_name=str(data.get("user_name", "")),
        )
        name = str(data.get("command", "")).lstrip("/").lower()
        text, mentions = from_slack_text(str(data.get("text", "")))
        channel_id = data.get("channel_id") or None
        trigger_id = data.get("trigger_id") or None
        until = float(data.get("received_at") or 0) + RESPONSE_URL_VALID_SECONDS
        fresh = time.time() < until
        response_url = str(data.get("response_url") or "") if fresh else None
        echo = f"/{name} {without_secret(name, text)}".strip()
        reply: Reply
        if "text" in withheld:  # a calendar address, kept for nobody to read: ask again
            reply = error(
                "I couldn't finish saving your calendar address before a restart, and I don't "
                "keep it anywhere it could be read. Please send it again.",
                f"/{name} {text}".strip(),
            )
        else:
            command = CommandIn(
                name,
                text,
                source_id=f"slack:{trigger_id}" if trigger_id else None,
                channel={"channel": channel_id, "team": key} if channel_id else None,
                mentions=mentions,
            )
            reply_to = reply_address(key, user_id, response_url, until)
            try:
                outcome = await self.services.app.command_later(
                    who, command, reply_to, f"slack:intake:{entry_key}"
                )
            except Exception:
                log.exception("Slack request failed", extra={"platform": "slack"})
                outcome = error(SORRY, echo)
            if outcome is None:  # queued with the command; the outbox sends it
                return
            reply = outcome
        if isinstance(reply, Form):
            reply = error("That took too long to open the form. Please run the command again.")
        if isinstance(reply, FormErrors):
            reply = error(" ".join(reply.errors.values()) or "That didn't work.")
        await self.reply_later(client, user_id, reply, response_url or None, replace=True)

    async def _finish_command(
        self,
        task: asyncio.Task[Any],
        client: AsyncWebClient,
        user_id: str,
        trigger_id: str | None,
        state: ModalState,
        journaled: str | None = None,
    ) -> None:
        await self._complete_command(task, client, user_id, trigger_id, state)
        # The one window left open: a death after Slack took the reply and before the entry is
        # removed here makes the next start run the command again (its source id keeps the
        # touch single) and tell the person a second time. The entry stays locked by this
        # process until then, so no replica replays it meanwhile.
        if journaled is not None and self.services.intake is not None:
            await self.services.intake.done(journaled)

    async def _complete_command(
        self,
        task: asyncio.Task[Any],
        client: AsyncWebClient,
        user_id: str,
        trigger_id: str | None,
        state: ModalState,
    ) -> None:
        reply = await task
        if isinstance(reply, Form):
            if trigger_id and await self.open_form(
                client, trigger_id, reply, ModalState(reply.private_value, *_where(state))
            ):
                reply = Message(text="Opened the form.", tone=Tone.INFO)
            else:
                reply = error("That took too long to open the form. Please run the command again.")
        if isinstance(reply, FormErrors) or reply is None:
            reply = error(SORRY)
        await self.reply_later(client, user_id, reply, state.response_url, replace=True)

    # --- buttons --------------------------------------------------------------------------------

    async def on_action(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        self.spawn(self._run_action(body, action, client, context), "action")

    async def _run_action(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        trigger_id = body.get("trigger_id")
        who = await self.quick_identity(client, context, body)
        response_url = body.get("response_url")
        channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        reply = await self._safely(
            self.services.app.action(
                who,
                ActionIn(
                    decode_action_id(str(action.get("action_id", ""))),
                    str(action.get("value") or ""),
                    source_id=f"slack:{trigger_id}" if trigger_id else None,
                    conversation=conversation_of(channel_id) if channel_id else None,
                ),
            ),
            None,
        )
        if isinstance(reply, Form):
            if trigger_id and await self.open_form(
                client, trigger_id, reply, ModalState(reply.private_value, response_url, channel_id)
            ):
                return
            reply = error("I couldn't open the form in time. Please click again.")
        if isinstance(reply, FormErrors):
            reply = error(" ".join(reply.errors.values()) or "That didn't work.")
        await self.reply_later(client, who.user_id, reply, response_url, replace=False)

    # --- modals ---------------------------------------------------------------------------------

    async def on_submit(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        state = ModalState.load(view.get("private_metadata"))
        values = view_values(view)
        form_in = FormIn(
            str(view.get("callback_id", "")),
            values,
            state.private_value,
            source_id=f"slack:view:{view.get('id')}" if view.get("id") else None,
        )

        async def work() -> Reply:
            who = await self.identity(
                client, context, body, fallback_name=str(body.get("user", {}).get("username", ""))
            )
            return await self.services.app.submit(who, form_in)

        reply, task = await self.within_budget(work())
        user_id = str(context.user_id)
        if reply is None:
            await ack()
            self.spawn(self._finish_submit(task, client, user_id, state), "submission")
            return
        if isinstance(reply, FormErrors):
            await ack(response_action="errors", errors=_inline_errors(reply, view))
            return
        if isinstance(reply, Form):
            next_state = ModalState(reply.private_value, *_where(state))
            await ack(response_action="update", view=form_view(reply, next_state))
            return
        await ack()
        self.spawn(
            self.reply_later(client, user_id, reply, state.response_url, replace=False), "confirm"
        )

    async def _finish_submit(
        self, task: asyncio.Task[Any], client: AsyncWebClient, user_id: str, state: ModalState
    ) -> None:
        reply = await task
        if isinstance(reply, FormErrors):
            problems = "; ".join(reply.errors.values())
            reply = error(f"Nothing was saved: {problems}", "Please open the form again.")
        elif not isinstance(reply, Message):
            reply = error(SORRY)
        await self.reply_later(client, user_id, reply, state.response_url, replace=False)

    async def on_client_options(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        key = self.workspace(context, body)

        async def lookup() -> list[Any]:
            who = await self.identity(client, context, body)
            if is_outsider(who):  # the firm's client list is for its members only
                return []
            clients = await self.services.directory.search_clients(
                Platform.SLACK, key, str(body.get("value", ""))
            )
            return [client_option(c.id, c.name) for c in clients]

        try:  # the search box must hear back within Slack's 3 seconds, whatever the store does
            options = await asyncio.wait_for(lookup(), timeout=2.0)
        except Exception:
            log.warning("client search failed or was slow", exc_info=True)
            options = []
        await ack(options=options)

    async def on_log_as_touch(
        self,
        ack: AsyncAck,
        shortcut: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        self.spawn(self._open_touch_form(shortcut, client, context), "shortcut")

    async def _open_touch_form(
        self, shortcut: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        message = shortcut.get("message") or {}
        note, _mentions = from_slack_text(str(message.get("text", "")))
        tz: str | None = None
        try:  # the form's date is the person's today; a slow lookup must not cost the modal
            who = await asyncio.wait_for(self.identity(client, context, shortcut), 1.0)
            tz = who.tz
        except Exception:
            log.info("profile lookup skipped for the shortcut", extra={"platform": "slack"})
        else:
            if is_outsider(who):  # no form for people outside the firm: it would save nothing
                await self.reply_later(
                    client, who.user_id, refusal(who), shortcut.get("response_url"), replace=False
                )
                return
        today = local_today(self.services.clock, tz or self.services.app.config.default_tz)
        form = touch_form(note=clip(note, 3000), today=today)
        channel_id = (shortcut.get("channel") or {}).get("id")
        await self.open_form(
            client,
            str(shortcut.get("trigger_id")),
            form,
            ModalState(form.private_value, shortcut.get("response_url"), channel_id),
        )

    # --- events ---------------------------------------------------------------------------------

    async def _first_delivery(self, body: dict[str, Any]) -> bool:
        event_id = body.get("event_id")
        if not event_id:
            return True
        first = await self.services.directory.first_delivery(Platform.SLACK, str(event_id))
        if not first:
            log.info(
                "repeated Slack event skipped", extra={"platform": "slack", "event_id": event_id}
            )
        return first

    async def _first_reading(self, key: str, event: dict[str, Any]) -> bool:
        """A message is read once, whichever events carry it: a DM that @mentions the bot comes
        as `message.im` and as `app_mention`, two event ids, one channel and ts. Claimed in the
        store, so it holds across replicas."""
        channel, ts = event.get("channel"), event.get("ts")
        if not (channel and ts):
            return True
        first = await self.services.directory.first_delivery(
            Platform.SLACK, f"message:{key}:{channel}:{ts}"
        )
        if not first:
            log.info("message already read from another event", extra={"platform": "slack"})
        return first

    async def on_home_opened(
        self,
        body: dict[str, Any],
        event: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        if event.get("tab", "home") != "home" or not await self._first_delivery(body):
            return
        who = await self.identity(client, context, body)
        reply = await self._safely(
            self.services.app.command(who, CommandIn("clients", "", source_id=None)), None
        )
        message = reply if isinstance(reply, Message) else error(SORRY)
        await client.views_publish(user_id=who.user_id, view=home_view(message))

    async def on_message(
        self,
        body: dict[str, Any],
        event: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return
        if event.get("subtype") not in (None, "file_share"):  # edits, deletions, joins...
            return
        await self._chat(body, event, client, context, in_dm=True)

    async def on_mention(
        self,
        body: dict[str, Any],
        event: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        if event.get("bot_id"):
            return
        in_dm = str(event.get("channel", "")).startswith("D")  # a mention inside a DM
        await self._chat(body, event, client, context, in_dm=in_dm)

    async def _chat(
        self,
        body: dict[str, Any],
        event: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
        *,
        in_dm: bool,
    ) -> None:
        """A message to the bot read as a command without its slash: "touch Acme lunch"."""
        if not await self._first_delivery(body):
            return
        if not await self._first_reading(self.workspace(context, body), event):
            return
        raw = _LEADING_MENTION.sub("", str(event.get("text", "")))
        text, mentions = from_slack_text(raw)
        first, _, rest = text.strip().partition(" ")
        name = first.lstrip("/").lower()
        channel_id = str(event.get("channel", ""))
        who = await self.identity(client, context, body)
        conversation = conversation_of(
            channel_id,
            channel_type=event.get("channel_type") or ("im" if in_dm else None),
            shared=bool(body.get("is_ext_shared_channel")),
        )
        if is_outsider(who):
            reply: Reply = await self.services.app.command(who, CommandIn(name, ""))
        elif name in COMMAND_NAMES:
            mentioned = await self.mentioned(client, context, who.workspace_key, mentions)
            reply = await self._safely(
                self.services.app.command(
                    who,
                    CommandIn(
                        name,
                        rest.strip(),
                        source_id=f"slack:event:{body.get('event_id')}",
                        channel={"channel": channel_id, "team": who.workspace_key},
                        mentions=mentions,
                        mentioned=mentioned,
                        conversation=conversation,
                    ),
                ),
                text,
            )
        else:
            reply = Message(
                text="Tell me a command, like: touch Acme lunch with the CFO. "
                "Type help to see them all.",
            )
        if isinstance(reply, Form):
            reply = Message(text=f"That opens a form: type /{name} to get it.")
        if isinstance(reply, FormErrors):
            reply = error(" ".join(reply.errors.values()))
        thread_ts = event.get("thread_ts") or (None if in_dm else event.get("ts"))
        payload = message_payload(reply)
        if reply.private and not in_dm:
            await client.chat_postEphemeral(
                channel=channel_id, user=who.user_id, thread_ts=thread_ts, **payload
            )
        else:
            await client.chat_postMessage(channel=channel_id, thread_ts=thread_ts, **payload)

    async def on_other_event(self, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        log.debug("Slack event not used", extra={"platform": "slack", "what": event.get("type")})

    async def on_uninstalled(
        self,
        body: dict[str, Any],
        event: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await self._deactivate(context, body)

    async def on_tokens_revoked(
        self,
        body: dict[str, Any],
        event: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        if (event.get("tokens") or {}).get("bot"):
            await self._deactivate(context, body)

    async def _deactivate(self, context: AsyncBoltContext, body: dict[str, Any]) -> None:
        """Pause the workspace (its data stays; nothing is sent to it) and forget its token.
        An org-wide install pauses every team of the org."""
        host = self.host(context, body)
        directory = self.services.directory
        keys = {self.workspace(context, body)}
        org_wide = bool(context.is_enterprise_install) or (host.enterprise_id and not host.team_id)
        if org_wide and host.enterprise_id:
            keys |= {
                w.external_id
                for w in await directory.workspaces()
                if w.platform is Platform.SLACK
                and (w.external_id.split(":")[0] == host.enterprise_id)
            }
        for key in sorted(keys):
            workspace = await directory.uninstall(Platform.SLACK, key)
            log.info(
                "Slack workspace paused", extra={"platform": "slack", "workspace": workspace.id}
            )
        if self.installations is not None:
            await self.installations.async_delete_installation(
                enterprise_id=host.enterprise_id, team_id=None if org_wide else host.team_id
            )

    def resume_if_paused(self) -> AsyncMiddleware:
        """Every authorized request: a paused workspace whose token works again (reinstalled,
        or a new token after a restart) is resumed, after a fresh auth.test, so a cached
        authorization never resumes it by mistake. Whether it is paused is read through the
        store's short-lived workspace cache, so it is cheap. (A middleware class: bolt calls
        it with the request as it is, where a plain function gets a dozen injected
        arguments built for it on every request.)"""
        return _ResumeIfPaused(self)

    async def resume(self, context: AsyncBoltContext, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        if context.authorize_result is None or event.get("type") in (
            "app_uninstalled",
            "tokens_revoked",
        ):
            return
        key = self.workspace(context, body)
        if not key:
            return
        directory = self.services.directory
        if await directory.is_paused(Platform.SLACK, key):
            client = context.client
            if client is None:
                return
            try:
                await client.auth_test()
            except SlackApiError:
                return  # the token still does not work: stay paused
            workspace = await directory.resume(Platform.SLACK, key)
            log.info(
                "Slack workspace resumed", extra={"platform": "slack", "workspace": workspace.id}
            )

    # --- registration ---------------------------------------------------------------------------

    def _tracked(self, name: str, handler: EventHandler) -> EventHandler:
        """Events are acked on arrival; the work runs as a tracked follow-up."""

        async def listener(
            body: dict[str, Any],
            event: dict[str, Any],
            client: AsyncWebClient,
            context: AsyncBoltContext,
        ) -> None:
            self.spawn(handler(body=body, event=event, client=client, context=context), name)

        listener.__name__ = f"on_{name}"
        return listener

    def register(self) -> None:
        app = self.bolt
        app.use(self.resume_if_paused())
        for name in SLASH_COMMANDS:
            app.command(name)(self.on_command)
        self.registered["commands"] = set(SLASH_COMMANDS)
        app.action(re.compile(r".+"))(self.on_action)
        app.view_submission(re.compile(r".+"))(self.on_submit)
        app.options(CLIENT_SEARCH_ACTION)(self.on_client_options)
        for callback_id in MESSAGE_SHORTCUTS:
            app.message_shortcut(callback_id)(self.on_log_as_touch)
        self.registered["shortcuts"] = set(MESSAGE_SHORTCUTS)
        handlers = {
            "app_home_opened": self.on_home_opened,
            "app_mention": self.on_mention,
            "message": self.on_message,
            "app_uninstalled": self.on_uninstalled,
            "tokens_revoked": self.on_tokens_revoked,
        }
        for event_type in BOT_EVENTS.values():
            app.event(event_type)(self._tracked(event_type, handlers[event_type]))
        self.registered["events"] = set(BOT_EVENTS)
        # Anything else Slack sends (reaction_added, a subscription added in the app settings
        # before the code knows it) is answered 200 and left alone: a 404 makes Slack retry.
        app.event(re.compile(r".*"))(self.on_other_event)


EventHandler = Callable[..., Coroutine[Any, Any, None]]


class _ResumeIfPaused(AsyncMiddleware):
    def __init__(self, adapter: SlackAdapter) -> None:
        self.adapter = adapter

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],  # bolt passes it by this name
    ) -> BoltResponse | None:
        try:
            await self.adapter.resume(req.context, req.body)
        except Exception:
            log.warning("could not check whether the workspace is paused", exc_info=True)
        return await next()


def _where(state: ModalState) -> tuple[str | None, str | None]:
    return state.response_url, state.channel_id


def _inline_errors(reply: FormErrors, view: dict[str, Any]) -> dict[str, str]:
    """Errors by block_id; one for an input the modal lacks goes on its first input."""
    block_ids = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
    errors: dict[str, str] = {}
    for name, problem in reply.errors.items():
        target = name if name in block_ids else (block_ids[0] if block_ids else name)
        errors[target] = clip(f"{errors[target]} {problem}" if target in errors else problem, 150)
    return errors


def build_slack(
    services: Services,
    *,
    installations: AsyncInstallationStore | None = None,
    oauth_state: AsyncOAuthStateStore | None = None,
    ack_budget: float = ACK_BUDGET,
) -> SlackAdapter:
    """The bolt app and its listeners, for HTTP (one bot token, or OAuth) and Socket Mode.

    `installations` and `oauth_state` are bolt's stores, kept where the root chose; OAuth
    (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) needs both."""
    settings = services.settings.slack
    bolt_logger = quiet_logger("adapters.slack.bolt", logging.WARNING)
    token = _secret(settings.bot_token)
    client = make_client(settings, None if settings.oauth_enabled else token)
    installation_store: AsyncInstallationStore | None = None
    kwargs: dict[str, Any] = {}
    if settings.oauth_enabled:
        if installations is None or oauth_state is None:
            raise ValueError("Slack OAuth needs an installation store and an OAuth state store")
        installation_store = installations
        kwargs["oauth_settings"] = AsyncOAuthSettings(
            client_id=settings.client_id,
            client_secret=_secret(settings.client_secret),
            scopes=sorted(declared_bot_scopes(slack_manifest())),
            installation_store=installation_store,
            installation_store_bot_only=True,
            state_store=oauth_state,
            logger=bolt_logger,
        )
        kwargs["installation_store_bot_only"] = True
    bolt = AsyncApp(
        name="touchbase",
        logger=bolt_logger,
        signing_secret=_secret(settings.signing_secret) or "",
        client=client,
        # Our listeners ack themselves: each acks once, after the work or its budget, and
        # anything after the ack is a spawned follow-up. So bolt may send the response as soon
        # as a listener returns, instead of polling for the ack every 10 ms (which cost a
        # /touch ~1.7 ms of CPU and up to 10 ms of latency under load).
        process_before_response=True,
        # handle_http has checked the signature (check_slack_request) before bolt sees the
        # request; Socket Mode needs none.
        request_verification_enabled=False,
        **kwargs,
    )
    adapter = SlackAdapter(
        services=services,
        bolt=bolt,
        people=SlackPeople(services.directory, services.clock),
        installation_store=installation_store,
        installations=installations,
        ack_budget=ack_budget,
    )
    adapter.register()
    return adapter
