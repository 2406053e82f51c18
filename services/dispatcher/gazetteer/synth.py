"""A realistic synthetic gazetteer per district, for demos and drills. Deterministic, no I/O.

Roads, house numbers and estates are put together from common Chinese place-name parts
around each district's seat, so a desk can type 文清路 or 阳光花园 and find a point that
lies in the right district. The same district always gets the same addresses.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from baiying_dispatcher.gazetteer.rows import Address
from baiying_shared.reference import districts

_ROAD_STEMS = (
    "红旗", "文清", "章江", "解放", "赣江", "长征", "建国", "人民", "滨江", "和平", "新华",
    "健康", "阳明", "东门", "南门", "西津", "厚德", "兴国", "朝阳", "光明", "青年", "翠微",
    "迎宾", "站前", "工业", "学府", "沿江", "金岭", "黄金", "水东",
)
_ROAD_KINDS = ("路", "路", "路", "街", "大道", "巷")
_ESTATE_STEMS = (
    "阳光", "锦绣", "翠微", "金色", "滨江", "书香", "紫荆", "丽景", "和谐", "幸福", "香樟",
    "桂花", "恒大", "碧桂", "华润", "御景", "水岸", "东方", "天骄", "怡园",
)
_ESTATE_KINDS = ("花园", "华庭", "苑", "小区", "新村", "家园", "公馆")
_COMMUNITY_STEMS = ("解放", "和平", "健康", "南外", "东外", "西门", "水南", "沙石", "新赣",
                    "黄金", "厚德", "光明", "长塘", "杨梅", "蟠龙", "城关")

_M_PER_DEG_LAT = 111_320.0


def _near(rng: random.Random, lat: float, lon: float, radius_m: float) -> tuple[float, float]:
    # Uniform over a disc: sqrt keeps the centre from crowding.
    r, a = radius_m * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    dlat = r * math.cos(a) / _M_PER_DEG_LAT
    dlon = r * math.sin(a) / (_M_PER_DEG_LAT * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def addresses(district: str, *, count: int = 200, radius_m: float = 3000) -> list[Address]:
    """`count` distinct standard addresses around the district's seat."""
    seat = districts()[district]
    rng = random.Random(f"gazetteer:{district}")  # str seeds are stable across runs
    roads = [s + k for s, k in zip(rng.sample(_ROAD_STEMS, 12),
                                   rng.choices(_ROAD_KINDS, k=12), strict=True)]
    estates = [s + rng.choice(_ESTATE_KINDS) for s in rng.sample(_ESTATE_STEMS, 10)]
    communities = [s + "社区" for s in rng.sample(_COMMUNITY_STEMS, 6)]
    out: dict[str, Address] = {}
    for text in _texts(rng, roads, estates):
        if len(out) >= count:
            break
        if text in out:
            continue
        lat, lon = _near(rng, seat.lat, seat.lon, radius_m)
        community = communities[_sector(lat - seat.lat, lon - seat.lon, len(communities))]
        out[text] = Address(text, district, community, community.removesuffix("社区") + "警务室",
                            lat, lon)
    return list(out.values())


def _texts(rng: random.Random, roads: list[str], estates: list[str]) -> Iterator[str]:
    """Endless addresses: 'X路12号', sometimes with an estate and building, '…阳光花园3栋'."""
    while True:
        road, number = rng.choice(roads), rng.randint(1, 320)
        if rng.random() < 0.4:
            yield f"{road}{number}号{rng.choice(estates)}{rng.randint(1, 24)}栋"
        else:
            yield f"{road}{number}号"


def _sector(dlat: float, dlon: float, n: int) -> int:
    """Which of n pie slices around the seat a point is in: neighbours share a community."""
    return int((math.atan2(dlat, dlon) + math.pi) / (2 * math.pi) * n) % n


def all_districts(*, count: int = 200) -> list[Address]:
    return [a for code in districts() for a in addresses(code, count=count)]
