"""The same repair conversation through the Slack and Teams adapters (their HTTP fakes)."""

from __future__ import annotations

import json
from typing import Any

from bot.domain import Platform
from bot.repair_ports import Repair, Step
from store.repositories import SqlStore
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    Harness,
    slack_fake_fixture,
    slack_fixture,
)
from tests.teams_helpers import TENANT, Teams, card_text, submits, teams, unescape

__all__ = ["teams"]  # the fixture


async def _repair(store: Any, platform: Platform, key: str) -> Repair:
    ws = await store.workspace(platform, key)
    async with store.unit(ws.id) as uow:
        [client] = await uow.clients.list()
        r = await uow.repairs.latest_for(client.id)
    assert r is not None
    return r


# --- Slack ------------------------------------------------------------------------------------


def _button(blocks: list[dict[str, Any]], action_prefix: str) -> dict[str, Any]:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("type") == "button" and element["action_id"].startswith(action_prefix):
                return dict(element)
    raise AssertionError(f"no {action_prefix} button in {json.dumps(blocks)[:400]}")


async def test_slack_start_set_the_task_and_put_it_right(slack: Harness, store: SqlStore) -> None:
    await slack.command("add Acme", command="/client")
    status, body = await slack.command("Acme missed the filing deadline", command="/repair")
    assert status == 200
    assert "Repair started for Acme" in json.dumps(body)
    assert "missed the filing deadline" in json.dumps(body)

    task = _button(body["blocks"], "repair_task_open")
    await slack.post(
        slack.block_actions_body(task["action_id"], task["value"], trigger_id="111.222.abc")
    )
    await slack.settle()
    [opened] = slack.fake.calls("views.open")
    view = opened.params["view"]
    view = view if isinstance(view, dict) else json.loads(view)
    assert view["callback_id"] == "repair_task"
    state = {
        "task": {"value": {"type": "plain_text_input", "value": "Refile the return"}},
        "due": {"value": {"type": "datepicker", "selected_date": "2026-11-25"}},
    }
    status, answer = await slack.post(slack.view_submission_body(view, state, view_id="V1"))
    assert (status, answer) == (200, "")  # the modal closes
    await slack.settle()
    r = await _repair(store, Platform.SLACK, slack.team)
    assert (r.task, str(r.task_due_on)) == ("Refile the return", "2026-11-25")

    done = _button(body["blocks"], "repair_put_right")
    await slack.post(slack.block_actions_body(done["action_id"], done["value"]))
    await slack.settle()
    texts = [c.params.get("text", "") for c in slack.fake.calls("response_url")]
    assert any("Well done: it's put right" in t for t in texts)
    assert (await _repair(store, Platform.SLACK, slack.team)).step is Step.BREATHING


# --- Teams ------------------------------------------------------------------------------------


async def test_teams_walks_the_same_steps_and_survives_a_restart(teams: Teams) -> None:
    await teams.post(teams.personal("client add Acme"))
    await teams.post(teams.personal("repair Acme missed the filing deadline"))
    card = await teams.last_card(2)
    assert "Repair started for Acme" in unescape(card_text(card))

    [set_task] = [s for s in submits(card) if s["data"]["action_id"] == "repair_task_open"]
    await teams.post(teams.submit(set_task["data"]))
    form = await teams.last_card(3)
    [save] = submits(form)
    assert save["data"]["form_id"] == "repair_task"
    filled = {"task": "Refile the return", "due": "2026-11-25"}
    await teams.post(teams.submit({**save["data"], **filled}))
    noted = await teams.last_card(4)
    assert "Noted" in unescape(card_text(noted))

    [done] = [s for s in submits(noted) if s["data"]["action_id"] == "repair_put_right"]
    await teams.post(teams.submit(done["data"]))
    breathing = unescape(card_text(await teams.last_card(5)))
    assert "Well done: it's put right" in breathing and "Mon 30 Nov" in breathing

    await teams.restart()
    await teams.post(teams.personal("repair Acme"))
    status = unescape(card_text(await teams.last_card(6)))
    assert "give them room" in status and "Mon 30 Nov" in status
    r = await _repair(teams.services.store, Platform.TEAMS, TENANT)
    assert (r.step, r.task) == (Step.BREATHING, "Refile the return")
