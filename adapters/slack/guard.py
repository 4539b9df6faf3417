"""``POST /slack/events`` checked before bolt sees it: signature first, then the body's shape.

bolt decodes and parses the body before it checks the signature, and raises (a 500 with a
traceback) on a body that is not UTF-8, a ``payload=`` that is not JSON, JSON nested past
Python's recursion limit, or a timestamp that is not a number. Here every one of those is a
401 (not signed by Slack) or a 400 (signed, but not something Slack sends), with a short JSON
body. Slack's ``ssl_check`` is the one unsigned request Slack makes; it goes on to bolt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

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
    signed = _signed(raw, timestamp, signature, signing_secret, now())
    if signed is not None and not _is_ssl_check(raw, content_type):
        return signed
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "body_not_utf8")
    if content_type == "application/json":
        return _json_object(text, "body_not_json")
    if content_type == _FORM:
        try:
            form = parse_qs(text, keep_blank_values=True, strict_parsing=False)
        except ValueError:
            return Refusal(400, "body_not_a_form")
        payloads = form.get("payload")
        if payloads:
            return _json_object(payloads[0], "payload_not_json")
        return None
    return Refusal(400, "unsupported_content_type")


def _signed(
    raw: bytes, timestamp: str | None, signature: str | None, secret: str, now: float
) -> Refusal | None:
    if not secret or not timestamp or not signature:
        return Refusal(401, "not_signed")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return Refusal(401, "bad_timestamp")
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        return Refusal(401, "stale_timestamp")
    expected = hmac.new(
        secret.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(f"v0={expected}".encode(), signature.encode("utf-8", "replace")):
        return Refusal(401, "bad_signature")
    return None


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
