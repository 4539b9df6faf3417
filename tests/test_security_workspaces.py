"""Two firms in one database: firm B can neither read nor change firm A's history.

B fires every registered command, button and form, with values naming A's ids (plain, JSON,
and the composite keys the buttons use). A's rows are snapshotted before and after and must
not change; no reply to B (nor any message sent on B's behalf) may carry A's names or notes.
The same probe runs through the Slack adapter with payloads signed for B's team.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.blocks import VALUE_ACTION, encode_action_id
from bot.app import Touchbase
from bot.commands import default_registry
from bot.domain import Platform
from bot.inbound import ActionIn, CommandIn, FormIn, Identity
from store.models import Base
from store.repositories import SqlStore
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    Harness,
    install,
    slack_fake_fixture,
    slack_settings,
    start_harness,
)

pytestmark = pytest.mark.security

REGISTRY = default_registry()
# CI probes A's first ids; TOUCHBASE_PROBE_ALL_IDS=1 probes every id of A's (a minute or so).
ALL_IDS = os.environ.get("TOUCHBASE_PROBE_ALL_IDS") == "1"
ALICE = Identity(Platform.CONSOLE, "firm-a", "alice", "Alice", workspace_name="Firm A")
BOB_A = Identity(Platform.CONSOLE, "firm-a", "bob", "Bob")
MALLORY = Identity(Platform.CONSOLE, "firm-b", "mallory", "Mallory", workspace_name="Firm B")

# What only firm A knows. B never types any of these strings.
A_CLIENT = "Zanzibar Holdings"
A_SECRETS = (A_CLIENT, "ZNZ-ALIAS-77", "zebra-quartz-9931", "Quillon", "Quokka audit", "Mongoose")

A_SCRIPT = [
    ("client", f"add {A_CLIENT}, ZNZ-ALIAS-77"),
    ("client", "add Mongoose Partners"),
    ("touch", "Zanzibar lunch with Quillon zebra-quartz-9931, no reply yet"),
    ("touch", "Mongoose call with Quillon zebra-quartz-9931 #repair"),
    ("repair", "Zanzibar missed the zebra-quartz-9931 deadline"),
    ("matter", "Zanzibar Quokka audit"),
    ("update", "Zanzibar zebra-quartz-9931 draft filed, estimate Dec 12"),
    ("owner", "Mongoose <@bob>"),
]
# B's commands name A's things by the short names a guesser would try.
B_COMMANDS = [
    ("client", "Zanzibar"),
    ("client", "ZNZ"),
    ("touch", "Zanzibar call with the CFO"),
    ("repair", "Zanzibar it went wrong"),
    ("matter", "Zanzibar Quokka"),
    ("update", "Quokka draft filed"),
    ("owner", "Zanzibar <@mallory>"),
    ("due", ""),
    ("clients", ""),
    ("touchbase", "help"),
]


async def run_script(app: Touchbase, who: Identity, script: Iterable[tuple[str, str]]) -> None:
    mentions = {"bob": "Bob", "alice": "Alice", "mallory": "Mallory"}
    for name, text in script:
        await app.command(who, CommandIn(name, text, mentions=mentions))


async def snapshot(engine: AsyncEngine, workspace_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row that belongs to the workspace, table by table, in key order."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name == "workspace":
                query = select(table).where(table.c.id == workspace_id)
            elif "workspace_id" in table.c:
                query = select(table).where(table.c.workspace_id == workspace_id)
            else:
                continue
            result = await conn.execute(query.order_by(*table.primary_key.columns))
            rows[table.name] = [tuple(r) for r in result]
    return rows


def ids_in(rows: dict[str, list[tuple[Any, ...]]]) -> list[int]:
    """Every row id of A's, with a few just beyond them."""
    found = {r[0] for table in rows.values() for r in table if isinstance(r[0], int)}
    every = sorted(found | {max(found, default=0) + 1, 0})
    return every if ALL_IDS else [1, 2]


def hostile_values(ids: list[int]) -> Iterator[str]:
    keys = ("id", "client", "touch", "h", "m", "r", "repair", "matter", "c", "t")
    for i in ids:
        yield str(i)
        yield json.dumps({"id": i})
        yield json.dumps({k: i for k in keys})
        yield json.dumps({"h": i, "s": "intro"})
        yield json.dumps({"client": i, "touch": i})
        yield json.dumps({"m": i, "t": "draft filed"})
        yield json.dumps({"id": i, "typed": "x", "text": "call"})
        yield f"repair:{i}:finish"
        yield f"handoff:{i}"
        yield f"due:client:{i}"
        yield f"1|due:client:{i}"
        yield f"1|repair:{i}:finish"
        yield f"1|handoff:{i}"


def texts(obj: Any) -> Iterator[str]:
    """Every string inside a reply (dataclasses, dicts, tuples)."""
    if isinstance(obj, str):
        yield obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from texts(getattr(obj, f.name))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from texts(k)
            yield from texts(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from texts(v)


def leaks(everything: Iterable[str]) -> list[str]:
    blob = "\n".join(everything).casefold()
    return [s for s in A_SECRETS if s.casefold() in blob]


async def test_workspace_b_cannot_reach_workspace_a(
    app: Touchbase, store: SqlStore, engine: AsyncEngine, outbox: io.StringIO
) -> None:
    await run_script(app, ALICE, A_SCRIPT)
    await run_script(app, BOB_A, [("due", "")])
    await run_script(app, MALLORY, [("client", "add Bravo Ltd"), ("touch", "Bravo call")])
    a = await store.workspace(Platform.CONSOLE, "firm-a")
    before = await snapshot(engine, a.id)
    assert before["touch"] and before["repair"] and before["matter"] and before["handoff"]
    outbox.seek(0, io.SEEK_END)
    sent_before = outbox.tell()

    replies: list[Any] = []
    for name, text in B_COMMANDS:
        mentions = {"mallory": "Mallory", "alice": "Alice"}
        replies.append(await app.command(MALLORY, CommandIn(name, text, mentions=mentions)))
    values = list(hostile_values(ids_in(before)))
    fired = 0
    for action_id in sorted(REGISTRY.actions):
        for value in values:
            replies.append(await app.action(MALLORY, ActionIn(action_id, value)))
            fired += 1
    form_inputs = [{"client": "1"}, {"client": A_CLIENT.split()[0]}]
    for form_id in sorted(REGISTRY.forms):
        for value in values:
            for inputs in form_inputs:
                filled = {**inputs, "note": "x", "task": "x", "days": "3", "reason": "x"}
                replies.append(await app.submit(MALLORY, FormIn(form_id, filled, value)))
                fired += 1

    assert fired > 500  # every button and form, with every hostile value
    assert await snapshot(engine, a.id) == before
    outbox.seek(sent_before)
    assert leaks(texts(replies)) == []
    assert leaks([outbox.read()]) == []


async def test_the_probe_would_see_a_leak(app: Touchbase, store: SqlStore) -> None:
    """The probe's own check: within A, the same buttons do show A's data."""
    await run_script(app, ALICE, A_SCRIPT)
    reply = await app.action(ALICE, ActionIn("client_open", "1"))
    assert leaks(texts(reply))


# --- the same through Slack, signed for team B -------------------------------------------------

TEAM_A, TEAM_B = "T0FIRMA", "T0FIRMB"


@pytest.fixture(name="slack")
async def two_installs(
    db_url: str, engine: AsyncEngine, store: SqlStore, clock: Any, slack_fake: FakeSlackApi
) -> AsyncIterator[Harness]:
    """Touchbase installed in two workspaces ("Add to Slack", one token each): a request is
    served with the token of the team it names, and is that team's."""
    settings = slack_settings(
        slack_fake, bot_token=None, client_id="1111.2222", client_secret=SecretStr("shh")
    )
    async for harness in start_harness(db_url, engine, store, clock, slack_fake, settings):
        for team in (TEAM_A, TEAM_B):
            slack_fake.team_id = team
            await install(harness)
        yield harness


async def slack_as(slack: Harness, team: str, text: str, command: str = "/touch") -> None:
    slack.team = team
    status, _ = await slack.command(text, command=command)
    assert status == 200


async def test_slack_payloads_signed_for_team_b_cannot_reach_team_a(
    slack: Harness, engine: AsyncEngine
) -> None:
    for name, text in A_SCRIPT:
        await slack_as(slack, TEAM_A, text.replace("<@bob>", "<@U0BOB|bob>"), f"/{name}")
    await slack_as(slack, TEAM_B, "add Bravo Ltd", "/client")
    await slack.settle()
    a = await slack.store.workspace(Platform.SLACK, TEAM_A)
    before = await snapshot(engine, a.id)
    assert before["touch"] and before["repair"]
    calls_before = len(slack.fake.calls())

    slack.team = TEAM_B
    for name, text in B_COMMANDS:
        await slack_as(slack, TEAM_B, text.replace("<@mallory>", "<@U0BOB|bob>"), f"/{name}")
    values = list(hostile_values(ids_in(before)))
    if not ALL_IDS:
        values = values[::3]  # a third of the shapes for each id keeps CI quick
    bodies: list[str] = []
    for action_id in sorted(REGISTRY.actions):
        for value in values:
            status, body = await slack.post(
                slack.block_actions_body(encode_action_id(action_id, 0), value)
            )
            assert status == 200
            bodies.append(body)
    for form_id in sorted(REGISTRY.forms):
        for value in values:
            view = {
                "type": "modal",
                "callback_id": form_id,
                "private_metadata": json.dumps({"v": value}),
                "blocks": [],
            }
            state = {
                "client": {VALUE_ACTION: {"type": "plain_text_input", "value": "1"}},
                "note": {VALUE_ACTION: {"type": "plain_text_input", "value": "x"}},
            }
            status, body = await slack.post(slack.view_submission_body(view, state))
            assert status == 200
            bodies.append(body)
    await slack.settle()

    assert await snapshot(engine, a.id) == before
    assert leaks(bodies) == []
    sent = [json.dumps(c.params, default=str) for c in slack.fake.calls()[calls_before:]]
    assert sent  # replies went out through the fake (response_url, views.open, DMs)
    assert leaks(sent) == []
