"""Ingress: signed Slack `/touch` requests through `touchbase serve`, against a bare bolt app.

    python -m bench.ingress --engine sqlite                    # 1,000 clients in the workspace
    python -m bench.ingress --engine postgres    # TOUCHBASE_BENCH_PG_URL, default tb_prove_bench
    python -m bench.ingress --engine sqlite --clients 10000 --requests 1000

Both servers run as separate processes on loopback, with Slack's Web API played by FakeSlackApi
in this process. The baseline is a bare slack-bolt AsyncApp that only acks `/touch`, behind the
same aiohttp route. At 16 and 64 concurrent clients it reports throughput, p50 and p99 and the
ratios (goals: at least 0.8x the bare app's throughput at 16, 0.4x at 64, at most 2x its p99).
The two take turns (`--turns`, three by default) and each ratio is the median over the turns of
Touchbase against the bare run just before it. On two CPUs or more both servers run on the last
CPU and the load generator on the others (`--no-pin` lets them share), as Slack's requests
come from other machines: sharing a core with the load generator, the CPU-bound server's
figures moved by a third between runs minutes apart, the latency-bound bare app's hardly.
Before each run a fixed loop of plain Python is timed on the servers' CPU ("cpu check"), so a
slow run on a slow machine shows as such. Then the event-loop
check: Touchbase again with asyncio debug on (PYTHONASYNCIODEBUG=1, slow_callback_duration
0.1 s), counting the "Executing ... took" warnings and the longest one.

The workspace holds `--clients` clients (default 1,000: a realistic firm; names of several
words, an alias each), seeded after Touchbase's first request created the workspace. At the
end every confirmed touch is counted in the database (`stored` in the JSON line must equal
`confirmed`). The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench.common import (
    TEAM,
    USER,
    ServeProcess,
    command_body,
    cpu_check,
    machine,
    percentile,
    pin,
    signed_headers,
    today,
)

PG_URL = os.environ.get("TOUCHBASE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1/tb_prove_bench")

BARE_SERVER = """
import asyncio, os, sys
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_sdk.web.async_client import AsyncWebClient

async def main() -> None:
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    bolt = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client)

    @bolt.command("/touch")
    async def touch(ack):
        await ack(response_type="ephemeral", text="ok")

    async def events(request):
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(request):
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(sys.argv[1])).start()
    await asyncio.Event().wait()

asyncio.run(main())
"""


class BareProcess(ServeProcess):
    async def start(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        import subprocess

        script = self.cwd / "bare_bolt.py"
        script.write_text(BARE_SERVER)
        self.proc = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, str(script), str(self.port)],
            cwd=self.cwd,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        await self._wait_healthy(timeout)


@dataclass
class Run:
    name: str
    concurrency: int
    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    cpu_check_ms: float = 0.0  # bench.common.cpu_check just before the run

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99) * 1000


CONFIRMED = 0  # /touch answers that said "Logged", over every Touchbase run


async def load(
    url: str, concurrency: int, requests: int, tag: str
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            global CONFIRMED
            nonlocal errors
            for i in counter:
                body = command_body(f"Acme call with Dana {tag} {i}")
                started = time.perf_counter()
                async with http.post(
                    f"{url}/slack/events", data=body.encode(), headers=signed_headers(body)
                ) as response:
                    text = await response.text()
                latencies.append(time.perf_counter() - started)
                CONFIRMED += "Logged" in text
                if response.status != 200 or ("Logged" not in text and "ok" not in text):
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, errors


GOALS = {16: 0.8, 64: 0.4}  # throughput against the bare app, by concurrency


def turn_ratios(runs: list[Run], concurrency: int) -> tuple[float, float]:
    """Median over the turns of (throughput, p99) of Touchbase against the bare app's run
    just before it, at one concurrency."""
    bare = [r for r in runs if r.name == "bare bolt" and r.concurrency == concurrency]
    ours = [r for r in runs if r.name == "touchbase" and r.concurrency == concurrency]
    pairs = list(zip(bare, ours, strict=True))
    return (
        statistics.median(o.throughput / b.throughput for b, o in pairs),
        statistics.median(o.p99 / b.p99 for b, o in pairs),
    )


async def prepare(server: ServeProcess) -> None:
    async with aiohttp.ClientSession() as http:
        body = command_body("add Acme", command="/client")
        async with http.post(
            f"{server.url}/slack/events", data=body.encode(), headers=signed_headers(body)
        ) as response:
            assert response.status == 200, await response.text()


async def seed_clients(db_url: str, clients: int) -> None:
    """Fill the workspace `prepare` created up to `clients` clients (Acme is one of them)."""
    from sqlalchemy import select

    from bench.sweep import bulk
    from bench.touch import client_names
    from store.db import create_engine
    from store.models import ClientRow, WorkspaceRow

    engine = create_engine(db_url)
    async with engine.connect() as conn:
        ws = await conn.scalar(select(WorkspaceRow.id).where(WorkspaceRow.external_id == TEAM))
        start = await conn.scalar(select(ClientRow.id).order_by(ClientRow.id.desc()).limit(1))
    created = datetime.now(UTC)
    rows = [
        {
            "id": (start or 0) + 1 + i,
            "workspace_id": ws,
            "name": name,
            "name_key": name.casefold(),
            "aliases": [f"{name.split()[0]}{i}"],
            "status": "active",
            "created_at": created,
        }
        for i, name in enumerate(client_names(max(clients - 1, 0)))
    ]
    await bulk(engine, ClientRow.__table__, rows)
    await engine.dispose()


async def stored_touches(db_url: str) -> int:
    from sqlalchemy import text

    from store.db import create_engine

    engine = create_engine(db_url)
    async with engine.connect() as conn:
        count = await conn.scalar(text("SELECT count(*) FROM touch"))
    await engine.dispose()
    return int(count or 0)


async def reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from store.db import create_engine

    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=2000, help="per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--clients", type=int, default=1000, help="clients in the workspace")
    parser.add_argument(
        "--turns", type=int, default=3, help="turns of bare then Touchbase at each level"
    )
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="let the servers share every CPU with the load generator",
    )
    args = parser.parse_args()

    from tests.fakes.slack_api import FakeSlackApi

    workdir = Path(tempfile.mkdtemp(prefix="tb-ingress-"))
    db_url = f"sqlite:///{workdir / 'touchbase.db'}" if args.engine == "sqlite" else PG_URL
    if args.engine == "postgres":
        await reset_postgres(db_url)

    runs: list[Run] = []
    loop_report = ""
    async with FakeSlackApi(team_id=TEAM) as fake:
        fake.add_user(USER, "ada", tz="Europe/London", email="ada@example.com")
        cpus = pin(args.pin)
        bare_server = BareProcess(db_url, fake.base_url, workdir, cpus=cpus)
        ours = ServeProcess(db_url, fake.base_url, workdir, cpus=cpus)
        try:
            await bare_server.start()
            await ours.start()
            await prepare(ours)
            await seed_clients(db_url, args.clients)
            for server in (bare_server, ours):
                await load(server.url, 8, 200, "warmup")
            # Bare and Touchbase take turns, so a change in the machine's load meets both.
            for turn in range(args.turns):
                for c in args.concurrency:
                    for name, server in (("bare bolt", bare_server), ("touchbase", ours)):
                        check = cpu_check(cpus)
                        seconds, latencies, errors = await load(
                            server.url, c, args.requests, f"c{c}t{turn}"
                        )
                        runs.append(Run(name, c, args.requests, seconds, latencies, errors, check))
        finally:
            bare_server.kill()
            ours.kill()

        # The event-loop check: asyncio debug mode in the server, 64 concurrent.
        server = ServeProcess(
            db_url, fake.base_url, workdir, extra_env={"PYTHONASYNCIODEBUG": "1"}, cpus=cpus
        )
        await server.start()
        opened = datetime.now()  # healthy: the port is open (same clock as the server's log)
        try:
            await load(server.url, max(args.concurrency), args.requests // 2, "debug")
        finally:
            server.terminate()
            await server.wait(timeout=20)
            stderr = (
                server.proc.stderr.read().decode() if server.proc and server.proc.stderr else ""
            )
        slow = re.findall(
            r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) .*?took ([0-9.]+) seconds",
            stderr,
            re.MULTILINE,
        )
        took = [float(x) for _day, _ms, x in slow]
        after = [
            float(x)
            for day, ms, x in slow
            if datetime.strptime(f"{day}.{ms}", "%Y-%m-%d %H:%M:%S.%f") >= opened
        ]
        loop_report = (
            f"callbacks over 100 ms: {len(took)}, longest {max(took, default=0) * 1000:.0f} ms; "
            f"after the port opened: {len(after)}, longest {max(after, default=0) * 1000:.0f} ms"
        )

    stored = await stored_touches(db_url)
    print(
        f"# ingress, {args.engine}, {machine()}, {today()}, {args.requests} requests per level, "
        f"{args.clients} clients, load average {os.getloadavg()[0]:.1f}, "
        f"servers on CPU {sorted(cpus) if cpus else 'any'}"
    )
    print(
        f"{'server':<10} {'conc':>4} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
        f"{'cpu check ms':>12}"
    )
    for r in runs:
        print(
            f"{r.name:<10} {r.concurrency:>4} {r.throughput:>8.0f} {r.p50:>8.1f} {r.p99:>8.1f} "
            f"{r.errors:>6} {r.cpu_check_ms:>12.0f}"
        )
    ratios = {c: turn_ratios(runs, c) for c in args.concurrency}
    for c, (tput, p99) in ratios.items():
        print(
            f"c={c}: throughput {tput:.2f}x bare (goal >= {GOALS.get(c, 0.8)}: "
            f"{'met' if tput >= GOALS.get(c, 0.8) else 'MISSED'}), p99 {p99:.2f}x bare "
            f"(goal <= 2: {'met' if p99 <= 2 else 'MISSED'}), median of {args.turns} turns"
        )
    print(f"event loop (asyncio debug, c={max(args.concurrency)}): {loop_report}")
    print(f"confirmed touches {CONFIRMED}, stored {stored}")
    first = min(args.concurrency)
    result = {
        "bench": "ingress",
        "engine": args.engine,
        "concurrency": first,
        "clients": args.clients,
        "turns": args.turns,
        "pinned": cpus is not None,
        "throughput_ratio": round(ratios[first][0], 2),
        "p99_ratio": round(ratios[first][1], 2),
        "errors": sum(r.errors for r in runs),
        **{
            f"throughput_ratio_c{c}": round(ratios[c][0], 2) for c in args.concurrency if c != first
        },
        **{f"p99_ratio_c{c}": round(ratios[c][1], 2) for c in args.concurrency if c != first},
        "cpu_check_ms": [round(r.cpu_check_ms) for r in runs if r.name == "touchbase"],
        "slow_callbacks_after_open": len(after),
        "slow_callbacks": loop_report,
        "confirmed": CONFIRMED,
        "stored": stored,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
