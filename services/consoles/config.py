"""Settings of the consoles: an optional base-map tile source (env BAIYING_MAP_…) and sign-in.

Unset, the consoles draw their offline outline (district cells and seats) and reach nothing
but their own origin. Set, they draw tiles from that one source under the same layers, e.g.
a self-hosted XYZ server or 天地图 with its key:

    BAIYING_MAP_TILES='https://tiles.example.org/osm/{z}/{x}/{y}.png'
    BAIYING_MAP_TILES='https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile
        &VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles
        &TILEMATRIX={TileMatrix}&TILEROW={TileRow}&TILECOL={TileCol}&tk=KEY'
    BAIYING_MAP_SUBDOMAINS=01234567
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from baiying_shared.auth import oidc_config
from baiying_shared.settings import CommonSettings

# WMTS KVP/REST names for the tile address, rewritten to the XYZ names the map library uses.
WMTS_NAMES = {"{TileMatrix}": "{z}", "{TileCol}": "{x}", "{TileRow}": "{y}"}


class MapSettings(BaseSettings):
    """Where base-map tiles come from, if anywhere."""

    model_config = SettingsConfigDict(env_prefix="BAIYING_MAP_", env_file=".env", extra="ignore")

    tiles: str = ""  # URL template with {z} {x} {y} (or WMTS {TileMatrix} {TileCol} {TileRow})
    subdomains: str = "abc"  # what {s} in the template cycles through
    attribution: str = Field(default="", max_length=300)
    max_zoom: int = Field(default=18, ge=1, le=22)

    @field_validator("tiles")
    @classmethod
    def _template(cls, v: str) -> str:
        v = v.strip()
        for wmts, xyz in WMTS_NAMES.items():
            v = v.replace(wmts, xyz)
        if not v:
            return v
        if urlsplit(v).scheme not in ("http", "https"):
            raise ValueError("tiles: an http(s) URL template")
        if not all(k in v for k in ("{z}", "{x}", "{y}")):
            raise ValueError("tiles: the template needs {z}, {x} and {y} (or the WMTS names)")
        return v

    def origins(self) -> list[str]:
        """Every scheme://host[:port] the tiles may come from ({s} expanded)."""
        if not self.tiles:
            return []
        parts = urlsplit(self.tiles)
        hosts = {parts.netloc}
        if "{s}" in parts.netloc:
            hosts = {parts.netloc.replace("{s}", s) for s in self.subdomains or ""}
        return sorted(f"{parts.scheme}://{h}" for h in hosts if re.fullmatch(r"[\w.:\-\[\]]+", h))

    def public(self) -> dict[str, object]:
        """What the pages get at /console-config.json."""
        tiles = None
        if self.tiles:
            tiles = {"url": self.tiles, "subdomains": self.subdomains,
                     "attribution": self.attribution, "max_zoom": self.max_zoom}
        return {"tiles": tiles}


@dataclass(frozen=True)
class SignIn:
    """How the pages sign staff in: pasted development tokens, or the OIDC provider's code flow.

    Taken from the dispatcher's own settings (BAIYING_IDP, BAIYING_OIDC_ISSUER,
    BAIYING_OIDC_CLIENT_ID), so the pages ask the provider whose tokens the API accepts.
    """

    issuer: str = ""  # empty: development tokens only
    client_id: str = ""

    @classmethod
    def of(cls, settings: CommonSettings) -> SignIn:
        config = oidc_config(settings)
        if config is None:
            return cls()
        return cls(issuer=config.issuer.rstrip("/"), client_id=settings.oidc_client_id)

    def origin(self) -> str | None:
        """The provider's scheme://host[:port] (discovery and token calls go there)."""
        if not self.issuer:
            return None
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    def public(self) -> dict[str, object]:
        if not self.issuer:
            return {"mode": "dev"}
        return {"mode": "oidc", "issuer": self.issuer, "client_id": self.client_id,
                "scope": "openid profile"}
