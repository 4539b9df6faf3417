"""/clients: your portfolio. The clients you own, how each stands (healthy, due, overdue, awaiting
reply, in repair, in handoff), and your load against your role's target. Slack's App Home and a
Teams card render the same message."""

from __future__ import annotations

from bot.app import Context, Registry, Reply
from bot.domain import Role
from bot.messages import Action, Field, Message, Section, Style, Tone
from bot.ownership import HEALTH_ORDER, Health, Portfolio, PortfolioLine, build_portfolio
from bot.text import a_role, plural, when

from .owner import resolve_person, split_at_person

MAX_LISTED = 40
MAX_BUTTONS = 5

_PHRASE = {
    Health.IN_REPAIR: "in repair",
    Health.IN_HANDOFF: "in handoff",
    Health.AWAITING: "awaiting reply",
    Health.OVERDUE: "overdue",
    Health.DUE: "due soon",
    Health.NEVER_CONTACTED: "never contacted",
    Health.HEALTHY: "on schedule",
}


def line_text(line: PortfolioLine, today_: Portfolio) -> str:
    today = today_.today
    phrase = _PHRASE[line.health]
    if line.health is Health.DUE and line.next_due_on == today:
        phrase = "due today"
    return (
        f"{line.client.name}: {phrase}, next due {when(line.next_due_on, today)}, "
        f"last touch {when(line.last_touch_on, today)}"
    )


def load_text(p: Portfolio, own: bool = True) -> str:
    role = p.person.role.value
    count = plural(p.owned, "client")
    if p.target is None:
        whose = "your role" if own else "their role"
        return f"{count}; no target for {whose} ({role})"
    text = f"{count}, {p.load} the {p.target.describe()} {a_role(p.person.role)} usually holds"
    if p.load == "under":
        text += ": room for another relationship"
    elif p.load == "over":
        text += ": consider handing one on, in person, with /owner"
    return text


def portfolio_message(p: Portfolio, *, own: bool = True) -> Message:
    title = "Your portfolio" if own else f"{p.person.display_name}'s portfolio"
    counts = {h: sum(1 for line in p.lines if line.health is h) for h in HEALTH_ORDER}
    load = Section(
        fields=(
            Field("Load", load_text(p, own)),
            Field("Overdue", str(counts[Health.OVERDUE])),
        )
    )
    if not p.lines:
        return Message(
            text="You don't own any clients yet." if own else "They don't own any clients yet.",
            title=title,
            sections=(
                Section(text="Add one with /client add Acme, or ask to be handed one with /owner."),
                load,
            ),
        )
    parts = [f"{n} {h.value}" for h, n in counts.items() if n and h is not Health.HEALTHY]
    summary = f"{'You own' if own else 'Owns'} {plural(p.owned, 'client')}"
    summary += (": " + ", ".join(parts) + ".") if parts else ", all healthy."
    sections: list[Section] = [load]
    listed = 0
    for health in HEALTH_ORDER:
        group = [line for line in p.lines if line.health is health]
        if not group or listed >= MAX_LISTED:
            continue
        shown = group[: MAX_LISTED - listed]
        listed += len(shown)
        text = "\n".join(line_text(line, p) for line in shown)
        if len(shown) < len(group):
            text += f"\n…and {len(group) - len(shown)} more"
        sections.append(
            Section(
                heading=f"{health.value.capitalize()} ({len(group)})",
                text=text,
                links=tuple(
                    Action("client_open", line.client.name, str(line.client.id)) for line in shown
                ),
            )
        )
    attention = [line for line in p.lines if line.health is not Health.HEALTHY]
    return Message(
        text=summary,
        title=title,
        sections=tuple(sections),
        actions=tuple(
            Action(
                "log_touch_open",
                f"Log touch: {line.client.name}"[:60],
                str(line.client.id),
                Style.PRIMARY if line.health is Health.OVERDUE else Style.DEFAULT,
            )
            for line in (attention or list(p.lines))[:MAX_BUTTONS]
        ),
        tone=Tone.WARNING if counts[Health.OVERDUE] else Tone.INFO,
    )


async def portfolio(ctx: Context) -> Message:
    """The asking person's own portfolio."""
    p = await build_portfolio(ctx.uow, ctx.person, ctx.today(), ctx.config)
    return portfolio_message(p)


async def show_portfolio(ctx: Context, text: str) -> Reply:
    """`/clients`, or `/clients @bob` for principals and admins."""
    if not text.strip():
        return await portfolio(ctx)
    _, mentions, typed = split_at_person(text)
    found = await resolve_person(ctx, mentions, typed or text)
    if isinstance(found, Message):
        return found
    if found.id == ctx.person.id:
        return await portfolio(ctx)
    if ctx.person.role not in (Role.PRINCIPAL, Role.ADMIN):
        return Message(
            text="Only principals and admins can see someone else's portfolio.",
            sections=(Section(text="Type /clients for your own."),),
            tone=Tone.ERROR,
        )
    p = await build_portfolio(ctx.uow, found, ctx.today(), ctx.config)
    return portfolio_message(p, own=False)


def register(r: Registry) -> None:
    r.command("clients")(show_portfolio)
