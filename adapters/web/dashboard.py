"""The firm dashboard at /dashboard: coverage, overdue clients, touch heatmap, load, open work.

Charts: plotly.js, served from the `plotly` Python package's own copy (plotly/package_data/
plotly.min.js) at /static/plotly.min.js. Plotly is actively maintained (monthly releases), the
file ships inside the wheel, so the page works offline with no CDN, no npm step and no copy of
a library in this repository; the Python side only builds plain JSON (the figures come from
`bot.dashboard`, which knows nothing of charts). The charts are drawn by static/dashboard.js.

The page, its JSON and its CSV carry names and counts only, never note text.
"""

from __future__ import annotations

import csv
import importlib.util
import io
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from aiohttp import web

from adapters.ports import Services
from adapters.web.auth import SESSION, Guard
from adapters.web.render import e, page, template
from bot.clock import local_today
from bot.dashboard import Dashboard
from bot.domain import LOCAL_PLATFORM, LOCAL_WORKSPACE_KEY, Platform, Workspace

FIGURES = ("coverage", "overdue", "touches", "capture", "load", "single_threaded", "open_work")
_PLATFORM_NAMES = {
    Platform.SLACK: "Slack",
    Platform.TEAMS: "Teams",
    Platform.CONSOLE: "Local chat",
    Platform.WEB: "Web chat",
}


def plotly_js() -> Path | None:
    """plotly.min.js inside the installed plotly package, if it is installed."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


def default_workspace(workspaces: list[Workspace]) -> Workspace | None:
    for ws in workspaces:
        if ws.platform is LOCAL_PLATFORM and ws.external_id == LOCAL_WORKSPACE_KEY:
            return ws
    return workspaces[0] if workspaces else None


def _label(ws: Workspace) -> str:
    name = ws.name or ws.external_id
    platform = _PLATFORM_NAMES.get(ws.platform, ws.platform.value)
    return name if name == platform else f"{name} ({platform})"


def _pct(share: float) -> str:
    return f"{round(share * 100)}%"


def chart_data(d: Dashboard) -> dict[str, Any]:
    weeks = [w.isoformat() for w in d.weeks]
    heat = d.heatmap[:40]
    return {
        "today": d.today.isoformat(),
        "weeks": weeks,
        "coverage": {
            # No point for a week before the first client: a gap, not 0%.
            "share": [round(p.share * 100, 1) if p.clients else None for p in d.coverage],
            "within": [p.within for p in d.coverage],
            "clients": [p.clients for p in d.coverage],
        },
        "overdue": {
            "owners": [o.owner for o in d.overdue_by_owner],
            "counts": [o.count for o in d.overdue_by_owner],
        },
        "heatmap": {
            # Quietest at the top: plotly draws the first row at the bottom, so reverse.
            "clients": [r.client for r in reversed(heat)],
            "z": [list(r.counts) for r in reversed(heat)],
            "shown": len(heat),
            "total": len(d.heatmap),
        },
        "load": {
            "people": [p.person for p in d.load],
            "owned": [p.owned for p in d.load],
            "low": [p.target.low if p.target else None for p in d.load],
            "high": [p.target.high if p.target else None for p in d.load],
            "status": [p.status for p in d.load],
        },
    }


def _cell(value: object) -> object:
    """Spreadsheets run a cell that starts with = + - @ as a formula: make it text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


CSV_HEAD = ("figure", "subject", "week", "value", "detail")
CSV_CHUNK_ROWS = 2000  # rows per chunk of the streamed download
PAGE_SIZE = 50  # rows per page of a dashboard table
Row = tuple[str, str, str, object, str]


def to_csv(d: Dashboard, figure: str | None = None) -> str:
    return "".join(csv_chunks(d, figure))


def csv_chunks(d: Dashboard, figure: str | None = None) -> Iterator[str]:
    """The CSV a few thousand rows at a time, so a firm of 100,000 clients streams out."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEAD)
    for n, row in enumerate(_csv_rows(d, figure), start=1):
        writer.writerow([_cell(v) for v in row])
        if n % CSV_CHUNK_ROWS == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _csv_rows(d: Dashboard, figure: str | None) -> Iterator[Row]:
    def wanted(name: str) -> bool:
        return figure is None or figure == name

    rows: list[Row] = []
    for p in d.coverage:
        week = p.week_start.isoformat()
        rows.append(
            (
                "coverage",
                "share within cadence",
                week,
                round(p.share, 4),
                f"measured {p.week_end.isoformat()}",
            )
        )
        rows.append(("coverage", "clients within cadence", week, p.within, ""))
        rows.append(("coverage", "active clients", week, p.clients, ""))
    for o in d.overdue_by_owner:
        rows.append(("overdue", o.owner, "", o.count, "clients overdue"))
        rows.extend(
            ("overdue", o.owner, "", c.days_overdue, f"days overdue: {c.name}") for c in o.clients
        )
    yield from (row for row in rows if wanted(row[0]))
    rows = []
    if wanted("touches"):
        weeks = [w.isoformat() for w in d.weeks]
        for r in d.heatmap:
            yield from (
                ("touches", r.client, w, n, "") for w, n in zip(weeks, r.counts, strict=True)
            )

    rows.append(("capture", "from calendars and mail", "", d.captured_touches, "touches"))
    rows.append(("capture", "typed", "", d.typed_touches, "touches"))
    for person in d.load:
        target = person.target.describe() if person.target else "none"
        rows.append(
            (
                "load",
                person.person,
                "",
                person.owned,
                f"{person.role.value}; target {target}; {person.status}",
            )
        )
    for s in d.single_threaded:
        rows.append(("single_threaded", s.client, "", 1, f"only {s.person}"))
    rows.append(("open_work", "repairs under way", "", len(d.repairs), "; ".join(d.repairs)))
    rows.append(("open_work", "handoffs under way", "", len(d.handoffs), "; ".join(d.handoffs)))
    yield from (row for row in rows if wanted(row[0]))


# --- HTML pieces (every value through `e`) ---------------------------------------------------


T = TypeVar("T")
Link = Callable[[int, str], str]  # (client id, name) -> the name as HTML, linked where it can be


class Pager:
    """Which page of each table this request shows: `?<table>_page=N` (from 1), kept apart per
    table so paging one leaves the others where they were."""

    def __init__(self, query: dict[str, str]) -> None:
        self.query = query

    def number(self, table: str) -> int:
        raw = self.query.get(f"{table}_page", "1")
        return max(1, int(raw)) if raw.isdigit() else 1

    def slice(self, table: str, items: Sequence[T]) -> tuple[Sequence[T], str]:
        """The rows of this page, and the pager under the table (empty when one page does)."""
        pages = max(1, -(-len(items) // PAGE_SIZE))
        number = min(self.number(table), pages)
        first = (number - 1) * PAGE_SIZE
        shown = items[first : first + PAGE_SIZE]
        if pages == 1:
            return shown, ""
        links = []
        if number > 1:
            links.append(self._link(table, number - 1, "‹ Previous"))
        links.append(f"<span>{first + 1}–{first + len(shown)} of {len(items)}</span>")
        if number < pages:
            links.append(self._link(table, number + 1, "Next ›"))
        return shown, f'<nav class="pager" aria-label="More rows">{"".join(links)}</nav>'

    def _link(self, table: str, number: int, label: str) -> str:
        query = {**self.query, f"{table}_page": str(number)}
        href = f"/dashboard?{urlencode(query)}#{table}"
        return f'<a href="{e(href)}" rel="{"prev" if "Prev" in label else "next"}">{e(label)}</a>'


def _table(head: list[str], rows: list[list[str]], empty: str, pager: str = "") -> str:
    if not rows:
        return f'<p class="empty">{e(empty)}</p>' if empty else ""
    th = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f'<div class="table-wrap"><table class="data"><thead><tr>{th}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>{pager}"
    )


def _overdue_table(d: Dashboard, pager: Pager, link: Link) -> str:
    owners, more = pager.slice("overdue", d.overdue_by_owner)
    rows = [
        [
            e(o.owner),
            f'<span class="num">{o.count}</span>',
            ", ".join(f"{link(c.client_id, c.name)} ({c.days_overdue} d)" for c in o.clients[:6])
            + (e(f", and {o.count - 6} more") if o.count > 6 else ""),
        ]
        for o in owners
    ]
    return _table(["Owner", "Overdue", "Clients (days overdue)"], rows, "", more)


def _load_table(d: Dashboard, pager: Pager) -> str:
    people, more = pager.slice("load", d.load)
    rows = [
        [
            e(p.person),
            e(p.role.value),
            f'<span class="num">{p.owned}</span>',
            e(p.target.describe() if p.target else "—"),
            f'<span class="pill pill-{e(p.status.replace(" ", "-"))}">{e(p.status)}</span>',
        ]
        for p in people
    ]
    return _table(["Person", "Role", "Clients owned", "Target", ""], rows, "Nobody yet.", more)


def _single_table(d: Dashboard, pager: Pager, link: Link) -> str:
    clients, more = pager.slice("single", d.single_threaded)
    rows = [[link(s.client_id, s.client), e(s.person)] for s in clients]
    return _table(
        ["Client", "The only person in touch"],
        rows,
        "Every client touched lately has more than one person in touch.",
        more,
    )


def client_link(ws: Workspace) -> Link:
    """Client names open the client's card in the web chat, which speaks for the local
    workspace only; another workspace's names stay plain text."""
    local = ws.platform is LOCAL_PLATFORM and ws.external_id == LOCAL_WORKSPACE_KEY

    def link(client_id: int, name: str) -> str:
        if not local:
            return e(name)
        href = f"/?{urlencode({'client': client_id})}"
        return f'<a class="client-link" href="{e(href)}">{e(name)}</a>'

    return link


def _list(items: tuple[str, ...], empty: str, pager: Pager, table: str) -> str:
    if not items:
        return f'<p class="empty">{e(empty)}</p>'
    shown, more = pager.slice(table, items)
    return '<ul class="plain">' + "".join(f"<li>{e(i)}</li>" for i in shown) + "</ul>" + more


def _stat(label: str, value: str, tone: str = "") -> str:
    return (
        f'<div class="stat {e(tone)}"><div class="stat-value">{e(value)}</div>'
        f'<div class="stat-label">{e(label)}</div></div>'
    )


class DashboardHandlers:
    def __init__(self, services: Services, guard: Guard) -> None:
        self.services = services
        self.guard = guard

    async def _chosen(self, request: web.Request) -> tuple[Workspace | None, list[Workspace]]:
        allowed = self.services.settings.web.allowed_workspaces()
        workspaces = [
            ws
            for ws in await self.services.directory.workspaces()
            if (ws.platform.value, ws.external_id) in allowed
        ]
        wanted = request.query.get("workspace", "")
        for ws in workspaces:
            if str(ws.id) == wanted:
                return ws, workspaces
        return default_workspace(workspaces), workspaces

    async def _figures(self, ws: Workspace) -> Dashboard:
        config = self.services.app.config
        today = local_today(self.services.clock, config.default_tz)
        return await self.services.directory.dashboard(ws, today)

    async def page(self, request: web.Request) -> web.StreamResponse:
        ws, workspaces = await self._chosen(request)
        if ws is None:
            d = None
        else:
            d = await self._figures(ws)
        options = "".join(
            f'<option value="{w.id}"{" selected" if ws and w.id == ws.id else ""}>'
            f"{e(_label(w))}</option>"
            for w in workspaces
        )
        query = f"?workspace={ws.id}" if ws else "?"
        if d is None:
            stats = _stat("clients", "0")
            raw = {"overdue": "", "load": "", "single": "", "repairs": "", "handoffs": ""}
        else:
            now = d.coverage[-1]
            stats = "".join(
                (
                    _stat("active clients", str(d.active_clients)),
                    _stat(
                        "within cadence this week",
                        _pct(now.share),
                        "good" if now.share >= 0.8 else "warn",
                    ),
                    _stat(
                        "overdue today", str(d.overdue_total), "warn" if d.overdue_total else "good"
                    ),
                    _stat(
                        "single-threaded",
                        str(len(d.single_threaded)),
                        "warn" if d.single_threaded else "",
                    ),
                    _stat(
                        f"of {d.captured_touches + d.typed_touches} touches in 12 weeks came "
                        "from calendars and mail",
                        _pct(d.captured_share),
                    ),
                    _stat("repairs under way", str(len(d.repairs))),
                    _stat("handoffs under way", str(len(d.handoffs))),
                )
            )
            pager = Pager(dict(request.query))
            assert ws is not None
            link = client_link(ws)
            raw = {
                "overdue": _overdue_table(d, pager, link),
                "load": _load_table(d, pager),
                "single": _single_table(d, pager, link),
                "repairs": _list(d.repairs, "No repair under way.", pager, "repairs"),
                "handoffs": _list(d.handoffs, "No handoff under way.", pager, "handoffs"),
            }
        html = page(
            template("dashboard.html"),
            raw={"workspace_options": options, "stats": stats, **raw},
            csrf=self.guard.csrf_token(request[SESSION]),
            query=query,
            workspace_name=_label(ws) if ws else "No workspace yet",
            today=d.today.strftime("%A %d %B %Y") if d else "",
            thread_days=str(d.thread_days if d else 180),
            picker_hidden="" if len(workspaces) > 1 else "hidden",
        )
        return web.Response(text=html, content_type="text/html")

    async def data(self, request: web.Request) -> web.StreamResponse:
        ws, _ = await self._chosen(request)
        if ws is None:
            return web.json_response({"empty": True})
        return web.json_response(chart_data(await self._figures(ws)))

    async def csv(self, request: web.Request) -> web.StreamResponse:
        ws, _ = await self._chosen(request)
        figure = request.query.get("figure")
        if figure is not None and figure not in FIGURES:
            return web.json_response(
                {"error": f"figure is one of {', '.join(FIGURES)}"}, status=400
            )
        d = await self._figures(ws) if ws else None
        name = f"touchbase-{figure or 'dashboard'}.csv"
        response = web.StreamResponse(
            headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )
        response.content_type = "text/csv"
        response.charset = "utf-8"
        await response.prepare(request)
        chunks = csv_chunks(d, figure) if d else iter([",".join(CSV_HEAD) + "\n"])
        for chunk in chunks:
            await response.write(chunk.encode("utf-8"))
        await response.write_eof()
        return response


def add_routes(app: web.Application, services: Services, guard: Guard) -> None:
    handlers = DashboardHandlers(services, guard)
    app.router.add_get("/dashboard", guard.protect(handlers.page, kind="page", charts=True))
    app.router.add_get("/dashboard/data.json", guard.protect(handlers.data, kind="api"))
    app.router.add_get("/dashboard.csv", guard.protect(handlers.csv, kind="api"))
