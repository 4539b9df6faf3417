"""The `touchbase` command's workspace: which one import, export, digest and summary act on,
`touchbase workspaces`, and a digest never printed in place of being sent. In process, on both
engines, with the settings a deployment would have."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from app.cli import run
from app.settings import Settings, SlackSettings, TeamsSettings
from bot.clock import FixedClock
from bot.domain import Platform
from store.models import DigestRow, PostRow, WorkspaceRow
from store.repositories import SqlStore
from tests.nudge_fixtures import add_client, add_person, add_touch

MON = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # a Monday, after 09:00: summary time
LONG_AGO = MON - timedelta(days=90)


def _settings(db_url: str, *, slack: bool = False, oauth: bool = False) -> Settings:
    values: dict[str, object] = {"app_token": None, "client_id": None, "client_secret": None}
    if slack:
        values.update(
            bot_token=None if oauth else SecretStr("xoxb-cli-test"),
            signing_secret=SecretStr("secret"),
            api_url="http://127.0.0.1:9/api/",
        )
        if oauth:
            values.update(client_id="123.456", client_secret=SecretStr("shh"))
    else:
        values.update(bot_token=None, signing_secret=None)
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db_url,
        slack=SlackSettings(_env_file=None, **values),  # type: ignore[call-arg, arg-type]
        teams=TeamsSettings(_env_file=None, id=""),  # type: ignore[call-arg]
        env="production",
        scheduler_enabled=False,
    )


async def _count(store: SqlStore, row: type) -> int:
    from sqlalchemy import func, select

    async with store.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(row)) or 0)


async def _firm(store: SqlStore, clock: FixedClock, platform: Platform, key: str, client: str):  # type: ignore[no-untyped-def]
    ws = await store.workspace(platform, key, f"{key} firm")
    person = await add_person(store, ws.id, f"{key}-ann")
    cid = await add_client(store, clock, ws.id, client, person, added=LONG_AGO)
    await add_touch(store, ws.id, cid, person, LONG_AGO.date())
    return ws, person


async def test_export_with_slack_configured_is_the_slack_workspace(
    db_url: str, store: SqlStore, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    await _firm(store, clock, Platform.CONSOLE, "local", "Trial Co")
    await _firm(store, clock, Platform.SLACK, "T0FIRM", "Acme Corp")
    before = await _count(store, WorkspaceRow)
    assert await run(_settings(db_url, slack=True), ["export"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in data["clients"]] == ["Acme Corp"]
    assert data["clients"][0]["status"] == "active" and len(data["touches"]) == 1
    # With nothing configured, the local trial.
    assert await run(_settings(db_url), ["export"]) == 0
    assert [c["name"] for c in json.loads(capsys.readouterr().out)["clients"]] == ["Trial Co"]
    assert await run(_settings(db_url), ["export", "--workspace", "slack:T0FIRM"]) == 0
    assert [c["name"] for c in json.loads(capsys.readouterr().out)["clients"]] == ["Acme Corp"]
    assert await _count(store, WorkspaceRow) == before  # nothing created as a side effect


async def test_several_workspaces_exit_2_naming_them(
    db_url: str, store: SqlStore, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    await _firm(store, clock, Platform.SLACK, "T0ONE", "Acme Corp")
    await _firm(store, clock, Platform.SLACK, "T0TWO", "Globex")
    settings = _settings(db_url, slack=True, oauth=True)
    for argv in (["export"], ["digest", "--dry-run"], ["summary", "--dry-run"]):
        assert await run(settings, argv) == 2, argv
        err = capsys.readouterr().err
        assert "slack:T0ONE" in err and "slack:T0TWO" in err and "--workspace" in err
    assert await run(settings, ["export", "--workspace", "nowhere:T0"]) == 2
    assert "unknown platform" in capsys.readouterr().err
    assert await run(settings, ["export", "--workspace", "slack:T0NONE"]) == 2
    assert "no workspace slack:T0NONE" in capsys.readouterr().err
    assert await run(settings, ["export", "--workspace", "slack:T0TWO"]) == 0
    assert "Globex" in capsys.readouterr().out


async def test_nothing_yet_exports_nothing_and_creates_nothing(
    db_url: str, store: SqlStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run(_settings(db_url), ["export"]) == 0
    assert json.loads(capsys.readouterr().out) == {"clients": [], "touches": []}
    assert await run(_settings(db_url), ["workspaces"]) == 0
    assert "No workspaces yet" in capsys.readouterr().out
    assert await run(_settings(db_url), ["digest"]) == 0
    assert await run(_settings(db_url), ["summary"]) == 0
    assert await _count(store, WorkspaceRow) == 0
    # With Slack configured and nobody there yet, it says so rather than use the trial.
    assert await run(_settings(db_url, slack=True), ["export"]) == 2
    assert "no Slack workspace yet" in capsys.readouterr().err


async def test_workspaces_lists_platform_key_name_people_clients_active(
    db_url: str, store: SqlStore, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    await _firm(store, clock, Platform.CONSOLE, "local", "Trial Co")
    ws, _ = await _firm(store, clock, Platform.SLACK, "T0FIRM", "Acme Corp")
    await add_person(store, ws.id, "bob")
    assert await run(_settings(db_url, slack=True), ["workspaces"]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert lines[0] == ["platform", "key", "name", "people", "clients", "active"]
    assert ["console", "local", "local", "firm", "1", "1", "no"] in lines
    assert ["slack", "T0FIRM", "T0FIRM", "firm", "2", "1", "yes"] in lines


async def test_digest_of_a_platform_person_is_never_printed_instead_of_sent(
    db_url: str, store: SqlStore, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    await _firm(store, clock, Platform.TEAMS, "tenant-1", "Acme Corp")
    argv = ["digest", "--now", "2026-11-23T08:30:00+00:00"]
    assert await run(_settings(db_url), [*argv, "--workspace", "teams:tenant-1"]) == 0
    out = capsys.readouterr().out
    assert "Acme Corp" not in out  # not printed here...
    assert "Not sent, and left for the server to send: 1 due" in out and "Tenant-1-Ann" in out
    assert await _count(store, DigestRow) == 0  # ...and not claimed: the server still sends it
    # The local trial's digests are printed: that is how the terminal delivers them.
    await _firm(store, clock, Platform.CONSOLE, "local", "Trial Co")
    assert await run(_settings(db_url), argv) == 0
    out = capsys.readouterr().out
    assert "Trial Co" in out and "1 sent" in out


async def test_summary_dry_run_previews_and_claims_nothing(
    db_url: str, store: SqlStore, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    ws, _ = await _firm(store, clock, Platform.CONSOLE, "local", "Trial Co")
    settings = _settings(db_url)
    now = ["--now", MON.isoformat()]
    assert await run(settings, ["summary", "--dry-run", *now]) == 0
    out = capsys.readouterr().out
    assert "weekly summary for local firm (no channel yet)" in out and "Client relationships" in out
    assert await _count(store, PostRow) == 0
    assert await run(settings, ["summary", *now]) == 1
    assert "no relationships channel yet" in capsys.readouterr().err
    await store.update_workspace(ws.id, channel={"channel": "relationships"})
    assert await run(settings, ["summary", *now]) == 0
    out = capsys.readouterr().out
    assert "Client relationships" in out and "Weekly summary for local firm: sent." in out
    assert await run(settings, ["summary", *now]) == 0  # once a week
    assert "Nothing posted" in capsys.readouterr().out
