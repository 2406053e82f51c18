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

from baiying_consoles import router
from baiying_consoles.web import STATIC

EXPECTED_CODES = {
    "360702", "360703", "360704", "360722", "360723", "360724", "360725", "360726", "360728",
    "360729", "360730", "360731", "360732", "360733", "360734", "360735", "360781", "360783",
}
TOOL = STATIC.parent / "tools" / "build_geo.py"
ASSETS = sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file())


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
    for path in STATIC.rglob("*"):
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
