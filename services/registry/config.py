"""Registry settings (env BAIYING_…): service area, import limit, schema."""

from __future__ import annotations

from pydantic import Field, model_validator

from baiying_registry.reference import BBox, ganzhou
from baiying_shared.settings import CommonSettings

_AREA = ganzhou().bbox  # default service area: 赣州市


class RegistrySettings(CommonSettings):
    """What the registry needs beyond the common settings."""

    # Tests give each case its own schema; deployments keep the catalogue's "registry".
    db_schema: str = Field(default="registry", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    area_min_lon: float = _AREA.min_lon
    area_min_lat: float = _AREA.min_lat
    area_max_lon: float = _AREA.max_lon
    area_max_lat: float = _AREA.max_lat
    # A CSV upload larger than this is refused with 413 before it is parsed.
    import_max_bytes: int = Field(default=128 * 1024 * 1024, gt=0)

    @model_validator(mode="after")
    def _area_is_a_rectangle(self) -> RegistrySettings:
        if not (self.area_min_lon < self.area_max_lon and self.area_min_lat < self.area_max_lat):
            raise ValueError("service area: min must be below max for both lon and lat")
        return self

    @property
    def area(self) -> BBox:
        return BBox(self.area_min_lon, self.area_min_lat, self.area_max_lon, self.area_max_lat)
