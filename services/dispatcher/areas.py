"""Names of Ganzhou's 18 county-level districts, for the rough location in a first alert."""

from __future__ import annotations

DISTRICT_NAMES: dict[str, str] = {
    "360702": "章贡区", "360703": "南康区", "360704": "赣县区", "360722": "信丰县",
    "360723": "大余县", "360724": "上犹县", "360725": "崇义县", "360726": "安远县",
    "360728": "定南县", "360729": "全南县", "360730": "宁都县", "360731": "于都县",
    "360732": "兴国县", "360733": "会昌县", "360734": "寻乌县", "360735": "石城县",
    "360781": "瑞金市", "360783": "龙南市",
}


def area_name(district: str, area: str | None) -> str:
    """District name plus the optional neighbourhood, never the street address."""
    name = DISTRICT_NAMES.get(district, district)
    return f"{name}{area}" if area else name
