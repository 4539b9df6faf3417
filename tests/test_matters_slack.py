"""Matters and matching through the real Slack adapter, against the fake Slack Web API."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot.domain import Platform, TouchKind
from store.repositories import SqlStore
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    Harness,
    slack_fake_fixture,
    slack_fixture,
)


def _button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    for block in blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button" and element["action_id"].startswith(action_id):
                return dict(element)
    raise AssertionError(f"no {action_id} button in {json.dumps(blocks)[:400]}")


async def test_slack_matter_with_a_mentioned_lead_then_an_update(
    slack: Harness, store: SqlStore
) -> None:
    await slack.command("add Acme Corp", command="/client")
    status, body = await slack.command(
        "Acme Corp Q3 audit lead <@U0BOB|bob> expected Dec 12", command="/matter"
    )
    assert status == 200
    said = json.dumps(body)
    assert "Opened Q3 audit for Acme Corp, led by bob" in said
    status, body = await slack.command(
        "Acme Corp ledgers arrived late, estimate Jan 9", command="/update"
    )
    said = json.dumps(body)
    assert "Recorded a status update to Acme Corp on Q3 audit, estimate 9 Jan" in said
    assert "Estimate slipped from 12 Dec to 9 Jan" in said
    await slack.settle()
    (touch,) = await slack.touches()
    assert touch.kind is TouchKind.STATUS_UPDATE and touch.estimate_on == date(2027, 1, 9)
    ws = await store.workspace(Platform.SLACK, slack.team)
    async with store.unit(ws.id) as uow:
        (matter,) = await uow.matters.list()
        lead = await uow.people.get(matter.lead_id or 0)
    assert lead is not None and lead.platform_user_id == "U0BOB"


async def test_slack_match_and_accept(slack: Harness, store: SqlStore) -> None:
    await slack.command("add Acme Corp", command="/client")
    await slack.command(
        "Acme Corp people add Dana Scully, CFO, decision maker, loves sailing", command="/client"
    )
    await slack.command("me interests sailing", command="/touchbase")
    status, body = await slack.command("Acme Corp", command="/match")
    assert status == 200
    said = json.dumps(body)
    assert "for Dana Scully (CFO, decision maker)" in said and "both into sailing" in said
    accept = _button(body["blocks"], "match_accept")
    await slack.post(slack.block_actions_body(accept["action_id"], accept["value"]))
    await slack.settle()
    texts = [c.params.get("text", "") for c in slack.fake.calls("response_url")]
    assert any("now hold the relationship with Dana Scully" in t for t in texts)
    ws = await store.workspace(Platform.SLACK, slack.team)
    async with store.unit(ws.id) as uow:
        (dana,) = await uow.contacts.for_client(1)
    assert dana.holder_id is not None
