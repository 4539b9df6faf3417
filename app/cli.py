"""The `touchbase` command: serve, console, db, import, export, digest, summary, capture,
workspaces, teams-package."""

from __future__ import annotations

import argparse
import asyncio
import calendar
import errno
import getpass
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adapters.progress import Progress
from app.bootstrap import Services, bootstrap, configure_logging
from app.settings import Settings
from bot.clock import FixedClock
from bot.domain import (
    LOCAL_PLATFORM,
    LOCAL_WORKSPACE_KEY,
    LOCAL_WORKSPACE_NAME,
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
    db_sub.add_parser("new-key", help="print a new key for TOUCHBASE_SECRET_KEYS")
    db_sub.add_parser(
        "rotate-keys",
        help="encrypt every stored Slack token and calendar address with the first key of "
        "TOUCHBASE_SECRET_KEYS",
    )

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
        "backup",
        help="restore a `touchbase export --format json` (with --with-secrets or without) into "
        "an empty workspace",
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
    exp.add_argument(
        "--with-secrets",
        action="store_true",
        help="with --format json: include people's secret calendar addresses (the document "
        "says so, and a restore brings them back); keep the file safe",
    )
    exp.add_argument("--workspace", default=None, help=WORKSPACE_HELP)

    dig = sub.add_parser("digest", help="send the morning digests that are due now, once")
    dig.add_argument(
        "--now", default=None, help="act as if it were this time, e.g. 2026-11-23T08:30:00+00:00"
    )
    dig.add_argument(
        "--dry-run", action="store_true", help="print who would get what; send and claim nothing"
    )
    dig.add_argument("--workspace", default=None, help=WORKSPACE_HELP)

    summ = sub.add_parser("summary", help="post the weekly firm summary to the channel, once")
    summ.add_argument(
        "--now", default=None, help="act as if it were this time, e.g. 2026-11-23T09:00:00+00:00"
    )
    summ.add_argument(
        "--dry-run", action="store_true", help="print the summary; post and claim nothing"
    )
    summ.add_argument("--workspace", default=None, help=WORKSPACE_HELP)

    cap = sub.add_parser(
        "capture", help="read calendars and mail once for client meetings (metadata only)"
    )
    cap.add_argument(
        "--now", default=None, help="act as if it were this time, e.g. 2026-11-23T09:00:00+00:00"
    )
    cap.add_argument(
        "--workspace", default=None, help="only this workspace, platform:key (default: all)"
    )
    cap_sub = cap.add_subparsers(dest="capture_what", metavar="WHAT")
    cap_ics = cap_sub.add_parser("ics", help="read one iCalendar (.ics) file for one person")
    cap_ics.add_argument("file", type=Path)
    cap_ics.add_argument(
        "--person", required=True, help="whose calendar: their name, e-mail or platform id"
    )
    cap_ics.add_argument("--workspace", dest="ics_workspace", default=None, help=WORKSPACE_HELP)
    cap_ics.add_argument("--now", dest="ics_now", default=None, help=argparse.SUPPRESS)

    sub.add_parser("workspaces", help="list the workspaces: platform, key, name, people, clients")

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


WORKSPACE_HELP = (
    "platform:key, e.g. slack:T0123 (see touchbase workspaces; default: the one in use)"
)


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


async def _workspace(services: Services, spec: str | None) -> Workspace | None:
    """The workspace a command acts on (app.workspaces); None for a local trial not yet
    begun. Exit 2, naming the choices, when none or several fit."""
    from app.workspaces import WorkspaceChoiceError, choose_workspace

    try:
        return await choose_workspace(services.store, services.settings, spec)
    except WorkspaceChoiceError as exc:
        print(f"touchbase: {exc}", file=sys.stderr)
        raise _Exit(2) from None


def _when(value: str | None) -> FixedClock | None:
    """--now, as a clock; exit 2 when it is not a date and time."""
    from datetime import UTC, datetime

    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        print(f"--now: not a date and time: {value!r}", file=sys.stderr)
        raise _Exit(2) from None
    return FixedClock(at if at.tzinfo else at.replace(tzinfo=UTC))


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
    from store.secrets import SecretKeyError, TokenCipher

    if args.db_command == "new-key":
        print(TokenCipher.new_key())
        return 0
    services = await bootstrap(settings)  # bootstrap migrates
    try:
        if args.db_command == "rotate-keys":
            from app.platforms import token_cipher
            from store.capture import rotate_feed_keys
            from store.slack_installations import rotate_keys

            try:
                cipher = token_cipher(settings, required=True)
                count = await rotate_keys(services.store, cipher)
                feeds = await rotate_feed_keys(services.store.sessions, cipher)
            except SecretKeyError as exc:
                print(exc, file=sys.stderr)
                return 1
            print(f"{count} Slack installation(s) now encrypted with the first key.")
            print(f"{feeds} calendar address(es) now encrypted with the first key.")
            return 0
    finally:
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
        if ws is None:  # the local trial, begun by this import
            ws = await services.store.workspace(
                LOCAL_PLATFORM, LOCAL_WORKSPACE_KEY, LOCAL_WORKSPACE_NAME
            )
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


SECRETS_WARNING = (
    "Warning: this export holds secrets: people's private calendar addresses. Anyone who has "
    "the file can read those calendars. Keep it where only you can read it and delete it once "
    "restored; an export without --with-secrets leaves them out."
)


async def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.files import write_private
    from bot.backup import CSV_TABLES, export_data

    secrets = bool(args.with_secrets)
    if secrets and args.format != "json":
        print("--with-secrets is for --format json, the full export.", file=sys.stderr)
        return 2
    if secrets and not args.output and sys.stdout.isatty():
        print(
            "--with-secrets: give --output FILE (written readable by you only) rather than "
            "showing secrets on the terminal.",
            file=sys.stderr,
        )
        return 2
    services = await bootstrap(settings)
    try:
        ws = await _workspace(services, args.workspace)
        data: dict[str, Any] = {"clients": [], "touches": []}
        if ws is not None:
            async with services.store.unit(ws.id) as uow:
                with Progress("Exporting", "tables") as progress:
                    data = await export_data(uow, progress, secrets=secrets)
        print(
            f"Exported {ws.name if ws else LOCAL_WORKSPACE_NAME} "
            f"({ws.platform.value + ':' + ws.external_id if ws else 'console:local'}): "
            f"{len(data['clients'])} clients, {len(data['touches'])} touches.",
            file=sys.stderr,
        )
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
    if secrets:
        print(SECRETS_WARNING, file=sys.stderr)
    return 0


async def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from bot.backup import BackupError, restore
    from store.secrets import SecretKeyError

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
        if ws is None:  # the local trial, begun by this restore
            ws = await services.store.workspace(
                LOCAL_PLATFORM, LOCAL_WORKSPACE_KEY, LOCAL_WORKSPACE_NAME
            )
        async with services.store.unit(ws.id) as uow:
            try:
                with Progress(f"Restoring {args.file.name}", "records") as progress:
                    report = await restore(
                        uow,
                        document,
                        merge=args.merge,
                        progress=progress,
                        now=services.clock.now(),
                    )
            except BackupError as exc:
                print(f"{args.file}: {exc}. Nothing was restored.", file=sys.stderr)
                return 1
            except SecretKeyError as exc:  # calendar addresses, and no key to encrypt them
                print(f"{args.file}: {exc} Nothing was restored.", file=sys.stderr)
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
    from app.server import DatabaseNotWritable, serve
    from store.secrets import SecretKeyError

    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    try:
        check_bind(settings)
    except WebAccessError as exc:
        print(exc, file=sys.stderr)
        return 2
    # Bind first: a busy port is said in one line, before migrations or the scheduler start.
    problem = await cannot_listen(settings.host, settings.port)
    if problem is None:
        try:
            return await serve(
                settings, on_ready=(lambda: web_banner(settings)) if banner else None
            )
        except (DatabaseNotWritable, SecretKeyError) as exc:
            print(exc, file=sys.stderr)
            return 1
        except OSError as exc:  # taken in the moment since the check
            if exc.errno not in _LISTEN_ERRORS:
                raise
            problem = exc
    print(listen_error(settings.host, settings.port, problem), file=sys.stderr)
    return 1


_LISTEN_ERRORS = (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL)


async def cannot_listen(host: str, port: int) -> OSError | None:
    """Why the server could not listen on host:port (as aiohttp would bind it), or None."""
    loop = asyncio.get_running_loop()
    try:
        server = await loop.create_server(asyncio.Protocol, host, port)
    except OSError as exc:
        return exc
    server.close()
    await server.wait_closed()
    return None


def listen_error(host: str, port: int, exc: OSError) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"Port {port} is already in use on {host}, perhaps by another Touchbase. "
            f"Stop that one, or choose another port with TOUCHBASE_PORT (or --port)."
        )
    if exc.errno == errno.EACCES:
        return (
            f"Not allowed to listen on port {port}. Choose a port above 1023 with "
            f"TOUCHBASE_PORT (or --port)."
        )
    reason = exc.strerror or str(exc)
    return f"Can't listen on {where}: {reason}. Check TOUCHBASE_HOST (or --host)."


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
    """One digest sweep of the chosen workspace, as the scheduler runs it each minute. Digests
    of the local chats are printed here (the console messenger); a Slack or Teams person's is
    sent by that platform, or, with no messenger for it here, left for a sweep that has one."""
    from adapters.console import ConsoleMessenger, render
    from app.platforms import Platforms, build_platforms
    from app.workspaces import LOCAL_PLATFORMS
    from bot.digest import run_sweep
    from scheduler import worker_id

    services = await bootstrap(settings, clock=_when(args.now))
    platforms: Platforms | None = None
    try:
        ws = await _workspace(services, args.workspace)
        if ws is None:
            print("Nobody has used Touchbase here yet: no digests to send.")
            return 0
        # The platforms and their messengers as `serve` builds them, without HTTP routes.
        platforms = build_platforms(services)
        console = ConsoleMessenger(sys.stdout)
        messengers = dict(services.messengers)
        for local in LOCAL_PLATFORMS:
            messengers.setdefault(local, console)
        report = await run_sweep(
            services.store,
            messengers,
            services.clock,
            services.app.config,
            f"cli:{worker_id()}",
            dry_run=args.dry_run,
            concurrency=services.app.config.digest_concurrency,
            workspace_id=ws.id,
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
    if report.unreachable:
        by = sorted({p.display_name for p in report.unreachable})
        print(
            f"Not sent, and left for the server to send: {len(report.unreachable)} due on a "
            f"platform not configured here ({', '.join(by[:10])}"
            + (", …" if len(by) > 10 else "")
            + "). Set its credentials to send them from here."
        )
    return 0 if not report.failed else 1


async def cmd_summary(settings: Settings, args: argparse.Namespace) -> int:
    """The weekly firm summary of the chosen workspace: posted to its relationships channel
    once a week (as the scheduler does), or printed with --dry-run."""
    from adapters.console import ConsoleMessenger, render
    from app.platforms import Platforms, build_platforms
    from app.workspaces import LOCAL_PLATFORMS
    from bot.clock import zone
    from bot.ownership import post_weekly_summaries, summary_message, weekly_figures

    services = await bootstrap(settings, clock=_when(args.now))
    platforms: Platforms | None = None
    try:
        ws = await _workspace(services, args.workspace)
        if ws is None:
            print("Nobody has used Touchbase here yet: no summary to post.")
            return 0
        config = services.app.config
        if args.dry_run:
            today = services.clock.now().astimezone(zone(config.default_tz)).date()
            async with services.store.unit(ws.id) as uow:
                message = summary_message(await weekly_figures(uow, today, config))
            where = "the relationships channel" if ws.channel else "no channel yet"
            print(f"--- weekly summary for {ws.name} ({where}) ---")
            print(render(message))
            return 0
        if ws.channel is None:
            print(
                f"{ws.name} has no relationships channel yet: an admin types /touchbase channel "
                "in the channel to choose it. Preview the summary with --dry-run.",
                file=sys.stderr,
            )
            return 1
        platforms = build_platforms(services)
        messengers = dict(services.messengers)
        for local in LOCAL_PLATFORMS:
            messengers.setdefault(local, ConsoleMessenger(sys.stdout))
        if ws.platform not in messengers:
            print(
                f"No {ws.platform.value.capitalize()} credentials here: the summary was not "
                "posted (nor claimed). Set them, or let the server post it.",
                file=sys.stderr,
            )
            return 1
        outcome = await post_weekly_summaries(
            services.store, messengers, services.clock, config, workspace_id=ws.id
        )
    finally:
        if platforms is not None:
            await platforms.close()
        await services.close()
    status = outcome.get(ws.id)
    if status is None:
        print(
            f"Nothing posted: the summary goes out on {calendar.day_name[config.summary_weekday]}s "
            f"from "
            f"{config.summary_hour}:00, once a week, and this week's may be out already. "
            "Preview it with --dry-run."
        )
        return 0
    print(f"Weekly summary for {ws.name}: {status}.")
    return 0 if status == "sent" else 1


async def cmd_workspaces(settings: Settings, args: argparse.Namespace) -> int:
    from app.workspaces import workspace_lines

    services = await bootstrap(settings)
    try:
        lines = await workspace_lines(services.store, settings)
    finally:
        await services.close()
    if not lines:
        print("No workspaces yet: one appears when someone first uses Touchbase.")
        return 0
    rows = [("platform", "key", "name", "people", "clients", "active")]
    rows += [
        (
            line.workspace.platform.value,
            line.workspace.external_id,
            line.workspace.name,
            str(line.people),
            str(line.clients),
            "paused" if not line.workspace.active else ("yes" if line.active else "no"),
        )
        for line in lines
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return 0


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


async def cmd_capture(settings: Settings, args: argparse.Namespace) -> int:
    """One capture pass over every configured source, as the scheduler runs it hourly (without
    the hourly claim), or one .ics file for one person."""
    if args.capture_what == "ics":
        return await _capture_file(settings, args)
    from bot.capture import run_capture

    services = await bootstrap(settings, clock=_when(args.now))
    try:
        only = None
        if args.workspace:
            ws = await _workspace(services, args.workspace)
            only = [ws.id] if ws else []
        report = await run_capture(
            services.store,
            services.clock,
            services.app.config,
            services.capture_sources,
            workspace_ids=only,
        )
    finally:
        await services.close()
    done = report.ingested
    print(
        f"Capture: {report.people} people read in {report.workspaces} workspaces; "
        f"{done.added} new, {done.updated} updated, {done.logged} logged as touches, "
        f"{done.ignored} not with a client."
        + (f" {report.failed} reads failed (tried again next time)." if report.failed else "")
    )
    return 0 if not report.failed else 1


async def _capture_file(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from adapters.capture.ics import CalendarFileError, events_from_ics
    from bot.capture import ingest

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"Cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    services = await bootstrap(settings, clock=_when(args.ics_now))
    try:
        ws = await _workspace(services, args.ics_workspace)
        if ws is None:
            print("Nobody has used Touchbase here yet: there is nobody to read it for.")
            return 2
        now = services.clock.now()
        async with services.store.unit(ws.id) as uow:
            wanted = args.person.strip().casefold()
            people = [
                p
                for p in await uow.people.list()
                if wanted
                in {
                    p.platform_user_id.casefold(),
                    p.display_name.casefold(),
                    (p.email or "").casefold(),
                }
            ]
            if len(people) != 1:
                what = "Nobody" if not people else "More than one person"
                print(f"{what} in {ws.name} is called {args.person!r}.", file=sys.stderr)
                return 2
            person = people[0]
            try:
                events = events_from_ics(
                    data,
                    person.id,
                    person.email,
                    now - timedelta(days=366),
                    now + timedelta(days=1),
                    subjects=settings.capture.subjects,
                )
            except CalendarFileError:
                print(f"{args.file} is not an iCalendar file.", file=sys.stderr)
                return 2
            done = await ingest(uow, person, events, now, subjects=settings.capture.subjects)
            await uow.commit()
    finally:
        await services.close()
    print(
        f"Read {len(events)} events for {person.display_name}: {done.added} new, "
        f"{done.updated} updated, {done.logged} logged as touches, {done.ignored} not with a "
        "client."
    )
    return 0


COMMANDS = {
    "capture": cmd_capture,
    "teams-package": cmd_teams_package,
    "digest": cmd_digest,
    "summary": cmd_summary,
    "workspaces": cmd_workspaces,
    "console": cmd_console,
    "db": cmd_db,
    "import": cmd_import,
    "export": cmd_export,
    "serve": cmd_serve,
    "start": cmd_start,
}


async def run(settings: Settings, argv: Sequence[str]) -> int:
    """One command, parsed from `argv`, with these settings; its exit status."""
    from store.secrets import SecretKeyError

    args = build_parser().parse_args(argv)
    try:
        return await COMMANDS[args.command](settings, args)
    except _Exit as exc:
        return exc.code
    except SecretKeyError as exc:  # TOUCHBASE_SECRET_KEYS unset where needed, or malformed
        print(exc, file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    settings = Settings()
    configure_logging(settings.log_level)
    try:
        return asyncio.run(run(settings, sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
