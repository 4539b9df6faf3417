"""Shared by the benchmarks and the fault tests: `touchbase serve` as a real process, signed Slack
requests, percentiles. Loopback only."""

from __future__ import annotations

import asyncio
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"
TEAM = "T0BENCH"
USER = "U0ADA"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def signed_headers(body: str, secret: str = SIGNING_SECRET) -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
    }


def command_body(
    text: str,
    *,
    command: str = "/touch",
    response_url: str = "",
    team: str = TEAM,
    user: str = USER,
    trigger_id: str | None = None,
) -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": team,
            "team_domain": "bench",
            "channel_id": "C0GENERAL",
            "channel_name": "general",
            "user_id": user,
            "user_name": "ada",
            "command": command,
            "text": text,
            "api_app_id": "A0BENCH",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or f"{time.time():.0f}.{uuid.uuid4().hex}",
        }
    )


def pin(requested: bool) -> set[int] | None:
    """With `requested` and two CPUs or more: the servers get the last CPU to themselves and
    this process (the load generator) the others, as a platform's requests come from other
    machines. Returns the servers' CPUs, or None (anywhere)."""
    cpus = sorted(os.sched_getaffinity(0))
    if not requested or len(cpus) < 2:
        return None
    os.sched_setaffinity(0, set(cpus[:-1]))
    return {cpus[-1]}


_SPIN = "import time\nt = time.process_time()\nn = 0\nfor i in range(2_000_000):\n    n += i * i\nprint(time.process_time() - t)\n"


def cpu_check(cpus: set[int] | None) -> float:
    """Milliseconds of CPU a fixed loop of plain Python takes on `cpus` (the servers' CPU)
    right now: the same on a machine that stays the same, so a slow run can be told from a
    slow machine."""

    def on_cpus() -> None:
        if cpus:
            os.sched_setaffinity(0, cpus)

    out = subprocess.run(
        [sys.executable, "-c", _SPIN],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=on_cpus,
    )
    return float(out.stdout) * 1000


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def machine() -> str:
    return f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"


def today() -> str:
    return date.today().isoformat()


@dataclass
class ServeProcess:
    """`python -m app.cli serve` on a free loopback port, Slack over HTTP at `api_url`."""

    database_url: str
    api_url: str
    cwd: Path
    extra_env: Mapping[str, str] = field(default_factory=dict)
    cpus: set[int] | None = None  # the CPUs the server may run on (None: any)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "MICROSOFT_APP_", "TOUCHBASE_", "DATABASE_URL"))
        }
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": self.api_url,
                "TOUCHBASE_SCHEDULER": "false",
                "TOUCHBASE_PORT": str(self.port),
                "LOG_LEVEL": "WARNING",
            }
        )
        env.update(self.extra_env)
        return env

    async def start(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        self.proc = subprocess.Popen(  # noqa: ASYNC220  (returns at once)
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
            cwd=self.cwd,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        await self._wait_healthy(timeout)

    async def _wait_healthy(self, timeout: float) -> None:  # noqa: ASYNC109
        assert self.proc is not None
        if self.cpus:  # before it starts its threads, which inherit it
            os.sched_setaffinity(self.proc.pid, self.cpus)
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                    raise RuntimeError(f"touchbase serve exited {self.proc.returncode}: {err}")
                try:
                    async with http.get(f"{self.url}/healthz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        self.kill()
        raise TimeoutError("touchbase serve did not become healthy")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    async def wait(self, timeout: float) -> int:  # noqa: ASYNC109
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        if self.proc.poll() is None:
            self.kill()
            raise TimeoutError(f"still running {timeout} s after the signal")
        return self.proc.returncode
