"""Who takes up an imported owner's clients on Teams, on both SDKs: only the person whose roster
e-mail (or UPN) is the one the import named; a display name set to it claims nothing."""

from __future__ import annotations

import pytest

from bot.domain import Platform
from bot.transfer import import_clients
from tests.contract.harness import Contract
from tests.teams_helpers import TENANT

pytestmark = pytest.mark.security

CSV = "name,owner\nInitech,bob@example.com\nGlobex,Carol Jones\n"


async def owners(teams: Contract, ws: int) -> dict[str, str]:
    async with teams.services.store.unit(ws) as uow:
        people = {p.id: p for p in await uow.people.list()}
        clients = await uow.clients.list()
    return {c.name: people[c.owner_id].platform_user_id for c in clients if c.owner_id}


async def test_the_roster_email_takes_up_an_invitation_and_a_display_name_does_not(
    teams: Contract,
) -> None:
    assert await teams.post(teams.personal("help")) == 201  # the first person: the admin
    ws = (await teams.services.store.workspace(Platform.TEAMS, TENANT)).id
    async with teams.services.store.unit(ws) as uow:
        assert (await import_clients(uow, CSV)).ok
        await uow.commit()

    mallory = {"id": "29:1mal", "name": "bob@example.com", "aadObjectId": "aad-mal-0003"}
    teams.connector.add_member(
        "29:1mal", "bob@example.com", aad_object_id="aad-mal-0003", email="mallory@example.com"
    )
    assert await teams.post(teams.personal("clients", sender=mallory)) == 201
    assert await owners(teams, ws) == {
        "Initech": "import:bob@example.com",
        "Globex": "import:carol jones",
    }

    bob = {"id": "29:1bob", "name": "Robert", "aadObjectId": "aad-bob-0004"}
    teams.connector.add_member(
        "29:1bob", "Robert", aad_object_id="aad-bob-0004", user_principal_name="BOB@example.com"
    )
    assert await teams.post(teams.personal("clients", sender=bob)) == 201
    assert (await owners(teams, ws))["Initech"] == "aad-bob-0004"
