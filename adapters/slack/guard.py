"""``POST /slack/events`` checked before bolt sees it: signature first, then the body's shape.

bolt decodes and parses the body before it checks the signature, and raises (a 500 with a
traceback) on a body that is not UTF-8, a ``payload=`` that is not JSON, JSON nested past
Python's recursion limit, or a timestamp that is not a number. Here every one of those is a
401 (not signed by Slack) or a 400 (signed, but not something Slack sends), with a short JSON
body. Slack's ``ssl_check`` is the one unsigned request Slack makes; it goes on to bolt.

The signature is checked with slack_sdk's `SignatureVerifier`, once: bolt's own check is off
(`request_verification_enabled=False`), since every request over HTTP comes through here. A
slash command's plain form is not parsed here: bolt reads it with `parse_qsl`, which cannot
fail on text; only what bolt would read as JSON (a body, or an interaction's ``payload``) is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier

MAX_SKEW_SECONDS = 5 * 60
# Slack's own payloads nest about 12 deep (a view's state values); far more is not Slack.
MAX_DEPTH = 64
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Refusal:
    status: int
    error: str


def check_slack_request(
    raw: bytes,
    content_type: str,
    timestamp: str | None,
    signature: str | None,
    signing_secret: str,
    *,
    now: Callable[[], float] = time.time,
) -> Refusal | None:
    """None when bolt may have the request; else why it is refused."""
    at = now()
    unsigned = _headers(timestamp, signature, signing_secret, at)
    if unsigned is not None:
        return None if _is_ssl_check(raw, content_type) else unsigned
    assert timestamp is not None and signature is not None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:  # Slack sends UTF-8 only, and bolt would raise on anything else
        return Refusal(400, "body_not_utf8")
    verifier = SignatureVerifier(signing_secret, clock=_At(at))
    if not signature.isascii() or not verifier.is_valid(text, timestamp, signature):
        return Refusal(401, "bad_signature")
    return _shape(text, content_type)


def _shape(text: str, content_type: str) -> Refusal | None:
    # bolt reads a body as JSON by its content type, or when it starts with "{".
    if content_type == "application/json" or text.startswith("{"):
        return _json_object(text, "body_not_json")
    if content_type == _FORM:
        if "payload" not in text:  # bolt's own test for an interaction's form
            return None
        try:
            form = parse_qs(text, keep_blank_values=True, strict_parsing=False)
        except ValueError:
            return Refusal(400, "body_not_a_form")
        payloads = form.get("payload")
        if payloads:
            return _json_object(payloads[0], "payload_not_json")
        return None
    return Refusal(400, "unsupported_content_type")


def _headers(
    timestamp: str | None, signature: str | None, secret: str, now: float
) -> Refusal | None:
    """Why the signature headers cannot be right, before any body is read; None if they may be."""
    if not secret or not timestamp or not signature:
        return Refusal(401, "not_signed")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return Refusal(401, "bad_timestamp")
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        return Refusal(401, "stale_timestamp")
    return None


class _At(Clock):
    """The verifier's clock, read once for the request (its own skew check agrees with ours)."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def _is_ssl_check(raw: bytes, content_type: str) -> bool:
    if content_type != _FORM or len(raw) > 4096:
        return False
    try:
        form = parse_qs(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return form.get("ssl_check") == ["1"]


def _json_object(text: str, error: str) -> Refusal | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return Refusal(400, error)
    if not isinstance(value, dict) or _depth(value) > MAX_DEPTH:
        return Refusal(400, error)
    return None


def _depth(value: object) -> int:
    """How deep objects and arrays nest (iteratively: the point is not to recurse)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest
