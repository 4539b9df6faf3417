"""The Messenger port on Slack: chat.postMessage to a person (DM) or a channel; or, for the
reply to a command nobody waits on any more, its response_url while Slack still takes it.

Rate limits are retried by the SDK's retry handler on the client; what is left is turned into
DeliveryError, permanent when retrying cannot help (the person left, the channel went away).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.blocks import message_payload
from bot.messages import Message
from bot.ports import Address, DeliveryError

log = logging.getLogger(__name__)

PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "user_not_found",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "token_revoked",
        "not_authed",
        "user_disabled",
        "cannot_dm_bot",
        "restricted_action",
        "team_access_not_granted",
    }
)

# The client for a workspace key (None when the address does not name one).
ClientFor = Callable[[str | None], Awaitable[AsyncWebClient | None]]


def delivery_error(exc: SlackApiError) -> DeliveryError:
    code = str(exc.response.get("error") or "unknown_error")
    status = exc.response.status_code
    if status == 429 or code == "ratelimited":
        raw = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
        retry_after = float(raw) if raw and str(raw).replace(".", "", 1).isdigit() else None
        return DeliveryError(code, retry_after=retry_after)
    return DeliveryError(code, permanent=code in PERMANENT_ERRORS)


def _webhook_logger() -> logging.Logger:
    # slack_sdk logs what it posts at DEBUG: response URLs and client notes stay out of the logs.
    logger = logging.getLogger("adapters.slack.webhook")
    logger.setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
    return logger


async def post_response_url(url: str | None, body: dict[str, Any]) -> bool:
    """Post to a command's response_url; False (logged, without the URL) when Slack did not
    take it: expired, used up, or unreachable."""
    if not url:
        return False
    try:
        response = await AsyncWebhookClient(url, logger=_webhook_logger()).send_dict(body)
    except Exception as exc:
        log.warning(
            "response_url unreachable", extra={"platform": "slack", "error": type(exc).__name__}
        )
        return False
    if response.status_code != 200:
        log.warning(
            "response_url refused", extra={"platform": "slack", "status": response.status_code}
        )
        return False
    return True


def reply_address(
    team: str | None, user_id: str, response_url: str | None, until: float
) -> dict[str, Any]:
    """Where the reply to a command goes: its response_url until `until` (epoch seconds), in
    place of the "Saving…" it was answered with; after that, or when Slack refuses it, a DM."""
    address: dict[str, Any] = {"channel": user_id, "team": team}
    if response_url:
        address.update(response_url=response_url, response_url_until=until)
    return address


class SlackMessenger:
    """Sends a neutral Message to `{"channel": "U…" | "C…" | "D…", "team": workspace key}`,
    through `response_url` first when the address has one still valid (`reply_address`)."""

    def __init__(self, client_for: ClientFor) -> None:
        self._client_for = client_for

    async def send(self, address: Address, message: Message) -> None:
        url = address.get("response_url")
        if url and time.time() < float(address.get("response_url_until") or 0):
            body = {
                "response_type": "ephemeral" if message.private else "in_channel",
                "replace_original": True,
                **message_payload(message),
            }
            if await post_response_url(str(url), body):
                return
        channel = address.get("channel") or address.get("user")
        if not channel:
            raise DeliveryError("address has no Slack channel", permanent=True)
        client = await self._client_for(address.get("team"))
        if client is None:
            raise DeliveryError("Slack app is not installed in that workspace", permanent=True)
        try:
            await client.chat_postMessage(channel=str(channel), **message_payload(message))
        except SlackApiError as exc:
            error = delivery_error(exc)
            log.warning(
                "Slack refused a message",
                extra={"platform": "slack", "error": error.detail, "permanent": error.permanent},
            )
            raise error from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise DeliveryError(f"could not reach Slack: {type(exc).__name__}") from None
