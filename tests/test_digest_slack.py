"""The morning digest through the real Slack adapter and SDK, against the fake Slack Web API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import FixedClock
from bot.digest import run_sweep
from bot.domain import Platform
from tests.fakes.slack_api import FakeSlackApi
from tests.nudge_fixtures import add_client, add_touch
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    TEAM,
    USER,
    Harness,
    slack_fake_fixture,
    slack_fixture,
)

MON_0830_LONDON = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # London is on UTC in November


async def test_digest_is_one_slack_dm_with_buttons(
    slack: Harness, slack_fake: FakeSlackApi, clock: FixedClock
) -> None:
    status, _ = await slack.command("", command="/due")  # Ada appears, with her Slack zone
    assert status == 200
    await slack.settle()
    [ws] = [w for w in await slack.store.workspaces() if w.platform is Platform.SLACK]
    async with slack.store.unit(ws.id) as uow:
        ada = await uow.people.by_platform_id(USER)
    assert ada is not None and ada.address == {"channel": USER, "team": TEAM}
    acme = await add_client(
        slack.store, clock, ws.id, "Acme <!channel>", ada, added=MON_0830_LONDON - timedelta(90)
    )
    await add_touch(slack.store, ws.id, acme, ada, (MON_0830_LONDON - timedelta(90)).date())
    before = len(slack_fake.calls("chat.postMessage"))
    services = slack.services
    at = FixedClock(MON_0830_LONDON)

    report = await run_sweep(slack.store, services.messengers, at, services.app.config, "t")
    assert report.sent == [ada.id]
    [dm] = slack_fake.calls("chat.postMessage")[before:]
    assert dm.params["channel"] == USER
    text = str(dm.params["blocks"])
    assert "Acme &lt;!channel&gt;: 60 days overdue" in text  # user text escaped for mrkdwn
    action_ids = [
        e["action_id"].split("::")[0]
        for b in dm.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert {"log_touch_open", "nudge_snooze", "client_open"} <= set(action_ids)

    at.advance(timedelta(minutes=1))
    await run_sweep(slack.store, services.messengers, at, services.app.config, "t")
    assert len(slack_fake.calls("chat.postMessage")) == before + 1  # not twice


async def test_a_removed_user_is_marked_unreachable(
    slack: Harness, slack_fake: FakeSlackApi, clock: FixedClock
) -> None:
    await slack.command("", command="/due")
    await slack.settle()
    [ws] = [w for w in await slack.store.workspaces() if w.platform is Platform.SLACK]
    async with slack.store.unit(ws.id) as uow:
        ada = await uow.people.by_platform_id(USER)
    assert ada is not None
    await add_client(slack.store, clock, ws.id, "Acme", ada, added=MON_0830_LONDON - timedelta(90))
    slack_fake.fail_next("chat.postMessage", error="account_inactive")
    services = slack.services
    report = await run_sweep(
        slack.store, services.messengers, FixedClock(MON_0830_LONDON), services.app.config, "t"
    )
    assert report.failed == [ada.id]
    async with slack.store.unit(ws.id) as uow:
        again = await uow.people.get(ada.id)
    assert again is not None and again.unreachable_since == MON_0830_LONDON
