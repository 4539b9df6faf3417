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
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.ports import Services
from adapters.web.auth import SESSION, Guard
from adapters.web.render import e, page, template
from bot.clock import local_today
from bot.dashboard import Dashboard
from bot.domain import LOCAL_PLATFORM, LOCAL_WORKSPACE_KEY, Platform, Workspace

FIGURES = ("coverage", "overdue", "touches", "load", "single_threaded", "open_work")
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


def to_csv(d: Dashboard, figure: str | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["figure", "subject", "week", "value", "detail"])
    rows: list[tuple[str, str, str, object, str]] = []
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
    for r in d.heatmap:
        rows.extend(
            ("touches", r.client, w.isoformat(), n, "")
            for w, n in zip(d.weeks, r.counts, strict=True)
        )
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
    for row in rows:
        if figure is None or row[0] == figure:
            writer.writerow([_cell(v) for v in row])
    return out.getvalue()


# --- HTML pieces (every value through `e`) ---------------------------------------------------


def _table(head: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{e(empty)}</p>'
    th = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="data"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _overdue_table(d: Dashboard) -> str:
    rows = [
        [
            e(o.owner),
            f'<span class="num">{o.count}</span>',
            e(
                ", ".join(f"{c.name} ({c.days_overdue} d)" for c in o.clients[:6])
                + (f", and {o.count - 6} more" if o.count > 6 else "")
            ),
        ]
        for o in d.overdue_by_owner
    ]
    return _table(["Owner", "Overdue", "Clients (days overdue)"], rows, "") if rows else ""


def _load_table(d: Dashboard) -> str:
    rows = [
        [
            e(p.person),
            e(p.role.value),
            f'<span class="num">{p.owned}</span>',
            e(p.target.describe() if p.target else "—"),
            f'<span class="pill pill-{e(p.status.replace(" ", "-"))}">{e(p.status)}</span>',
        ]
        for p in d.load
    ]
    return _table(["Person", "Role", "Clients owned", "Target", ""], rows, "Nobody yet.")


def _single_table(d: Dashboard) -> str:
    rows = [[e(s.client), e(s.person)] for s in d.single_threaded]
    return _table(
        ["Client", "The only person in touch"],
        rows,
        "Every client touched lately has more than one person in touch.",
    )


def _list(items: tuple[str, ...], empty: str) -> str:
    if not items:
        return f'<p class="empty">{e(empty)}</p>'
    return '<ul class="plain">' + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>"


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
                    _stat("repairs under way", str(len(d.repairs))),
                    _stat("handoffs under way", str(len(d.handoffs))),
                )
            )
            raw = {
                "overdue": _overdue_table(d),
                "load": _load_table(d),
                "single": _single_table(d),
                "repairs": _list(d.repairs, "No repair under way."),
                "handoffs": _list(d.handoffs, "No handoff under way."),
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
        text = (
            to_csv(await self._figures(ws), figure) if ws else "figure,subject,week,value,detail\n"
        )
        name = f"touchbase-{figure or 'dashboard'}.csv"
        return web.Response(
            text=text,
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def add_routes(app: web.Application, services: Services, guard: Guard) -> None:
    handlers = DashboardHandlers(services, guard)
    app.router.add_get("/dashboard", guard.protect(handlers.page, kind="page", charts=True))
    app.router.add_get("/dashboard/data.json", guard.protect(handlers.data, kind="api"))
    app.router.add_get("/dashboard.csv", guard.protect(handlers.csv, kind="api"))
