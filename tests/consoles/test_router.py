"""The consoles router without a browser: pages, assets and their content types, the geo data."""

from __future__ import annotations

import importlib.util
import json
import re
import uuid
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from baiying_consoles import router
from baiying_consoles.config import MapSettings
from baiying_consoles.web import STATIC

EXPECTED_CODES = {
    "360702", "360703", "360704", "360722", "360723", "360724", "360725", "360726", "360728",
    "360729", "360730", "360731", "360732", "360733", "360734", "360735", "360781", "360783",
}
TOOL = STATIC.parent / "tools" / "build_geo.py"
VENDOR = STATIC / "vendor"  # installed by deploy/local/webdeps.sh, not committed
OURS = [p for p in STATIC.rglob("*") if p.is_file() and not p.is_relative_to(VENDOR)]
ASSETS = sorted(p.relative_to(STATIC).as_posix() for p in OURS)
LEAFLET = ["vendor/leaflet/leaflet-src.esm.js", "vendor/leaflet/leaflet.css"]


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(router())
    return TestClient(app)


@pytest.mark.parametrize(
    "path", ["/desk", "/dashboard", "/dashboard/stats", f"/dashboard/incidents/{uuid.uuid4()}"]
)
def test_pages_are_html(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script type="module"' in r.text


@pytest.mark.parametrize("rel", ASSETS)
def test_assets_have_their_content_type(client: TestClient, rel: str) -> None:
    r = client.get(f"/console-static/{rel}")
    assert r.status_code == 200
    expected = {
        ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
        ".json": "application/json", ".html": "text/html; charset=utf-8",
    }[Path(rel).suffix]
    assert r.headers["content-type"] == expected


@pytest.mark.parametrize("rel", LEAFLET)
def test_the_map_library_is_served_locally(client: TestClient, rel: str) -> None:
    """Leaflet comes from npm via deploy/local/webdeps.sh and is served from our own origin."""
    assert (VENDOR / "leaflet" / "VERSION").is_file(), "run deploy/local/webdeps.sh"
    r = client.get(f"/console-static/{rel}")
    assert r.status_code == 200
    kind = {".js": "text/javascript", ".css": "text/css"}[Path(rel).suffix]
    assert r.headers["content-type"].startswith(kind)


def test_without_tiles_the_pages_reach_only_their_origin(client: TestClient) -> None:
    assert client.get("/console-config.json").json() == {"tiles": None, "auth": {"mode": "dev"}}
    csp = client.get("/desk").headers["content-security-policy"]
    assert "img-src 'self' data:;" in csp and "connect-src 'self';" in csp


def test_a_tile_template_reaches_the_page_and_its_policy() -> None:
    settings = MapSettings(tiles="https://t{s}.tiles.example:8443/v/{z}/{x}/{y}.png",
                           subdomains="01", attribution="© example")
    app = FastAPI()
    app.include_router(router(settings))
    c = TestClient(app)
    tiles = c.get("/console-config.json").json()["tiles"]
    assert tiles["url"] == "https://t{s}.tiles.example:8443/v/{z}/{x}/{y}.png"
    assert tiles["subdomains"] == "01" and tiles["attribution"] == "© example"
    csp = c.get("/dashboard").headers["content-security-policy"]
    origins = "https://t0.tiles.example:8443 https://t1.tiles.example:8443"
    assert f"img-src 'self' data: {origins};" in csp


def test_wmts_names_become_xyz() -> None:
    s = MapSettings(tiles="http://127.0.0.1:9/wmts?TILEMATRIX={TileMatrix}&TILEROW={TileRow}&TILECOL={TileCol}&tk=k")
    assert s.tiles == "http://127.0.0.1:9/wmts?TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=k"
    assert s.origins() == ["http://127.0.0.1:9"]


@pytest.mark.parametrize("bad", ["ftp://x/{z}/{x}/{y}", "https://x/{z}/{x}.png", "t/{z}/{x}/{y}"])
def test_a_bad_tile_template_is_refused_naming_the_setting(bad: str) -> None:
    with pytest.raises(ValidationError, match="tiles"):
        MapSettings(tiles=bad)


@pytest.mark.parametrize("path", ["/console-static/../web.py", "/console-static/%2e%2e/web.py",
                                  "/console-static/js/nope.js", "/console-static/js"])
def test_nothing_outside_the_static_files(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_module_imports_resolve() -> None:
    """Every relative ES-module import names a shipped file (no build step catches typos)."""
    for js in (STATIC / "js").glob("*.js"):
        for target in re.findall(r"from '(\./[^']+)'", js.read_text(encoding="utf-8")):
            assert (js.parent / target).is_file(), f"{js.name} imports missing {target}"


def test_no_request_leaves_the_origin() -> None:
    """No CDN, font or tile URL anywhere in the shipped files (the SVG namespace is not a fetch)."""
    for path in OURS:
        if path.suffix in (".js", ".css", ".html"):
            urls = re.findall(r"https?://[^\s'\"`)]+", path.read_text(encoding="utf-8"))
            assert [u for u in urls if u != "http://www.w3.org/2000/svg"] == [], path.name


def _inside(lon: float, lat: float, poly: list[list[float]]) -> bool:
    """Ray casting: is the point inside the polygon?"""
    inside = False
    for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1], strict=True):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def test_geo_has_all_divisions_with_their_seat_inside_their_cell() -> None:
    geo = json.loads((STATIC / "geo" / "ganzhou.json").read_text(encoding="utf-8"))
    divisions = geo["divisions"]
    assert {d["code"] for d in divisions} == EXPECTED_CODES
    for d in divisions:
        assert d["name"] and d["name_en"]
        seat = d["seat"]
        assert _inside(seat["lon"], seat["lat"], d["cell"]), d["code"]
        others = [o for o in divisions if o is not d]
        assert not any(_inside(o["seat"]["lon"], o["seat"]["lat"], d["cell"]) for o in others)


def test_committed_cells_are_what_the_tool_builds() -> None:
    """Rebuilding from the committed seats and bbox gives the committed cells (no hand edits)."""
    spec = importlib.util.spec_from_file_location("build_geo", TOOL)
    assert spec and spec.loader
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    geo = json.loads((STATIC / "geo" / "ganzhou.json").read_text(encoding="utf-8"))
    city = {**geo["city"], "bbox_wgs84": geo["city"]["bbox"]}
    ref = {"city": city, "divisions": geo["divisions"]}
    assert tool.build(ref)["divisions"] == geo["divisions"]
