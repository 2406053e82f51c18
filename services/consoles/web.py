"""Serve the consoles: HTML pages at /desk and /dashboard…, assets under /console-static/.

The pages are plain files shipped in the package; all data comes from the dispatcher API in
the browser (the roster from the registry, through `registry_proxy` on this same origin, with
the caller's token), so this router needs no database and no auth of its own. Its settings are the
optional base-map tile source (`MapSettings`) and the sign-in provider of the mounting service
(`SignIn`, from its settings), given to the pages at /console-config.json and written into each
page's Content-Security-Policy: the browser itself refuses any other origin.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from baiying_consoles import registry_proxy
from baiying_consoles.config import MapSettings, SignIn

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
# Every page is the one template screen.html with its own js/<name>.js. The desk and the
# dashboard keep their own tab title and body class; the other screens share one.
SCREENS = ("roster", "cases", "hotspots", "report", "campaigns")
PAGES = {"desk": ("一呼百应 · 值班台", "body-desk"),
         "dashboard": ("一呼百应 · 态势看板", "body-dashboard")}
# Pages may change between deploys; keep the browser asking (ETag/Last-Modified make it cheap).
NO_CACHE = {"Cache-Control": "no-cache"}


def _file(path: Path, headers: dict[str, str] | None = None) -> FileResponse:
    media_type = CONTENT_TYPES.get(path.suffix)
    if media_type is None or not path.is_file():
        raise HTTPException(404, "not found")
    return FileResponse(path, media_type=media_type, headers={**NO_CACHE, **(headers or {})})


def fill(template: str, name: str) -> str:
    """The template as page `name`: its script, tab title and body class."""
    title, body = PAGES.get(name, ("一呼百应", f"body-dashboard body-{name}"))
    return template.replace("{screen}", name).replace("{title}", title).replace("{body}", body)


def content_policy(settings: MapSettings, sign_in: SignIn | None = None) -> str:
    """Pages load from their own origin only; images also from the tile origins, if any;
    scripts may call the sign-in provider's origin (discovery, token, refresh) and no other."""
    images = " ".join(["'self'", "data:", *settings.origins()])
    provider = sign_in.origin() if sign_in else None
    connect = "'self'" + (f" {provider}" if provider else "")
    # Inline style attributes: the map library and the progress bars position by style.
    return (f"default-src 'self'; img-src {images}; style-src 'self' 'unsafe-inline'; "
            f"connect-src {connect}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def sign_in_of(request: Request) -> SignIn:
    """The provider the mounting service accepts tokens from (none: development tokens)."""
    settings = getattr(request.app.state, "settings", None)
    return SignIn.of(settings) if settings is not None else SignIn()


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
    template = (STATIC / "screen.html").read_text(encoding="utf-8")
    r = APIRouter(tags=["consoles"], include_in_schema=False)

    def page(name: str, request: Request) -> HTMLResponse:
        csp = {"Content-Security-Policy": content_policy(settings, sign_in_of(request))}
        return HTMLResponse(fill(template, name), headers={**NO_CACHE, **csp})

    @r.get("/desk")
    async def desk(request: Request) -> HTMLResponse:
        return page("desk", request)

    @r.get("/console-config.json")
    async def config(request: Request) -> dict[str, object]:
        return {**settings.public(), "auth": sign_in_of(request).public()}

    # The dashboard is one page; its script routes on the path (list, incident, stats).
    @r.get("/dashboard")
    @r.get("/dashboard/stats")
    @r.get("/dashboard/incidents/{incident_id}")
    async def dashboard(request: Request) -> HTMLResponse:
        return page("dashboard", request)

    # Every screen is also a page at its file name (/roster.html, /desk.html …), so pages
    # link to each other relatively (hotspots → campaigns.html?hotspot=…).
    @r.get("/{name}.html")
    async def screen(name: str, request: Request) -> Response:
        if name not in SCREENS and name not in PAGES:
            raise HTTPException(404, "not found")
        return page(name, request)

    r.include_router(registry_proxy.router(registry))  # the roster page's registry reads

    @r.get("/consoles")
    async def consoles() -> RedirectResponse:
        return RedirectResponse("/dashboard")

    @r.get(ASSET_PREFIX + "/{rel:path}")
    async def asset(rel: str) -> FileResponse:
        return _file(_asset(rel))

    return r
