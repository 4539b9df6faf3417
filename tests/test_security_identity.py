"""Who takes up an imported owner's clients on Slack: only the person whose platform-verified
e-mail (users.info ``profile.email``) is the one the import named. A display name set to the
owner's name or e-mail inherits nothing. The same rule on Teams (the roster's e-mail or UPN), on
both SDKs: ``tests/contract/test_teams_identity.py``."""

from __future__ import annotations

import json

import pytest

from bot.domain import Platform
from bot.transfer import import_clients
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    TEAM,
    Harness,
    slack_fake_fixture,
    slack_fixture,
)

pytestmark = pytest.mark.security

CSV = "name,owner\nInitech,bob@example.com\nGlobex,Carol Jones\n"


async def imported(slack: Harness) -> int:
    await slack.command("help", command="/touchbase")  # ada, the first person: the admin
    ws = await slack.store.workspace(Platform.SLACK, TEAM)
    async with slack.store.unit(ws.id) as uow:
        assert (await import_clients(uow, CSV)).ok
        await uow.commit()
    return ws.id


async def owners(slack: Harness, ws: int) -> dict[str, str]:
    async with slack.store.unit(ws) as uow:
        people = {p.id: p for p in await uow.people.list()}
        clients = await uow.clients.list()
    out = {}
    for c in clients:
        owner = people[c.owner_id] if c.owner_id else None
        out[c.name] = owner.platform_user_id if owner else ""
    return out


@pytest.mark.parametrize(
    "display_name,real_name",
    [("bob@example.com", "Bob"), ("Carol Jones", "Carol Jones"), ("carol jones", "Mallory")],
)
async def test_a_display_name_never_claims_an_imported_owner(
    slack: Harness, display_name: str, real_name: str
) -> None:
    ws = await imported(slack)
    slack.fake.add_user(
        "U0MAL",
        "mallory",
        email="mallory@example.com",
        display_name=display_name,
        real_name=real_name,
    )
    status, body = await slack.command("", command="/clients", user="U0MAL", user_name="mallory")
    assert status == 200
    assert "Initech" not in json.dumps(body) and "Globex" not in json.dumps(body)
    assert await owners(slack, ws) == {
        "Initech": "import:bob@example.com",
        "Globex": "import:carol jones",
    }
    async with slack.store.unit(ws) as uow:
        mallory = await uow.people.by_platform_id("U0MAL")
    assert mallory is not None and not mallory.pending


async def test_the_verified_email_takes_up_the_invitation(slack: Harness) -> None:
    ws = await imported(slack)
    slack.fake.add_user("U0BOB", "bobby", email="Bob@Example.com", display_name="Bobby Tables")
    status, _body = await slack.command("", command="/clients", user="U0BOB", user_name="bobby")
    assert status == 200
    assert (await owners(slack, ws))["Initech"] == "U0BOB"
    async with slack.store.unit(ws) as uow:
        people = await uow.people.list()
    assert [p.platform_user_id for p in people if p.email == "bob@example.com"] == []
    assert sum(p.platform_user_id == "U0BOB" for p in people) == 1
