"""The web chat and dashboard in a real headless Chromium, driven by Playwright.

Uses Debian's chromium (/usr/bin/chromium, or CHROMIUM_PATH); Playwright's own browser
download is never used. Skipped, with the reason, where either is missing. Screenshots go to
test-output/ (ignored by git): chat.png and dashboard.png on a desktop, phone-*.png at 390 px.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from app.bootstrap import Services, bootstrap
from app.server import create_app
from app.settings import Settings
from bot.clock import FixedClock
from tests.conftest import T0

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HAVE_CHROMIUM = Path(CHROMIUM).is_file()
OUT = Path(__file__).resolve().parent.parent / "test-output"

try:
    from playwright.async_api import ConsoleMessage, Page, async_playwright
except ImportError:  # pragma: no cover - a machine without the dev extra
    async_playwright = None  # type: ignore[assignment]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[str]:
    if async_playwright is None:
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    if not HAVE_CHROMIUM:
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'web.db'}", scheduler_enabled=False)
    services: Services = await bootstrap(settings, clock=FixedClock(T0))
    runner = web.AppRunner(create_app(services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    await runner.cleanup()
    await services.close()


async def send(page: Page, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")


async def test_chat_and_dashboard_in_a_real_browser(server: str) -> None:
    OUT.mkdir(exist_ok=True)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    assert async_playwright is not None
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 860})
            page.on("console", on_console)
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.on("dialog", lambda dialog: problems.append(f"a dialog opened: {dialog.message}"))
            page.set_default_timeout(8000)

            await page.goto(server + "/")
            await page.fill("#new-person-name", "Dana")
            await page.click("#new-person button[type=submit]")
            await page.wait_for_selector("text=You are now Dana.")

            async with page.expect_response("**/api/chat/command") as sent:
                await send(page, "/client add Acme")
            response = await sent.value
            # The command is filed under the id its request is logged with.
            posted = response.request.post_data_json
            assert response.headers["x-request-id"] == posted["request_id"]
            await page.wait_for_selector(".card.tone-success >> text=Added Acme")
            await send(page, "/touch Acme lunch with CFO <img src=x onerror=alert(1)>")
            confirmation = page.locator(".card.tone-success", has_text="Logged lunch").last
            await confirmation.wait_for()
            assert "<img src=x onerror=alert(1)" in await confirmation.inner_text()  # shown as text

            await confirmation.locator("button[data-action-id=client_open]").click()
            card = page.locator(".card", has_text="Next due").last
            await card.wait_for()
            assert "Dana" in await card.inner_text()

            await confirmation.locator("button[data-action-id=log_touch_open]").click()
            form = page.locator("form[data-form-id=log_touch]").last
            await form.wait_for()
            await form.locator("input[name=client]").fill("Nobody Inc")
            await form.locator("button[type=submit]").click()
            error = form.locator('[data-error-for="client"]')
            await error.wait_for(state="visible")
            assert "Nobody Inc" in await error.inner_text()
            await form.locator("input[name=client]").fill("Acme")
            await form.locator("textarea[name=note]").fill("Talked about the audit")
            await form.locator("button[type=submit]").click()
            await page.locator(".card.tone-success", has_text="Logged call").wait_for()

            await page.screenshot(path=str(OUT / "chat.png"))

            await page.goto(server + "/dashboard")
            await page.wait_for_selector("body[data-charts=ready]")
            for chart in ("coverage", "heatmap", "load"):
                svg = page.locator(f"#chart-{chart} svg.main-svg").first
                await svg.wait_for()
            weeks = await page.evaluate("document.getElementById('chart-coverage').data[0].y")
            assert len(weeks) == 12 and weeks[-1] == 100  # Acme, touched today
            assert await page.locator("#chart-coverage .scatterlayer .point").count() >= 1
            cells = await page.evaluate(
                "document.getElementById('chart-heatmap').data[0].z.flat().reduce((a, b) => a + b)"
            )
            assert cells == 2  # the lunch and the call, both this week
            for chart in ("chart-coverage", "chart-load", "chart-heatmap"):
                assert await page.evaluate(CUT_LABELS, chart) == [], chart
            assert await page.evaluate(SPILLED) == []
            await page.screenshot(path=str(OUT / "dashboard.png"), full_page=True)
        finally:
            await browser.close()
    assert not problems, problems


PHONE = {"width": 390, "height": 844}
LONG_NAME = "Margaret Featherstonehaugh"
LONG_CLIENT = "Hooli Extremely Long Holdings Limited"

# Nothing sticks out past the right edge of the screen: neither the page nor anything inside a
# scrolling part of it (the transcript), but for the rows made to be swiped (the command chips,
# a wide table).
SIDEWAYS = """() => {
  const out = [];
  if (document.scrollingElement.scrollWidth > innerWidth)
    out.push('page ' + document.scrollingElement.scrollWidth);
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.chips, .table-wrap, svg, [hidden]')) continue;
    const r = el.getBoundingClientRect();
    if (r.width && r.right > innerWidth + 1)
      out.push(el.tagName + '.' + el.className + ' ' + (el.textContent || '').trim().slice(0, 30));
  }
  return out;
}"""
# Every visible control, once scrolled into view, is the topmost thing at its own centre.
COVERED = """() => {
  const out = [];
  for (const el of document.querySelectorAll('button, a.btn, a.tab, select, input')) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || el.closest('[hidden]') || el.type === 'hidden') continue;
    el.scrollIntoView({block: 'center', inline: 'nearest'});
    const r = el.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const hit = document.elementFromPoint(x, y);
    const inView = x >= 0 && x <= innerWidth && y >= 0 && y <= innerHeight;
    if (!inView || !hit || !(hit === el || el.contains(hit)))
      out.push((el.textContent || el.name || el.id || el.tagName).trim().slice(0, 40));
  }
  return out;
}"""
# Each drawn chart lies inside its panel (not over the next one).
SPILLED = """() => [...document.querySelectorAll('.panel')].flatMap((panel) => {
  const p = panel.getBoundingClientRect();
  return [...panel.querySelectorAll('svg.main-svg')].filter((svg) => {
    const r = svg.getBoundingClientRect();
    return r.top < p.top || r.bottom > p.bottom + 1 || r.left < p.left || r.right > p.right + 1;
  }).map(() => panel.querySelector('h2').textContent);
})"""
# Each chart's axis labels lie wholly inside the chart, and none overlaps the next.
CUT_LABELS = """(id) => {
  const svg = document.querySelector('#' + id + ' svg.main-svg').getBoundingClientRect();
  const out = [];
  for (const axis of ['.xtick text', '.ytick text']) {
    const boxes = [...document.querySelectorAll('#' + id + ' ' + axis)].map((t) => [t, t.getBoundingClientRect()]);
    boxes.forEach(([t, r], i) => {
      if (r.left < svg.left - 1 || r.right > svg.right + 1 || r.top < svg.top - 1 || r.bottom > svg.bottom + 1)
        out.push('cut: ' + t.textContent);
      const next = boxes[i + 1] && boxes[i + 1][1];
      if (next && r.right > next.left + 1 && r.left < next.right - 1 && r.bottom > next.top + 1 && r.top < next.bottom - 1)
        out.push('overlaps: ' + t.textContent);
    });
  }
  return out;
}"""


async def test_chat_and_dashboard_on_a_phone(server: str) -> None:
    OUT.mkdir(exist_ok=True)
    problems: list[str] = []
    assert async_playwright is not None
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.set_default_timeout(8000)

            await page.goto(server + "/")
            await page.wait_for_selector("text=Enter your name at the top to start.")
            await page.screenshot(path=str(OUT / "phone-start.png"))
            assert await page.locator("#digest").is_hidden()  # nobody's digest before a name
            assert await page.evaluate(SIDEWAYS) == []
            assert await page.evaluate(COVERED) == []
            start = page.locator("#new-person button[type=submit]")
            box = await start.bounding_box()
            assert box is not None
            at_centre = await page.evaluate(
                "([x, y]) => document.elementFromPoint(x, y).textContent.trim()",
                [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
            )
            assert at_centre == "Start"

            await page.fill("#new-person-name", LONG_NAME)
            await start.tap()
            await page.wait_for_selector(f"text=You are now {LONG_NAME}.")
            assert await page.locator("#digest").is_visible()
            # The top bar and heading leave most of the screen to the conversation.
            top = await page.evaluate("document.getElementById('transcript').offsetTop")
            assert top < 0.2 * PHONE["height"], top

            for name in ("Acme", "Pied Piper Inc.", LONG_CLIENT):
                await send(page, f"/client add {name}")
                await page.wait_for_selector(f".card.tone-success >> text=Added {name}")
            await send(page, "/touch Acme lunch with CFO")
            await page.locator(".card.tone-success", has_text="Logged lunch").wait_for()
            await send(page, "/clients")
            folio = page.locator(".card", has_text="Your portfolio").last
            await folio.wait_for()
            assert await folio.locator("ul.linked-list li").count() == 3
            await page.screenshot(path=str(OUT / "phone-portfolio.png"))
            assert await page.evaluate(SIDEWAYS) == []
            assert await page.evaluate(COVERED) == []

            await folio.locator("button.client-link", has_text=LONG_CLIENT).tap()
            card = page.locator(".card", has=page.locator("h3.card-title", has_text=LONG_CLIENT))
            await card.wait_for()
            assert "Nothing logged yet." in await card.inner_text()
            assert await card.evaluate("(c) => c.getBoundingClientRect().bottom <= innerHeight")
            await page.screenshot(path=str(OUT / "phone-chat.png"))
            assert await page.evaluate(SIDEWAYS) == []
            assert await page.evaluate(COVERED) == []

            await card.locator("button[data-action-id=log_touch_open]").tap()
            form = page.locator("form[data-form-id=log_touch]").last
            await form.wait_for()
            await page.screenshot(path=str(OUT / "phone-form.png"))
            assert await page.evaluate(SIDEWAYS) == []
            assert await page.evaluate(COVERED) == []
            await form.locator("textarea[name=note]").fill("Coffee near their office")
            await form.locator("button[type=submit]").tap()
            await page.locator(".card.tone-success", has_text="Logged").last.wait_for()

            await page.goto(server + "/dashboard")
            await page.wait_for_selector("body[data-charts=ready]")
            await page.screenshot(path=str(OUT / "phone-dashboard.png"), full_page=True)
            assert await page.evaluate(SIDEWAYS) == []
            # Names in full, not "Margaret …" (a long one wrapped onto two lines on a phone).
            lines = "(id) => [...document.querySelectorAll(id + ' .ytick text')].map((t) => "
            lines += "t.querySelectorAll('tspan').length ? [...t.querySelectorAll('tspan')]"
            lines += ".map((s) => s.textContent).join(' / ') : t.textContent)"
            assert await page.evaluate(lines, "#chart-load") == ["Margaret / Featherstonehaugh"]
            assert sorted(await page.evaluate(lines, "#chart-heatmap")) == [
                "Acme",
                "Hooli Extremely / Long Holdings / Limited",
                "Pied Piper Inc.",
            ]
            for chart in ("chart-coverage", "chart-load", "chart-heatmap"):
                assert await page.evaluate(CUT_LABELS, chart) == [], chart
            assert await page.evaluate(SPILLED) == []
            assert await page.evaluate(COVERED) == []
        finally:
            await browser.close()
    assert not problems, problems
