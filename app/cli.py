"""The `touchbase` command: serve, console, db, import, export, digest, teams-package."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from adapters.progress import Progress
from app.bootstrap import Services, bootstrap, configure_logging
from app.settings import Settings
from bot.domain import (
    LOCAL_PLATFORM,
    LOCAL_WORKSPACE_KEY,
    LOCAL_WORKSPACE_NAME,
    Platform,
    Workspace,
)
from bot.transfer import FIELDS


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
    imp_clients = imp_sub.add_parser(
        "clients",
        help="import clients from a CSV file (ours, Outlook, Salesforce, Act!, GoldMine, HubSpot)",
    )
    imp_clients.add_argument("file", type=Path)
    imp_clients.add_argument(
        "--map",
        dest="mapping",
        default=None,
        metavar='"Header=field,…"',
        help="say what columns mean: fields are " + ", ".join(FIELDS),
    )
    imp_clients.add_argument(
        "--dates",
        choices=("us", "day-first"),
        default=None,
        help="how numeric dates are written, when the file does not settle it",
    )
    imp_clients.add_argument(
        "--overwrite",
        action="store_true",
        help="replace values already set in Touchbase with the file's (each is listed)",
    )
    imp_contacts = imp_sub.add_parser("contacts", help="import key people from a vCard file")
    imp_contacts.add_argument("file", type=Path)
    imp_contacts.add_argument("--overwrite", action="store_true", help=argparse.SUPPRESS)
    for p in (imp_clients, imp_contacts):
        p.add_argument(
            "--dry-run", action="store_true", help="show what would change; save nothing"
        )
        p.add_argument("--encoding", default=None, help="the file's encoding, if not detected")
        p.add_argument("--workspace", default=None, help=WORKSPACE_HELP)

    imp_backup = imp_sub.add_parser(
        "backup", help="restore a `touchbase export --format json` into an empty workspace"
    )
    imp_backup.add_argument("file", type=Path)
    imp_backup.add_argument(
        "--merge",
        action="store_true",
        help="restore into a workspace that has clients: those are kept, the rest is added",
    )
    imp_backup.add_argument("--workspace", default=None, help=WORKSPACE_HELP)

    exp = sub.add_parser("export", help="export the workspace (JSON) or one table (CSV)")
    exp.add_argument("--format", choices=("json", "csv"), default="json")
    exp.add_argument(
        "--table",
        choices=("touches", "clients", "people"),
        default="touches",
        help="with --format csv: which table (default: touches)",
    )
    exp.add_argument(
        "--output",
        type=Path,
        default=None,
        help="file to write, readable by you only (default: stdout)",
    )
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
    if args.import_what == "backup":
        return await cmd_restore(settings, args)
    from adapters.files import DecodeError, read_cards, read_text
    from bot.transfer import ImportError_, describe, import_cards, import_clients, parse_map

    try:
        decoded = read_text(args.file, args.encoding)
        mapping = parse_map(args.mapping) if getattr(args, "mapping", None) else None
        cards = read_cards(decoded.text) if args.import_what == "contacts" else None
    except OSError as exc:
        print(f"Cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except (DecodeError, ImportError_) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    services = await bootstrap(settings)
    try:
        ws = await _workspace(services, args.workspace)
        async with services.store.unit(ws.id) as uow:
            with Progress(f"Reading {args.file.name}") as progress:
                if cards is not None:
                    report = await import_cards(
                        uow, cards, overwrite=args.overwrite, progress=progress
                    )
                else:
                    report = await import_clients(
                        uow,
                        decoded.text,
                        mapping,
                        today=services.clock.now().date(),
                        dates=args.dates,
                        overwrite=args.overwrite,
                        progress=progress,
                    )
            report.encoding = decoded.encoding
            if not report.ok:
                for problem in report.errors:
                    print(f"{args.file}, line {problem.line}: {problem.problem}", file=sys.stderr)
                print(
                    "Nothing was imported. Fix the lines above and run it again.", file=sys.stderr
                )
                return 1
            if not args.dry_run:
                await uow.commit()
    finally:
        await services.close()
    delimiter = {",": "comma", ";": "semicolon", "\t": "tab"}.get(report.delimiter, "")
    shape = report.source if report.source == "vCard" else f"{report.source}, {delimiter}-separated"
    print(
        f"{'Dry run of' if args.dry_run else 'Imported'} {args.file} "
        f"({shape}, {decoded.encoding}){': nothing is saved' if args.dry_run else ''}."
    )
    for line in describe(report, dry_run=args.dry_run):
        print(line)
    return 0


async def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.files import write_private
    from bot.backup import CSV_TABLES, export_data

    services = await bootstrap(settings)
    try:
        ws = await _workspace(services, args.workspace)
        async with services.store.unit(ws.id) as uow:
            with Progress("Exporting", "tables") as progress:
                data = await export_data(uow, progress)
    finally:
        await services.close()
    if args.format == "csv":
        text = CSV_TABLES[args.table](data)
    else:
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        try:
            write_private(args.output, text)
        except OSError as exc:
            print(f"Cannot write {args.output}: {exc.strerror}", file=sys.stderr)
            return 2
        print(f"Wrote {args.output}.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


async def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from bot.backup import BackupError, restore

    try:
        document = json.loads(args.file.read_bytes())
    except OSError as exc:
        print(f"Cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"{args.file} is not JSON: {exc}", file=sys.stderr)
        return 2
    services = await bootstrap(settings)
    try:
        ws = await _workspace(services, args.workspace)
        async with services.store.unit(ws.id) as uow:
            try:
                with Progress(f"Restoring {args.file.name}", "records") as progress:
                    report = await restore(uow, document, merge=args.merge, progress=progress)
            except BackupError as exc:
                print(f"{args.file}: {exc}. Nothing was restored.", file=sys.stderr)
                return 1
            await uow.commit()
    finally:
        await services.close()
    parts = ", ".join(f"{n} {what}" for what, n in report.counts.items())
    print(f"Restored {args.file} into {ws.name or ws.external_id}: {parts}.")
    if report.kept_clients:
        print(
            f"Kept as they are here ({len(report.kept_clients)}): " + ", ".join(report.kept_clients)
        )
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
