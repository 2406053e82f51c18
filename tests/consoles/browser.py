"""Headless Debian Chromium for the console tests: launch, watch a page, keep screenshots."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# `make test` (the README's command) installs chromium and sets BAIYING_REQUIRE_BROWSER, so a
# newcomer's run fails here rather than passing with the browser tests quietly skipped.
if not CHROMIUM.exists():  # pragma: no cover - depends on the machine
    _why = ("no /usr/bin/chromium: apt-get install -y chromium fonts-noto-cjk "
            "(deploy/local/install.sh does it with BAIYING_INSTALL_BROWSER=1)")
    if os.environ.get("BAIYING_REQUIRE_BROWSER") == "1":
        raise RuntimeError(_why)
    pytest.skip(_why, allow_module_level=True)

from playwright.async_api import Browser, ConsoleMessage, Page, Request, async_playwright  # noqa: E402


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Watch:
    """Everything a page did that a test must check: console errors and where it reached."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    allowed: list[tuple[str, str]] = field(default_factory=list)

    def allow(self, status: int, path: str) -> None:
        """Chromium logs every 4xx response as an error; accept one a test provokes on purpose."""
        self.allowed.append((f"status of {status}", path))

    def attach(self, page: Page) -> Page:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("request", self._request)
        return page

    def _console(self, msg: ConsoleMessage) -> None:
        url = str(msg.location.get("url", ""))
        if any(text in msg.text and url.endswith(path) for text, path in self.allowed):
            return
        if msg.type == "error":
            self.errors.append(f"console: {msg.text} @ {msg.location}")

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def assert_clean(self, *origins: str) -> None:
        assert self.errors == [], self.errors
        foreign = [u for u in self.requests
                   if not u.startswith("data:") and not any(u.startswith(o + "/") for o in origins)]
        assert foreign == [], foreign


async def shoot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
