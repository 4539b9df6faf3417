"""Matching as pure functions, on a seeded firm: levels, fit, load limits, ties, single threads."""

from __future__ import annotations

from datetime import date

import pytest

from bot.commands.match import threads
from bot.config import DEFAULT_TARGETS
from bot.domain import Contact, Person, Role
from bot.matching import (
    PRINCIPAL,
    SENIOR,
    STAFF,
    Colleague,
    colleagues,
    explain,
    fit,
    is_with,
    level_of,
    load_line,
    mentions_phrase,
    suggest,
)
from bot.matter_ports import TouchLine

TODAY = date(2026, 11, 23)


def person(
    pid: int, name: str, role: Role, interests: tuple[str, ...] = (), **kw: object
) -> Person:
    return Person(
        id=pid, workspace_id=1, platform_user_id=name.lower(), display_name=name, role=role,
        interests=interests, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def contact(
    cid: int, name: str, title: str, influence: str, notes: str = "", **kw: object
) -> Contact:
    return Contact(
        id=cid, workspace_id=1, client_id=1, name=name, title=title, influence=influence,
        notes=notes or None, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


DANA = contact(1, "Dana Scully", "CFO", "decision maker", "loves sailing, hates surprises")
FOX = contact(2, "Fox Mulder", "VP Finance", "influencer", "golf on weekends")
SAM = contact(3, "Sam Lee", "Financial analyst", "user", "runs marathons")

JANE = person(11, "Jane Roe", Role.PRINCIPAL, ("sailing",))
BOB = person(12, "Bob Stone", Role.PRINCIPAL, ("golf",))
CAROL = person(13, "Carol Diaz", Role.SENIOR, ("golf",))
DAN = person(14, "Dan Wu", Role.STAFF, ("marathons",))
EVE = person(15, "Eve Park", Role.STAFF)

SENIORITY = {11: "partner", 13: "director"}
# Loads against the targets: principal 8-12, senior 10-20, staff 4-6.
LOADS = {11: 11, 12: 3, 13: 10, 14: 6, 15: 2}


def firm(loads: dict[int, int] | None = None) -> list[Colleague]:
    return colleagues(
        [JANE, BOB, CAROL, DAN, EVE], SENIORITY, loads if loads is not None else LOADS,
        DEFAULT_TARGETS,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("CFO", PRINCIPAL),
        ("Chief Executive Officer", PRINCIPAL),
        ("Managing Director", PRINCIPAL),
        ("partner", PRINCIPAL),
        ("VP Finance", SENIOR),
        ("Director of Tax", SENIOR),
        ("Associate Director", SENIOR),
        ("General Counsel", SENIOR),
        ("senior manager", SENIOR),
        ("Finance manager", STAFF),
        ("Financial analyst", STAFF),
        ("Executive Assistant", STAFF),
        ("Wizard", None),
        (None, None),
    ],
)
def test_levels_on_one_scale(text: str | None, level: int | None) -> None:
    assert level_of(text) == level


def test_role_stands_in_for_seniority_and_admins_have_no_limit() -> None:
    pool = {c.person.id: c for c in firm()}
    assert pool[11].level == PRINCIPAL and pool[11].label == "Jane Roe (partner)"
    assert pool[12].level == PRINCIPAL and pool[12].label == "Bob Stone (principal)"
    assert pool[15].level == STAFF and pool[15].limit == 6
    admin = colleagues([person(9, "Ada", Role.ADMIN)], {}, {9: 50}, DEFAULT_TARGETS)[0]
    assert admin.limit is None and admin.has_room() and admin.level is None


def test_unreachable_people_are_never_suggested() -> None:
    from datetime import UTC, datetime

    gone = person(16, "Gus", Role.STAFF, unreachable_since=datetime(2026, 1, 1, tzinfo=UTC))
    assert colleagues([gone, EVE], {}, {}, DEFAULT_TARGETS)[0].person.id == EVE.id


def test_mentions_and_who_a_touch_was_with() -> None:
    assert mentions_phrase("Loves to sail in summer", "sailing")
    assert mentions_phrase("plays golf", "Golf") and not mentions_phrase("golfer? no", "gol")
    assert mentions_phrase("heads M&A integration", "M&A")
    assert not mentions_phrase("taxonomy", "tax")
    assert is_with("Dana", DANA) and is_with("the CFO", DANA) and is_with("dana scully", DANA)
    assert not is_with("Fox", DANA) and not is_with(None, DANA)


def test_fit_explains_itself() -> None:
    pool = {c.person.id: c for c in firm()}
    f = fit(DANA, pool[11], [], "Acme")
    assert f.reasons == ("peers in seniority", "both into sailing") and f.score == 5
    touches = [
        TouchLine(1, 11, date(2026, 3, 2), "Dana"),
        TouchLine(1, 11, date(2026, 6, 2), "the CFO"),
        TouchLine(1, 11, date(2026, 7, 2), "Fox"),
    ]
    f = fit(DANA, pool[11], touches, "Acme")
    assert f.reasons == (
        "peers in seniority",
        "both into sailing",
        "in touch with Acme 3 times this year, twice with Dana Scully",
    )
    assert f.score == 5 + 3 + 0.5
    # Two levels apart counts against.
    assert fit(DANA, pool[15], [], "Acme").score == -2


def test_seeded_firm_suggestions_respect_load() -> None:
    out = suggest([SAM, FOX, DANA], firm(), [], "Acme")
    assert [s.contact.name for s in out] == ["Dana Scully", "Fox Mulder", "Sam Lee"]
    assert explain(out[0]) == (
        "Jane Roe (partner) for Dana Scully (CFO, decision maker): "
        "peers in seniority, both into sailing"
    )
    # Jane reaches 12, her limit, with Dana; Fox goes to Carol, a peer who shares golf.
    assert explain(out[1]) == (
        "Carol Diaz (director) for Fox Mulder (VP Finance, influencer): "
        "peers in seniority, both into golf"
    )
    # Dan would suit Sam best (peers, marathons) but holds 6, the most for staff: Eve gets it.
    assert out[2].colleague is not None and out[2].colleague.person.id == EVE.id
    assert out[2].reasons == ("peers in seniority",)


def test_decision_maker_gets_the_first_pick() -> None:
    # Jane has room for one more: Dana (decision maker) gets her, even listed last.
    partner_fox = contact(2, "Fox Mulder", "CEO", "influencer", "sailing")
    out = suggest([partner_fox, DANA], firm(), [], "Acme")
    assert out[0].contact.id == DANA.id and out[0].colleague is not None
    assert out[0].colleague.person.id == JANE.id
    assert out[1].colleague is not None and out[1].colleague.person.id == BOB.id


def test_touches_can_outweigh_interests() -> None:
    touches = [
        TouchLine(1, 12, date(2026, 2, 1), "Dana"),
        TouchLine(1, 12, date(2026, 5, 1), "Dana"),
    ]
    out = suggest([DANA], firm(), touches, "Acme")
    assert explain(out[0]) == (
        "Bob Stone (principal) for Dana Scully (CFO, decision maker): "
        "peers in seniority, in touch with Acme twice this year, each with Dana Scully"
    )


def test_current_holder_kept_without_extra_load() -> None:
    held = contact(1, "Dana Scully", "CFO", "decision maker", "loves sailing", holder_id=11)
    out = suggest([held], firm({**LOADS, 11: 12}), [], "Acme")  # Jane is full, but holds Dana
    assert out[0].keeps_holder and out[0].reasons[0] == "already holds the relationship"


def test_nobody_with_room() -> None:
    full = {11: 12, 12: 12, 13: 20, 14: 6, 15: 6}
    out = suggest([DANA], firm(full), [], "Acme")
    assert out[0].colleague is None
    assert "nobody suitable has room" in explain(out[0])


def test_ties_go_to_the_lighter_load_then_the_name() -> None:
    twin_a = person(21, "Zoe Able", Role.PRINCIPAL, ("sailing",))
    twin_b = person(22, "Amy Baker", Role.PRINCIPAL, ("sailing",))
    pool = colleagues([twin_a, twin_b], {}, {21: 2, 22: 5}, DEFAULT_TARGETS)
    assert suggest([DANA], pool, [], "Acme")[0].colleague.person.id == 21  # type: ignore[union-attr]
    pool = colleagues([twin_a, twin_b], {}, {21: 5, 22: 5}, DEFAULT_TARGETS)
    assert suggest([DANA], pool, [], "Acme")[0].colleague.person.id == 22  # type: ignore[union-attr]
    # Same result whatever the order they come in.
    pool.reverse()
    assert suggest([DANA], pool, [], "Acme")[0].colleague.person.id == 22  # type: ignore[union-attr]


def test_single_threaded_matches_a_hand_count() -> None:
    """Six clients, counted by hand over the 180-day window:
    1 Acme: Jane and Bob in touch                     -> two threads
    2 Globex: only Jane in touch (three times)        -> single
    3 Initech: Jane in touch, Carol holds a key person -> two threads
    4 Umbrella: nobody at all                         -> untouched, not single
    5 Hooli: no touches, Bob holds a key person       -> single
    6 Stark: Jane 200 days ago (outside), Bob lately  -> single (Bob)
    """
    since = date(2026, 5, 27)  # TODAY - 180 days
    lines = [
        TouchLine(1, 11, date(2026, 11, 1)),
        TouchLine(1, 12, date(2026, 10, 1)),
        TouchLine(2, 11, date(2026, 9, 1)),
        TouchLine(2, 11, date(2026, 10, 1)),
        TouchLine(2, 11, date(2026, 11, 1)),
        TouchLine(3, 11, date(2026, 8, 1)),
        TouchLine(6, 11, date(2026, 5, 7)),
        TouchLine(6, 12, date(2026, 11, 13)),
    ]
    holders = {3: {13}, 5: {12}}
    people, flagged = threads([1, 2, 3, 4, 5, 6], lines, holders, since)
    assert flagged == {2, 5, 6}
    assert people[6] == {12} and people[4] == set() and people[3] == {11, 13}


def test_a_colleague_has_one_count_for_the_client_on_every_line() -> None:
    pool = {c.person.id: c for c in firm()}
    touches = [
        TouchLine(1, 11, date(2026, 3, 2), "Dana"),
        TouchLine(1, 11, date(2026, 6, 2), "the board"),
        TouchLine(1, 11, date(2026, 7, 2), "procurement"),
    ]
    dana = fit(DANA, pool[11], touches, "Acme").reasons
    fox = fit(FOX, pool[11], touches, "Acme").reasons
    assert "in touch with Acme 3 times this year, once with Dana Scully" in dana
    assert "in touch with Acme 3 times this year" in fox


def test_the_load_shown_is_the_load_now_and_with_the_suggestions_above() -> None:
    partner_fox = contact(2, "Fox Mulder", "CEO", "influencer", "sailing")
    out = suggest([DANA, partner_fox], firm({**LOADS, 11: 5}), [], "Acme")
    assert [s.colleague.person.id for s in out] == [JANE.id, JANE.id]  # type: ignore[union-attr]
    assert out[0].colleague is not None and out[1].colleague is not None
    assert load_line(out[0].colleague, out[0].earlier) == (
        "holds 5 relationships, up to 12 for a principal"
    )
    assert load_line(out[1].colleague, out[1].earlier) == (
        "holds 5 relationships (6 with the suggestion above), up to 12 for a principal"
    )


def test_a_single_threaded_client_is_spread_beyond_its_one_colleague() -> None:
    """Acme rests on Jane, who has been in touch three times and would win Dana outright; Bob
    owns it. Spreading prefers someone else, and the owner counts."""
    touches = [TouchLine(1, 11, date(2026, m, 2), "Dana") for m in (3, 6, 9)]
    pool = firm({**LOADS, 11: 2})
    plain = suggest([DANA, FOX], pool, touches, "Acme")
    assert plain[0].colleague is not None and plain[0].colleague.person.id == JANE.id
    spread = suggest([DANA, FOX], pool, touches, "Acme", owner_id=BOB.id, spread_from=JANE.id)
    assert all(s.colleague and s.colleague.person.id != JANE.id for s in spread)
    assert explain(spread[0]) == (
        "Bob Stone (principal) for Dana Scully (CFO, decision maker): peers in seniority, owns Acme"
    )
    # The one colleague keeps the key people they already hold.
    held = contact(1, "Dana Scully", "CFO", "decision maker", "loves sailing", holder_id=11)
    kept = suggest([held], pool, touches, "Acme", owner_id=BOB.id, spread_from=JANE.id)
    assert kept[0].keeps_holder
