"""The web chat and dashboard in a real headless Chromium, driven by Playwright.

Uses Debian's chromium (/usr/bin/chromium, or CHROMIUM_PATH); Playwright's own browser
download is never used. Skipped, with the reason, where either is missing. Screenshots go to
test-output/chat.png and test-output/dashboard.png.
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

            await send(page, "/client add Acme")
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
            await page.screenshot(path=str(OUT / "dashboard.png"), full_page=True)
        finally:
            await browser.close()
    assert not problems, problems
