"""Starting and stopping `touchbase start` as a newcomer does, in real processes: a second start
on a busy port says so in one line, and a clean stop leaves no scheduler lock file behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.common import free_port


def _env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MICROSOFT_APP_", "TOUCHBASE_", "DATABASE_URL"))
    }
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'touchbase.db'}",
            "TOUCHBASE_PORT": str(port),
            "TOUCHBASE_SCHEDULER": "true",
        }
    )
    return env


def _start(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "start"],
        cwd=tmp_path,
        env=_env(tmp_path, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_healthy(proc: subprocess.Popen[str], port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("touchbase start did not become healthy")


def test_second_start_on_a_busy_port_says_so_and_a_clean_stop_removes_the_lock(
    tmp_path: Path,
) -> None:
    port = free_port()
    lock = tmp_path / "touchbase.db.scheduler.lock"
    first = _start(tmp_path, port)
    try:
        _wait_healthy(first, port)
        assert lock.exists()  # the first one runs the scheduler

        second = subprocess.run(
            [sys.executable, "-m", "app.cli", "start"],
            cwd=tmp_path,
            env=_env(tmp_path, port),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert str(port) in lines[0] and "TOUCHBASE_PORT" in lines[0]
        assert "Traceback" not in second.stderr and "scheduler" not in second.stderr.lower()
        assert "running" not in second.stdout  # no banner for a server that isn't there

        first.send_signal(signal.SIGTERM)
        out, err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err
    assert f"127.0.0.1:{port}" in out  # it had said where it was
    assert not lock.exists()  # a clean stop leaves nothing behind
    assert "Traceback" not in err


def test_a_port_in_use_by_anything_else_is_named(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "app.cli", "serve"],
            cwd=tmp_path,
            env=_env(tmp_path, port),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and f"Port {port} is already in use" in result.stderr
    assert "TOUCHBASE_PORT" in result.stderr
    assert not (tmp_path / "touchbase.db").exists()  # nothing was started, not even migrations


def test_one_short_access_line_a_request_and_static_files_quiet(tmp_path: Path) -> None:
    port = free_port()
    server = _start(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(server, port)
        with urllib.request.urlopen(base + "/", timeout=5) as r:
            assert r.status == 200 and len(r.headers["X-Request-Id"]) == 12
        for _ in range(3):
            urllib.request.urlopen(base + "/static/chat.css", timeout=5).close()
        asked = urllib.request.Request(base + "/dashboard", headers={"X-Request-Id": "ab12-cd34"})
        with urllib.request.urlopen(asked, timeout=5) as r:
            assert r.headers["X-Request-Id"] == "ab12-cd34"
        try:
            urllib.request.urlopen(base + "/nowhere%0Afake?code=secret-code", timeout=5)
        except urllib.error.HTTPError as missing:
            assert missing.code == 404
        else:
            raise AssertionError("a page that is not there was served")
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    access = [line for line in err.splitlines() if "aiohttp.access" in line]
    assert len(access) == 3, err  # no line for the health checks or the style sheet
    shape = r"INFO aiohttp\.access: (GET \S+ \d{3}) \d+ ms id=([A-Za-z0-9-]+)$"
    seen = [re.search(shape, line) for line in access]
    assert all(seen), access
    assert [m.group(1) for m in seen if m] == [
        "GET / 200",
        "GET /dashboard 200",
        "GET /nowhere%0Afake 404",  # as sent: a path cannot start a log line of its own
    ]
    assert [m.group(2) for m in seen if m][1] == "ab12-cd34"
    assert all(len(line) < 120 for line in access), access
    assert "secret-code" not in err
