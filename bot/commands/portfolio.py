"""/clients: your portfolio. The clients you own, how each stands, and your load against your
role's target. Slack's App Home shows the same message."""

from __future__ import annotations

from datetime import date

from bot.app import Context, Registry, Reply
from bot.domain import Client, ClientStatus
from bot.messages import Action, Field, Message, Section, Style, Tone
from bot.rules import effective_cadence, next_due
from bot.text import plural, when

MAX_LISTED = 40


def _standing(due: date, today: date) -> tuple[int, str]:
    if due < today:
        return 0, "overdue"
    if due == today:
        return 1, "due today"
    return 2, "on schedule"


async def portfolio(ctx: Context) -> Message:
    today = ctx.today()
    owned = [
        c
        for c in await ctx.uow.clients.list(owner_id=ctx.person.id)
        if c.status is not ClientStatus.INACTIVE
    ]
    last = await ctx.uow.clients.last_touch_on([c.id for c in owned])
    rows: list[tuple[int, date, Client, str]] = []
    for client in owned:
        cadence = effective_cadence(client, ctx.config.default_cadence_days)
        created = client.created_at.date() if client.created_at else today
        due = next_due(last.get(client.id), cadence, created)
        rank, status = _standing(due, today)
        rows.append((rank, due, client, status))
    rows.sort(key=lambda r: (r[0], r[1], r[2].name.casefold()))
    overdue = sum(1 for r in rows if r[0] == 0)

    target = ctx.config.load_targets.get(ctx.person.role)
    count = len(owned)
    if target is None:
        load = f"{plural(count, 'client')}; no target for your role ({ctx.person.role.value})"
    else:
        verdict = "under" if count < target.low else ("over" if count > target.high else "within")
        load = f"{plural(count, 'client')}, {verdict} the {target.describe()} a {ctx.person.role.value} usually holds"

    if not rows:
        return Message(
            text="You don't own any clients yet.",
            title="Your portfolio",
            sections=(
                Section(text="Add one with /client add Acme, or ask an admin to hand you one."),
                Section(fields=(Field("Load", load),)),
            ),
        )
    lines = [
        f"{client.name}: {status}, next due {when(due, today)}, last touch "
        f"{when(last.get(client.id), today)}"
        for _rank, due, client, status in rows[:MAX_LISTED]
    ]
    if len(rows) > MAX_LISTED:
        lines.append(f"…and {len(rows) - MAX_LISTED} more")
    summary = f"You own {plural(count, 'client')}" + (
        f": {overdue} overdue." if overdue else ", all on schedule."
    )
    return Message(
        text=summary,
        title="Your portfolio",
        sections=(
            Section(fields=(Field("Load", load), Field("Overdue", str(overdue)))),
            Section(heading="Clients", text="\n".join(lines)),
        ),
        actions=tuple(
            Action(
                "log_touch_open",
                f"Log touch: {client.name}"[:60],
                str(client.id),
                Style.PRIMARY if rank == 0 else Style.DEFAULT,
            )
            for rank, _due, client, _status in rows[:5]
        ),
        tone=Tone.WARNING if overdue else Tone.INFO,
    )


async def show_portfolio(ctx: Context, text: str) -> Reply:
    return await portfolio(ctx)


def register(r: Registry) -> None:
    r.command("clients")(show_portfolio)
