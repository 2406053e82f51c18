"""Serve the consoles: HTML pages at /desk and /dashboard…, assets under /console-static/.

The pages are plain files shipped in the package; all data comes from the dispatcher API in
the browser, so this router needs no database and no auth of its own. Its one setting is the
optional base-map tile source (`MapSettings`), given to the pages at /console-config.json and
written into each page's Content-Security-Policy: the browser itself refuses any other origin.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from baiying_consoles import registry_proxy
from baiying_consoles.config import MapSettings

STATIC = Path(__file__).resolve().parent / "static"
ASSET_PREFIX = "/console-static"

# Explicit types: the platform's mimetypes table may lack .mjs/.json or map .js to text/plain,
# and browsers refuse ES modules served with a non-JavaScript type.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".map": "application/json",
    ".png": "image/png",
}
# Screens served from the one template screen.html, each with its own js/<name>.js.
SCREENS = ("roster", "cases", "hotspots", "report")
# Pages may change between deploys; keep the browser asking (ETag/Last-Modified make it cheap).
NO_CACHE = {"Cache-Control": "no-cache"}


def _file(path: Path, headers: dict[str, str] | None = None) -> FileResponse:
    media_type = CONTENT_TYPES.get(path.suffix)
    if media_type is None or not path.is_file():
        raise HTTPException(404, "not found")
    return FileResponse(path, media_type=media_type, headers={**NO_CACHE, **(headers or {})})


def content_policy(settings: MapSettings) -> str:
    """Pages load from their own origin only; images also from the tile origins, if any."""
    images = " ".join(["'self'", "data:", *settings.origins()])
    # Inline style attributes: the map library and the progress bars position by style.
    return (f"default-src 'self'; img-src {images}; style-src 'self' 'unsafe-inline'; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _asset(rel: str) -> Path:
    """Resolve `rel` inside STATIC, refusing anything that escapes it."""
    path = (STATIC / rel).resolve()
    if not path.is_relative_to(STATIC):
        raise HTTPException(404, "not found")
    return path


def router(
    settings: MapSettings | None = None, registry: registry_proxy.RegistryLink | None = None,
) -> APIRouter:
    """Pages and assets of the duty desk and the supervisor dashboard."""
    settings = settings or MapSettings()
    pages = {p.stem for p in STATIC.glob("*.html")} - {"screen"}
    template = (STATIC / "screen.html").read_text(encoding="utf-8")
    page_headers = {"Content-Security-Policy": content_policy(settings)}
    r = APIRouter(tags=["consoles"], include_in_schema=False)

    @r.get("/desk")
    async def desk() -> FileResponse:
        return _file(STATIC / "desk.html", page_headers)

    @r.get("/console-config.json")
    async def config() -> dict[str, object]:
        return settings.public()

    # The dashboard is one page; its script routes on the path (list, incident, stats).
    @r.get("/dashboard")
    @r.get("/dashboard/stats")
    @r.get("/dashboard/incidents/{incident_id}")
    async def dashboard() -> FileResponse:
        return _file(STATIC / "dashboard.html", page_headers)

    # Every other screen is one page at its file name (/roster.html, /cases.html …), so pages
    # link to each other relatively (hotspots → campaigns.html?hotspot=…): a page file of its
    # own, or one of SCREENS, which differ only in their script and share screen.html.
    @r.get("/{name}.html")
    async def screen(name: str) -> Response:
        if name in pages:
            return _file(STATIC / f"{name}.html", page_headers)
        if name not in SCREENS:
            raise HTTPException(404, "not found")
        body = template.replace("{screen}", name)
        return HTMLResponse(body, headers={**NO_CACHE, **page_headers})

    r.include_router(registry_proxy.router(registry))  # the roster page's registry reads

    @r.get("/consoles")
    async def consoles() -> RedirectResponse:
        return RedirectResponse("/dashboard")

    @r.get(ASSET_PREFIX + "/{rel:path}")
    async def asset(rel: str) -> FileResponse:
        return _file(_asset(rel))

    return r
