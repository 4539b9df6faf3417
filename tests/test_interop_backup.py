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
from pathlib import Path
from typing import Any

import pytest

from bot.backup import BackupError, clients_csv, export_data, people_csv, restore, touches_csv
from bot.domain import Platform
from bot.transfer import import_clients, read_clients
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
    ws = await store.workspace(Platform.CONSOLE, "local")
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
    for part in ("people", "clients", "touches", "matters", "repairs", "handoffs", "owner_history"):
        assert first[part], part
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
            await restore(uow, {"clients": []})
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
