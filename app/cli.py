"""The `touchbase` command: serve, console, db, import, export, digest, teams-package."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from app.bootstrap import Services, bootstrap, configure_logging
from app.settings import Settings
from bot.domain import (
    LOCAL_PLATFORM,
    LOCAL_WORKSPACE_KEY,
    LOCAL_WORKSPACE_NAME,
    Platform,
    Workspace,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="touchbase", description="Keep your firm in regular touch with its clients."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    start = sub.add_parser("start", help="start Touchbase: the server and the web chat")
    start.add_argument("--host", default=None)
    start.add_argument("--port", type=int, default=None)

    serve = sub.add_parser("serve", help="run the HTTP server for Slack, Teams and the web chat")
    serve.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 3978)")

    console = sub.add_parser("console", help="chat with Touchbase in this terminal")
    console.add_argument("--user", default=None, help="who you are (default: your login name)")
    console.add_argument("--tz", default=None, help="your time zone, e.g. Europe/Berlin")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="apply database migrations")

    imp = sub.add_parser("import", help="import data")
    imp_sub = imp.add_subparsers(dest="import_what", metavar="WHAT", required=True)
    imp_clients = imp_sub.add_parser("clients", help="import clients from a CSV file")
    imp_clients.add_argument("file", type=Path)
    imp_clients.add_argument("--workspace", default=None, help=WORKSPACE_HELP)

    exp = sub.add_parser("export", help="export clients and touches")
    exp.add_argument("--format", choices=("json", "csv"), default="json")
    exp.add_argument("--output", type=Path, default=None, help="file to write (default: stdout)")
    exp.add_argument("--workspace", default=None, help=WORKSPACE_HELP)

    dig = sub.add_parser("digest", help="send the morning digests that are due now, once")
    dig.add_argument(
        "--now", default=None, help="act as if it were this time, e.g. 2026-11-23T08:30:00+00:00"
    )
    dig.add_argument(
        "--dry-run", action="store_true", help="print who would get what; send and claim nothing"
    )

    pkg = sub.add_parser(
        "teams-package", help="build the Teams app package (zip) to upload to Microsoft Teams"
    )
    pkg.add_argument(
        "--output", type=Path, default=Path("touchbase-teams.zip"), help="zip file or directory"
    )
    pkg.add_argument("--version", dest="app_version", default="1.0.0", help="app version, x.y.z")
    pkg.add_argument(
        "--public-url", default=None, help="the bot's https:// address, for validDomains"
    )
    return parser


WORKSPACE_HELP = "platform:id, e.g. slack:T0123 (default: the local chat's workspace)"


async def _workspace(services: Services, spec: str | None) -> Workspace:
    if spec is None:
        return await services.store.workspace(
            LOCAL_PLATFORM, LOCAL_WORKSPACE_KEY, LOCAL_WORKSPACE_NAME
        )
    platform, _, external = spec.partition(":")
    try:
        chosen = Platform(platform)
    except ValueError:
        raise SystemExit(
            f"unknown platform {platform!r}: use slack, teams, console or web"
        ) from None
    for ws in await services.store.workspaces():
        if ws.platform is chosen and ws.external_id == external:
            return ws
    raise SystemExit(f"no workspace {spec}: it appears once someone has used Touchbase there")


async def cmd_console(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.console import ConsoleMessenger, run_console

    services = await bootstrap(settings)
    try:
        services.add_messenger(LOCAL_PLATFORM, ConsoleMessenger(sys.stdout))
        user = args.user or getpass.getuser() or "you"
        await run_console(services.app, user, args.tz or settings.default_tz)
    finally:
        await services.close()
    return 0


async def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    services = await bootstrap(settings)  # bootstrap migrates
    await services.close()
    print("The database is up to date.")
    return 0


async def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.transfer import import_clients

    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        print(f"Cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    services = await bootstrap(settings)
    try:
        ws = await _workspace(services, args.workspace)
        async with services.store.unit(ws.id) as uow:
            report = await import_clients(uow, text)
            if not report.ok:
                for problem in report.errors:
                    print(f"{args.file}, line {problem.line}: {problem.problem}", file=sys.stderr)
                print(
                    "Nothing was imported. Fix the lines above and run it again.", file=sys.stderr
                )
                return 1
            await uow.commit()
    finally:
        await services.close()
    print(
        f"Imported {args.file}: {len(report.added)} added, {len(report.updated)} updated, "
        f"{report.unchanged} unchanged, {report.contacts_added} contacts added."
    )
    if report.people_added:
        print(
            "Owners not seen yet (they are linked when they first use Touchbase): "
            + ", ".join(report.people_added)
        )
    return 0


async def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.transfer import export_data, touches_csv

    services = await bootstrap(settings)
    try:
        ws = await _workspace(services, args.workspace)
        async with services.store.unit(ws.id) as uow:
            data = await export_data(uow)
    finally:
        await services.close()
    text = touches_csv(data) if args.format == "csv" else json.dumps(data, indent=2) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


async def cmd_serve(settings: Settings, args: argparse.Namespace, *, banner: bool = False) -> int:
    from adapters.web.auth import WebAccessError, check_bind
    from app.server import serve

    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    try:
        check_bind(settings)
    except WebAccessError as exc:
        print(exc, file=sys.stderr)
        return 2
    return await serve(settings, on_ready=(lambda: web_banner(settings)) if banner else None)


def web_banner(settings: Settings) -> None:
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"  # noqa: S104
    url = f"http://{f'[{host}]' if ':' in host else host}:{settings.port}/"
    print(
        "\n  Touchbase is running. Open the web chat in your browser:\n\n"
        f"      {url}\n\n"
        f"  The firm dashboard is at {url}dashboard\n"
        "  Press Ctrl+C to stop. Prefer the terminal? Run: .venv/bin/touchbase console\n",
        flush=True,
    )


async def cmd_start(settings: Settings, args: argparse.Namespace) -> int:
    """The newcomer's command: the server, with the web chat at http://127.0.0.1:3978/.

    Without Slack or Teams credentials the web chat is the way in, so its address is printed."""
    configured = settings.slack.configured or settings.teams.configured
    return await cmd_serve(settings, args, banner=not configured)


async def cmd_digest(settings: Settings, args: argparse.Namespace) -> int:
    """One digest sweep, as the scheduler runs it each minute. Without Slack or Teams configured
    the digests are printed here (the console messenger)."""
    from datetime import UTC, datetime

    from adapters.console import ConsoleMessenger, render
    from app.platforms import Platforms, build_platforms
    from bot.clock import FixedClock
    from bot.digest import run_sweep
    from scheduler import worker_id

    clock = None
    if args.now:
        try:
            at = datetime.fromisoformat(args.now)
        except ValueError:
            print(f"--now: not a date and time: {args.now!r}", file=sys.stderr)
            return 2
        clock = FixedClock(at if at.tzinfo else at.replace(tzinfo=UTC))
    services = await bootstrap(settings, clock=clock)
    platforms: Platforms | None = None
    try:
        if settings.slack.configured or settings.teams.configured:
            # The platforms and their messengers as `serve` builds them, without HTTP routes.
            platforms = build_platforms(services)
        console = ConsoleMessenger(sys.stdout)
        messengers = {p: services.messengers.get(p, console) for p in Platform}
        report = await run_sweep(
            services.store,
            messengers,
            services.clock,
            services.app.config,
            f"cli:{worker_id()}",
            dry_run=args.dry_run,
            concurrency=services.app.config.digest_concurrency,
        )
    finally:
        if platforms is not None:
            await platforms.close()
        await services.close()
    if args.dry_run:
        for person, message in report.planned:
            print(f"--- {person.display_name} ({person.tz}) ---")
            print(render(message) if message else "(nothing due: no message)")
        print(f"{sum(1 for _, m in report.planned if m)} digests would be sent.")
        return 0
    print(
        f"Digests: {len(report.sent)} sent, {len(report.empty)} with nothing due, "
        f"{len(report.retrying)} to retry, {len(report.failed)} failed."
    )
    return 0 if not report.failed else 1


async def cmd_teams_package(settings: Settings, args: argparse.Namespace) -> int:
    """The Teams app package: its own manifest.json (not the Slack one at the root) and icons."""
    from adapters.manifests import build_teams_package

    bot_id = settings.teams.id.strip()
    if not bot_id:
        print(
            "MICROSOFT_APP_ID is not set. It is the Application (client) ID of the bot's Azure "
            "Bot registration; set it (in the environment or .env) and run this again.",
            file=sys.stderr,
        )
        return 2
    try:
        path = build_teams_package(
            args.output, bot_id, version=args.app_version, public_url=args.public_url
        )
    except ValueError as exc:
        print(f"Cannot build the Teams package: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote {path}. Upload it in Teams: Apps > Manage your apps > Upload an app.")
    return 0


COMMANDS = {
    "teams-package": cmd_teams_package,
    "digest": cmd_digest,
    "console": cmd_console,
    "db": cmd_db,
    "import": cmd_import,
    "export": cmd_export,
    "serve": cmd_serve,
    "start": cmd_start,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    settings = Settings()
    configure_logging(settings.log_level)
    try:
        return asyncio.run(COMMANDS[args.command](settings, args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
