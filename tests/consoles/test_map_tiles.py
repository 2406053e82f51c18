"""The map in Chromium: offline outline by default, tiles from the configured origin when set.

A fixture tile server on 127.0.0.1 (its own port, so its own origin) serves PNG tiles; the
desk must draw them, fetch nothing from anywhere else, and a click at street zoom must land
where it was made.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import Response
from playwright.async_api import Page

from baiying_consoles.config import MapSettings
from baiying_shared.auth import mint_token
from baiying_shared.settings import CommonSettings
from tests.consoles.browser import Watch, chromium, shoot
from tests.consoles.fake_dispatcher import FakeDispatcher, app_with
from tests.support import serving

pytestmark = pytest.mark.browser
TIMEOUT = 10_000
PLACE = (25.8290, 114.9330)  # central 章贡区


def _png(rgb: tuple[int, int, int], size: int = 256) -> bytes:
    """A one-colour PNG with a dark one-pixel border, so tile edges show in a screenshot."""
    edge, fill = bytes((90, 100, 110)), bytes(rgb)
    rows = [b"\0" + edge * size] + [b"\0" + edge + fill * (size - 2) + edge] * (size - 2)
    rows.append(b"\0" + edge * size)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def tile_server(served: list[str]) -> FastAPI:
    app = FastAPI()
    tile = _png((236, 228, 206))

    @app.get("/tiles/{z}/{x}/{y}.png")
    async def get(z: int, x: int, y: int) -> Response:
        served.append(f"{z}/{x}/{y}")
        return Response(tile, media_type="image/png")

    return app


def _desk_token() -> str:
    return str(mint_token(CommonSettings(), sub="desk-tiles", role="duty_desk",
                          districts=["360702"]))


async def _open_desk(page: Page, base: str) -> None:
    await page.goto(base + "/desk")
    await page.evaluate("t => localStorage.setItem('baiying.token', t)", _desk_token())
    await page.goto(base + "/desk")
    await page.wait_for_selector("#live[data-state=live]", timeout=TIMEOUT)


async def _click_at(page: Page, lat: float, lon: float, zoom: int) -> dict[str, Any]:
    """Zoom the desk map onto (lat, lon), click that point, return what the form says."""
    point = await page.evaluate(
        """([lat, lon, zoom]) => {
            const m = document.querySelector('.map').geomap;
            m.zoomTo(lat, lon, zoom);
            return m.pointOf(lat + 0.0004, lon + 0.0006);
        }""", [lat, lon, zoom])
    await page.mouse.click(point["x"], point["y"])
    return {"lat": float(await page.input_value("input[name=lat]")),
            "lon": float(await page.input_value("input[name=lon]")),
            "district": await page.input_value("select[name=district]")}


async def test_tiles_come_only_from_the_configured_origin() -> None:
    served: list[str] = []
    async with serving(tile_server(served)) as tiles:
        settings = MapSettings(tiles=tiles + "/tiles/{z}/{x}/{y}.png", attribution="fixture tiles")
        async with serving(app_with(FakeDispatcher(), settings)) as base, chromium() as browser:
            watch = Watch()
            page = watch.attach(await browser.new_page(viewport={"width": 1440, "height": 900}))
            await _open_desk(page, base)
            await page.wait_for_selector("img.leaflet-tile-loaded", timeout=TIMEOUT)
            got = await _click_at(page, *PLACE, zoom=16)
            await page.wait_for_selector("img.leaflet-tile-loaded", timeout=TIMEOUT)
            await shoot(page, "map-tiles-street-zoom")
            await page.close()
            watch.assert_clean(base, tiles)
    assert any(t.startswith("16/") for t in served), served  # street-zoom tiles were asked for
    assert got["district"] == "360702"
    # A click lands where it was made: within a metre or two at street zoom.
    assert abs(got["lat"] - (PLACE[0] + 0.0004)) < 2e-5
    assert abs(got["lon"] - (PLACE[1] + 0.0006)) < 2e-5


@pytest.mark.parametrize("zoom", [8, 12])
async def test_offline_outline_by_default_and_clicks_land_at_any_zoom(zoom: int) -> None:
    async with serving(app_with(FakeDispatcher())) as base, chromium() as browser:
        watch = Watch()
        page = watch.attach(await browser.new_page(viewport={"width": 1440, "height": 900}))
        await _open_desk(page, base)
        assert await page.locator("path.cell").count() == 18
        assert await page.locator("img.leaflet-tile").count() == 0
        got = await _click_at(page, *PLACE, zoom=zoom)
        if zoom == 8:
            await shoot(page, "map-offline-city")
        await page.close()
        watch.assert_clean(base)
    # One screen pixel is ~600 m at zoom 8 and ~40 m at 12: the pick is the pixel clicked.
    tolerance = 360 / 2 ** (zoom + 8) * 1.5
    assert abs(got["lat"] - (PLACE[0] + 0.0004)) < tolerance
    assert abs(got["lon"] - (PLACE[1] + 0.0006)) < tolerance
