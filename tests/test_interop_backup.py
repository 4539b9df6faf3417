"""The full export and its restore: export, import backup into an empty workspace, export again."""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.backup import BackupError, clients_csv, export_data, people_csv, restore, touches_csv
from bot.domain import Platform
from bot.transfer import import_clients, read_clients
from store.models import ClientRow, DigestRow, PersonRow, SnoozeRow
from store.repositories import SqlStore

from .conftest import T0, Chat


async def _busy_workspace(chat: Chat, store: SqlStore) -> None:
    """A workspace with something in every part of the export."""
    bob = chat.as_user("bob")
    await chat.say("/client add Acme Corp, Acme")
    await chat.say("/client Acme Corp people add Dana Scully, CFO, decision maker, loves sailing")
    await chat.say("/touch Acme emailed Dana about the renewal, no reply yet")
    await chat.say("/touch Acme lunch with Dana 2026-11-02")
    await chat.say("/matter Acme Q3 audit expected Dec 12")
    await chat.say("/update Acme fieldwork done, estimate Dec 12")
    await bob.say("/client add Globex")
    await bob.say("/touch Globex call with Hank 2026-10-14")
    await bob.say("/repair Globex missed the filing deadline")
    await bob.say("/owner Globex @jane")
    await chat.say("/client Acme closeout Q3 audit delivered")  # history and care check-ins
    await chat.say("/client add Hooli")
    await chat.say("/client Hooli delete")
    await chat.say("1")  # the audit log records it, without the name
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.sessions() as s:  # a digest sent and a nudge snoozed
        jane = await s.scalar(select(PersonRow.id).where(PersonRow.platform_user_id == "jane"))
        acme = await s.scalar(select(ClientRow.id).where(ClientRow.name == "Acme Corp"))
        s.add(
            DigestRow(
                workspace_id=ws.id,
                person_id=jane,
                local_date=T0.date(),
                claimed_at=T0,
                status="sent",
                item_count=3,
                sent_at=T0,
                attempts=1,
            )
        )
        s.add(
            SnoozeRow(
                workspace_id=ws.id,
                person_id=jane,
                client_id=acme,
                nudge_key="due:1",
                until=T0 + timedelta(days=3),
                created_at=T0,
            )
        )
        await s.commit()
    async with store.unit(ws.id) as uow:
        report = await import_clients(
            uow,
            "name,owner,segment,last_contact,contact,title,email\n"
            "Initech,carol@initech.example,=cmd|' /C calc'!A0,2026-09-30,Bill Lumbergh,VP,"
            "bill@initech.example\n",
            today=T0.date(),
        )
        assert report.ok, report.errors
        await uow.commit()


async def _export(store: SqlStore, key: str = "local") -> dict[str, Any]:
    ws = await store.workspace(Platform.CONSOLE, key)
    async with store.unit(ws.id) as uow:
        return await export_data(uow)


async def test_export_restore_export_is_the_same_document(chat: Chat, store: SqlStore) -> None:
    await _busy_workspace(chat, store)
    first = await _export(store)
    # Every part of the schema has something in it.
    for part in (
        "people",
        "clients",
        "touches",
        "matters",
        "repairs",
        "handoffs",
        "owner_history",
        "history",
        "care_checkins",
        "digests",
        "snoozes",
        "audit",
    ):
        assert first[part], part
    assert any(e["kind"] == "closeout" for e in first["history"]), first["history"]
    assert first["digests"][0]["status"] == "sent" and first["snoozes"][0]["client"] == "Acme Corp"
    assert [a["action"] for a in first["audit"]] == ["client_erased"]
    acme = next(c for c in first["clients"] if c["name"] == "Acme Corp")
    assert acme["aliases"] == ["Acme"] and acme["owner"] == "jane"
    assert acme["people"][0]["name"] == "Dana Scully" and acme["people"][0]["title"] == "CFO"
    assert acme["last_touch_on"] == "2026-11-23"
    [matter] = first["matters"]
    assert matter["title"] == "Q3 audit" and matter["updates"][0]["estimate_on"] == "2026-12-12"
    initech = next(c for c in first["clients"] if c["name"] == "Initech")
    assert initech["last_contact_on"] == "2026-09-30" and initech["owner_user"].startswith(
        "import:"
    )
    assert next(p for p in first["people"] if p["user_id"] == initech["owner_user"])["invited"]

    document = json.loads(json.dumps(first))  # as written to and read from a file
    fresh = await store.workspace(Platform.CONSOLE, "restored", "Restored")
    async with store.unit(fresh.id) as uow:
        report = await restore(uow, document)
        await uow.commit()
    assert report.counts["clients"] == 3 and report.counts["touches"] == len(first["touches"])
    assert await _export(store, "restored") == first

    # The original workspace is untouched, and a second restore is refused.
    assert await _export(store) == first
    async with store.unit(fresh.id) as uow:
        with pytest.raises(BackupError, match="already has 3 clients"):
            await restore(uow, document)


async def test_merge_keeps_what_is_here_and_adds_the_rest(chat: Chat, store: SqlStore) -> None:
    await _busy_workspace(chat, store)
    document = await _export(store)
    other = await store.workspace(Platform.CONSOLE, "other", "Other")
    async with store.unit(other.id) as uow:
        await uow.clients.add("Globex", segment="Kept as it was")
        report = await restore(uow, document, merge=True)
        await uow.commit()
        clients = {c.name: c for c in await uow.clients.list()}
    assert report.kept_clients == ["Globex"]
    assert clients["Globex"].segment == "Kept as it was"
    assert set(clients) == {"Acme Corp", "Globex", "Initech"}


async def test_a_damaged_or_foreign_document_is_refused(store: SqlStore) -> None:
    ws = await store.workspace(Platform.CONSOLE, "x")
    async with store.unit(ws.id) as uow:
        with pytest.raises(BackupError, match="not a Touchbase export"):
            await restore(uow, {"people": []})
        with pytest.raises(BackupError, match="version 1"):
            await restore(uow, {"format": "touchbase-export", "version": 1})
        bad = {
            "format": "touchbase-export",
            "version": 2,
            "clients": [{"name": "A", "added_at": "2026-11-01T00:00:00+00:00"}],
            "touches": [{"client": "Nobody"}],
        }
        with pytest.raises(BackupError, match="touches\\[1\\] is for 'Nobody'"):
            await restore(uow, copy.deepcopy(bad))
        assert await uow.clients.list() == []


async def test_csv_exports_neutralise_formulas_and_read_back(chat: Chat, store: SqlStore) -> None:
    await _busy_workspace(chat, store)
    await chat.say('/touch Acme call with Dana: =HYPERLINK("http://x") and @SUM(A1)')
    data = await _export(store)
    clients = list(csv.DictReader(io.StringIO(clients_csv(data))))
    initech = next(r for r in clients if r["name"] == "Initech")
    assert initech["segment"] == "'=cmd|' /C calc'!A0"  # shown as typed, never run
    assert initech["last_contact"] == "2026-09-30"
    # The stored value is kept as typed.
    assert next(c for c in data["clients"] if c["name"] == "Initech")["segment"].startswith("=")
    notes = [r["note"] for r in csv.DictReader(io.StringIO(touches_csv(data)))]
    assert all(not n.startswith(("=", "+", "-", "@")) for n in notes)
    people = list(csv.DictReader(io.StringIO(people_csv(data))))
    assert {"client": "Acme Corp", "person": "Dana Scully", "title": "CFO"}.items() <= people[
        0
    ].items()
    # Our clients CSV is our import format.
    records, report = read_clients(clients_csv(data), today=T0.date())
    assert report.ok and {r.name for r in records} == {"Acme Corp", "Globex", "Initech"}


def _touchbase(tmp: Path, db: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_APP_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp / db}"
    env["TOUCHBASE_SCHEDULER"] = "false"
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp,
        env=env,
        timeout=60,
    )


def test_cli_export_file_is_private_and_restores(tmp_path: Path) -> None:
    data = Path(__file__).parent / "data" / "imports"
    ran = _touchbase(
        tmp_path, "a.db", "import", "clients", str(data / "outlook-contacts-cp1252.csv")
    )
    assert ran.returncode == 0, ran.stderr
    _touchbase(
        tmp_path, "a.db", "console", "--user", "jane", stdin="/touch Ashworth call with Zoë\n"
    )
    out = _touchbase(tmp_path, "a.db", "export", "--output", "backup.json")
    assert out.returncode == 0, out.stderr
    assert stat.S_IMODE((tmp_path / "backup.json").stat().st_mode) == 0o600
    (tmp_path / "old.csv").write_text("x")
    (tmp_path / "old.csv").chmod(0o644)
    csv_out = _touchbase(tmp_path, "a.db", "export", "--format", "csv", "--output", "old.csv")
    assert csv_out.returncode == 0 and stat.S_IMODE((tmp_path / "old.csv").stat().st_mode) == 0o600
    restored = _touchbase(tmp_path, "b.db", "import", "backup", "backup.json")
    assert restored.returncode == 0, restored.stderr
    assert "2 clients, 3 key people, 1 touches" in restored.stdout
    again = _touchbase(tmp_path, "b.db", "export")
    assert json.loads(again.stdout) == json.loads((tmp_path / "backup.json").read_text())
    refused = _touchbase(tmp_path, "b.db", "import", "backup", "backup.json")
    assert refused.returncode == 1 and "--merge" in refused.stderr
    dry = _touchbase(
        tmp_path, "b.db", "import", "clients", "--dry-run", str(data / "act-contacts.csv")
    )
    assert dry.returncode == 0, dry.stderr
    assert "(Act! contacts, comma-separated, Windows-1252): nothing is saved." in dry.stdout
    assert "line 3: add key person to Globex Corporation: Frank Grimes" in dry.stdout


async def test_a_first_version_export_still_restores(chat: Chat, store: SqlStore) -> None:
    """What `touchbase export` wrote before the document had a format and a version."""
    first_version = {
        "clients": [
            {"name": "Acme Corp", "aliases": ["Acme"], "owner": "jane", "cadence_days": 14,
             "segment": "Key", "status": "active"},
            {"name": "Globex", "aliases": [], "owner": "Old Partner", "cadence_days": None,
             "segment": None, "status": "archived"},
        ],
        "touches": [
            {"client": "Acme Corp", "kind": "email", "contact": "José", "occurred_on": "2026-11-02",
             "awaiting_reply": True, "note": "emailed José", "logged_by": "jane"},
            {"client": "Globex", "kind": "call", "contact": None, "occurred_on": "2026-10-01",
             "awaiting_reply": False, "note": "call", "logged_by": None},
        ],
    }  # fmt: skip
    await chat.say("/touchbase help")  # jane is here already
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        report = await restore(uow, json.loads(json.dumps(first_version)), now=T0)
        await uow.commit()
    assert report.counts["clients"] == 2 and report.counts["touches"] == 2
    data = await _export(store)
    clients = {c["name"]: c for c in data["clients"]}
    assert clients["Acme Corp"]["owner_user"] == "jane"  # the colleague of that name
    assert clients["Acme Corp"]["cadence_days"] == 14 and clients["Acme Corp"]["aliases"] == [
        "Acme"
    ]
    assert clients["Globex"]["owner_user"] == "import:old partner"  # an invitation
    assert clients["Globex"]["status"] == "archived"
    assert clients["Acme Corp"]["added_at"].startswith("2026-11-02")  # known from its first touch
    acme, globex = data["touches"]
    assert acme["awaiting_reply"] and acme["contact"] == "José" and acme["logged_by"] == "jane"
    assert globex["logged_by"] == "A former colleague"
    # The follow-up is open, and settled by the same contact however written.
    assert "Awaiting reply: email to José" in await chat.say("/client Acme")
    await chat.say("/touch Acme call with Jose")
    assert "Awaiting reply" not in await chat.say("/client Acme")
