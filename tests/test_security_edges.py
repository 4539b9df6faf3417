"""Hostile bodies on the public endpoints get a short 4xx JSON answer, never a 500 or a traceback;
a flood of them writes a few log lines; Teams refuses a request without a bearer token before
reading what it sent."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from urllib.parse import quote

import pytest

from adapters.slack.guard import MAX_DEPTH, check_slack_request
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    SIGNING_SECRET,
    Harness,
    signed_headers,
    slack_fake_fixture,
    slack_fixture,
)
from tests.test_teams_auth import Secured, secured  # noqa: F401  (fixture)

pytestmark = pytest.mark.security

FORM = "application/x-www-form-urlencoded"
DEEP = "[" * 5000 + "]" * 5000
BODIES: dict[str, tuple[bytes, str]] = {
    "invalid_utf8_form": (b"command=%2Ftouch&text=\xff\xfe\xfa", FORM),
    "invalid_utf8_json": (b'{"type": "\xff\xfe"}', "application/json"),
    "payload_not_json": (b"payload=%7Bnot-json", FORM),
    "payload_deeply_nested": (b"payload=" + quote(DEEP).encode(), FORM),
    "json_deeply_nested": (DEEP.encode(), "application/json"),
    "json_not_an_object": (b'"just a string"', "application/json"),
    "xml": (b"<a/>", "application/xml"),
}


def _as_signed(raw: bytes) -> dict[str, str]:
    """Signed over the raw bytes, as anyone holding the signing secret could."""
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


@pytest.mark.parametrize("case", list(BODIES))
async def test_unsigned_bad_bodies_get_401_json(
    slack: Harness, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    raw, content_type = BODIES[case]
    for headers in (
        {},
        {"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "１２３", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "100", "X-Slack-Signature": "v0=00"},
    ):
        response = await slack.http.post(
            "/slack/events", data=raw, headers={"Content-Type": content_type, **headers}
        )
        assert response.status == 401, (case, headers)
        body = await response.json()
        assert body["ok"] is False and len(json.dumps(body)) < 80
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(
    "case",
    [
        "payload_not_json",
        "payload_deeply_nested",
        "json_deeply_nested",
        "json_not_an_object",
        "xml",
    ],
)
async def test_signed_but_malformed_bodies_get_400_json(slack: Harness, case: str) -> None:
    raw, content_type = BODIES[case]
    headers = {"Content-Type": content_type, **_as_signed(raw)}
    response = await slack.http.post("/slack/events", data=raw, headers=headers)
    assert response.status == 400
    assert (await response.json())["ok"] is False
    assert await slack.touches() == []


async def test_a_body_that_is_not_utf8_is_never_a_500_even_signed(slack: Harness) -> None:
    raw = b"command=%2Ftouch&text=\xff"
    headers = {"Content-Type": FORM, **_as_signed(raw)}
    response = await slack.http.post("/slack/events", data=raw, headers=headers)
    assert response.status == 400
    assert (await response.json())["error"] == "body_not_utf8"


async def test_slacks_ssl_check_and_real_commands_still_pass(slack: Harness) -> None:
    response = await slack.http.post(
        "/slack/events", data=b"ssl_check=1&token=legacy", headers={"Content-Type": FORM}
    )
    assert response.status == 200
    status, body = await slack.command("add Acme", command="/client")
    assert status == 200 and "Acme" in body["text"]


def test_nesting_as_deep_as_slacks_own_payloads_is_accepted() -> None:
    nested: dict[str, object] = {"leaf": 1}
    for _ in range(MAX_DEPTH - 1):
        nested = {"k": nested}
    raw = json.dumps(nested).encode()
    ts = "1700000000"
    headers = signed_headers(raw.decode(), timestamp=int(ts))
    assert (
        check_slack_request(
            raw,
            "application/json",
            ts,
            headers["X-Slack-Signature"],
            SIGNING_SECRET,
            now=lambda: 1700000000.0,
        )
        is None
    )
    too_deep = json.dumps({"k": nested}).encode()
    headers = signed_headers(too_deep.decode(), timestamp=int(ts))
    refusal = check_slack_request(
        too_deep,
        "application/json",
        ts,
        headers["X-Slack-Signature"],
        SIGNING_SECRET,
        now=lambda: 1700000000.0,
    )
    assert refusal is not None and refusal.status == 400


async def test_a_flood_of_bad_requests_logs_a_few_lines(
    slack: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for _ in range(200):
        response = await slack.http.post(
            "/slack/events", data=b"\xff", headers={"Content-Type": FORM}
        )
        assert response.status == 401
    refusals = [r for r in caplog.records if "refused a Slack request" in r.getMessage()]
    assert 1 <= len(refusals) <= 2


@pytest.mark.parametrize(
    "headers,body",
    [
        ({}, b"\xff\xfe not json at all"),
        ({"Content-Type": "application/json"}, b"[" * 5000),
        ({"Content-Type": "application/json", "Authorization": "Basic abc"}, b"{}"),
        ({"Content-Type": "text/plain", "Authorization": "Bearer not-a-jwt"}, b"x"),
    ],
)
async def test_teams_checks_the_bearer_before_reading_the_body(
    secured: Secured,  # noqa: F811  (the fixture)
    headers: dict[str, str],
    body: bytes,
) -> None:
    teams = secured.teams
    async with teams.session.post(teams.server.url, data=body, headers=headers) as response:
        assert response.status == 401
        assert (await response.json())["ok"] is False
    assert teams.connector.calls() == []


def test_a_signature_that_is_not_ascii_is_refused_not_raised() -> None:
    raw = b"command=%2Ftouch&text=Acme+lunch"
    refusal = check_slack_request(
        raw, FORM, "1700000000", "v0=caf\u00e9", SIGNING_SECRET, now=lambda: 1700000000.0
    )
    assert refusal is not None and (refusal.status, refusal.error) == (401, "bad_signature")
