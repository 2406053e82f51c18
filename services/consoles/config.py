"""Map settings of the consoles (env BAIYING_MAP_…): an optional base-map tile source.

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
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
