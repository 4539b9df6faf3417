"""The `touchbase` command as a newcomer uses it, in real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_APP_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'touchbase.db'}"
    env["TOUCHBASE_SCHEDULER"] = "false"
    return env


def touchbase(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
        timeout=60,
    )


def test_piped_console_then_export(tmp_path: Path) -> None:
    run = touchbase(
        tmp_path,
        "console",
        "--user",
        "jane",
        stdin="/client add Acme Corp\n/touch Acme lunch with CFO\n",
    )
    assert run.returncode == 0, run.stderr
    assert "Logged lunch with CFO at Acme Corp" in run.stdout
    exported = touchbase(tmp_path, "export", "--format", "json")
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    [touch] = data["touches"]
    assert touch["client"] == "Acme Corp"
    assert touch["contact"] == "CFO"
    assert touch["occurred_on"] == date.today().isoformat()


def test_import_reports_bad_lines_and_exits_nonzero(tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_text("name,cadence_days\nAcme,14\nGlobex,soon\n")
    run = touchbase(tmp_path, "import", "clients", "clients.csv")
    assert run.returncode == 1
    assert "clients.csv, line 3: cadence_days 'soon' is not a whole number of days" in run.stderr
    assert "Nothing was imported" in run.stderr
    (tmp_path / "clients.csv").write_text("name,cadence_days\nAcme,14\nGlobex,21\n")
    run = touchbase(tmp_path, "import", "clients", "clients.csv")
    assert run.returncode == 0, run.stderr
    assert "2 clients added" in run.stdout
    exported = json.loads(touchbase(tmp_path, "export").stdout)
    assert sorted(c["name"] for c in exported["clients"]) == ["Acme", "Globex"]


def test_export_csv_to_a_file(tmp_path: Path) -> None:
    touchbase(
        tmp_path,
        "console",
        "--user",
        "jane",
        stdin="/client add Acme\n/touch Acme call with Dana yesterday\n",
    )
    run = touchbase(tmp_path, "export", "--format", "csv", "--output", "out.csv")
    assert run.returncode == 0, run.stderr
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0].startswith("client,kind,contact,occurred_on")
    assert lines[1].startswith("Acme,call,Dana,")


def confirmed_then_killed(tmp_path: Path, note: str) -> None:
    """Start the console, log a touch, and SIGKILL it the moment the confirmation shows."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "console", "--user", "jane"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
    )
    assert proc.stdin and proc.stdout
    proc.stdin.write(f"/touch Acme call with Dana {note}\n")
    proc.stdin.flush()
    for line in proc.stdout:
        if line.startswith("✔ Logged"):
            break
    else:
        pytest.fail("no confirmation")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


@pytest.mark.fault
def test_confirmed_touch_survives_kill_9(tmp_path: Path) -> None:
    touchbase(tmp_path, "console", "--user", "jane", stdin="/client add Acme\n")
    rounds = int(os.environ.get("TOUCHBASE_KILL_ROUNDS", "5"))
    for i in range(rounds):
        confirmed_then_killed(tmp_path, f"round {i}")
    data = json.loads(touchbase(tmp_path, "export").stdout)
    assert sorted(t["note"] for t in data["touches"]) == sorted(
        f"call with Dana round {i}" for i in range(rounds)
    )


def test_db_upgrade_and_help(tmp_path: Path) -> None:
    run = touchbase(tmp_path, "db", "upgrade")
    assert run.returncode == 0 and "up to date" in run.stdout
    assert (tmp_path / "touchbase.db").exists()
    run = touchbase(tmp_path, "--help")
    assert "console" in run.stdout and "serve" in run.stdout


def test_log_lines_carry_their_context() -> None:
    import logging

    from app.bootstrap import ContextFormatter

    record = logging.LogRecord("bot.app", logging.ERROR, "", 0, "handler failed", (), None)
    record.platform, record.workspace = "slack", 7
    line = ContextFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert line == "ERROR bot.app: handler failed platform=slack workspace=7"
