"""Ganzhou demo people and teams, generated deterministically from a seed. No I/O.

Phones come from ONE demo block, +86 1700 000 0000 – +86 1700 999 9999 (China's 170
virtual-operator range, valid in format). They are fictitious: the demo sends SMS only to
the sandbox gateway. 10,000,000 numbers, so scale ≤ 821 fits.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time
from typing import NamedTuple

from baiying_registry.reference import BBox, Division, Reference

DEMO_BLOCK_PREFIX = "+861700"
DEMO_BLOCK_SIZE = 10_000_000
_STRIDE = 7_919_617  # odd and not a multiple of 5: i -> i*STRIDE mod 10^7 is a bijection
TEAM_SPREAD_DEG = 0.06  # teams sit within a few km of their division's seat
MEMBER_SPREAD_DEG = 0.008  # members live within about a kilometre of their team
_SURNAMES = ("刘" * 6 + "陈" * 5 + "李" * 5 + "黄" * 4 + "钟" * 4 + "曾" * 3 + "谢" * 3
             + "赖" * 3 + "邱温廖肖王张杨罗郭胡朱吴周徐孙何林邓彭蓝叶袁卢宋")
_GIVEN = ("海燕建华明芳伟丽军红强秀英平玲志勇敏静俊春兰桂林"
          "文辉金荣晓国小美德福生永东萍霞婷斌峰涛鹏琴凤梅亮超")
_PLACES = ("红旗", "解放", "和平", "东门", "西津", "水东", "沙石", "黄金", "赣江", "章江", "八一",
           "文清", "南外", "东外", "厚德", "长征", "建设", "光明", "东升", "新华", "胜利", "红星",
           "龙岭", "石角", "梅林", "花园", "文化", "滨江", "五龙", "虔城")
_SKILLS = (("first_aid", 0.25), ("driver", 0.2), ("mediation", 0.15), ("fire_safety", 0.1),
           ("anti_fraud", 0.1), ("sign_language", 0.02))
_QUIET = ((time(22, 0), time(7, 0)), (time(23, 0), time(6, 30)))


@dataclass(frozen=True)
class SeedTeam:
    index: int
    id: uuid.UUID
    name: str
    type: str
    district: str
    community: str
    leader_id: uuid.UUID
    lat: float
    lon: float
    size: int


class SeedVolunteer(NamedTuple):
    """One demo person, in the seed staging table's column order."""

    id: uuid.UUID
    name: str
    phone: str
    team_id: uuid.UUID
    district: str
    lat: float
    lon: float
    skills: list[str]
    channels: list[str]
    on_duty: bool
    daily_alert_cap: int
    quiet_start: time | None
    quiet_end: time | None


def demo_phone(i: int, *, seed: int) -> str:
    """The i-th demo number for this seed; distinct for distinct i < DEMO_BLOCK_SIZE."""
    n = (i * _STRIDE + seed * 104_729) % DEMO_BLOCK_SIZE
    return f"{DEMO_BLOCK_PREFIX}{n:07d}"


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _near(
    rng: random.Random, lat: float, lon: float, spread: float, area: BBox
) -> tuple[float, float]:
    margin = 0.001
    la = min(max(rng.gauss(lat, spread), area.min_lat + margin), area.max_lat - margin)
    lo = min(max(rng.gauss(lon, spread), area.min_lon + margin), area.max_lon - margin)
    return round(la, 6), round(lo, 6)


def plan_teams(ref: Reference, *, seed: int, scale: int) -> list[SeedTeam]:
    """Every team with its place, leader id and member count (exact per-type totals)."""
    if scale < 1 or sum(f.members for f in ref.five_teams) * scale > DEMO_BLOCK_SIZE:
        raise ValueError(f"scale must be 1..{DEMO_BLOCK_SIZE // 12_179}")
    rng = random.Random(seed)
    teams: list[SeedTeam] = []
    for figure in ref.five_teams:
        n_teams, n_members = figure.teams * scale, figure.members * scale
        sizes = _split(rng, n_members, n_teams)
        order = list(ref.divisions)
        rng.shuffle(order)  # which divisions get the extra teams varies with the seed
        per_division: dict[str, int] = {}
        for k in range(n_teams):
            div = order[k % len(order)]
            per_division[div.code] = per_division.get(div.code, 0) + 1
            teams.append(_team(rng, ref, len(teams), figure.name, figure.type.value, div,
                               per_division[div.code], sizes[k]))
    return teams


def _split(rng: random.Random, members: int, teams: int) -> list[int]:
    """Split `members` over `teams`, at least one each, randomly but exactly."""
    sizes = [1] * teams
    for _ in range(members - teams):
        sizes[rng.randrange(teams)] += 1
    return sizes


def _team(rng: random.Random, ref: Reference, index: int, type_name: str, type_: str,
          div: Division, ordinal: int, size: int) -> SeedTeam:
    place = rng.choice(_PLACES)
    urban = div.code in ("360702", "360703", "360704")  # the three city districts
    community = place + ("社区" if urban else rng.choice(("社区", "村")))
    lat, lon = _near(rng, div.seat_lat, div.seat_lon, TEAM_SPREAD_DEG, ref.bbox)
    name = f"{div.name}{community}{type_name}第{ordinal}分队"
    return SeedTeam(index=index, id=_uuid(rng), name=name,
                    type=type_, district=div.code, community=community, leader_id=_uuid(rng),
                    lat=lat, lon=lon, size=size)


def volunteers(ref: Reference, teams: list[SeedTeam], *, seed: int) -> Iterator[SeedVolunteer]:
    """Every member of every team, team by team; the first of each team is its leader."""
    i = 0
    for team in teams:
        rng = random.Random(seed * 1_000_003 + team.index)  # a team's people depend on it only
        for k in range(team.size):
            yield _person(rng, ref, team, k, demo_phone(i, seed=seed))
            i += 1


def _person(
    rng: random.Random, ref: Reference, team: SeedTeam, k: int, phone: str
) -> SeedVolunteer:
    name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))
    lat, lon = _near(rng, team.lat, team.lon, MEMBER_SPREAD_DEG, ref.bbox)
    skills = [s for s, p in _SKILLS if rng.random() < p]
    channels = ["app", "sms"] if rng.random() < 0.4 else ["sms"]
    quiet = rng.choice(_QUIET) if rng.random() < 0.3 else (None, None)
    return SeedVolunteer(
        id=team.leader_id if k == 0 else _uuid(rng), name=name, phone=phone, team_id=team.id,
        district=team.district, lat=lat, lon=lon, skills=skills, channels=channels,
        on_duty=rng.random() < 0.85, daily_alert_cap=rng.choice((5, 10, 10, 20)),
        quiet_start=quiet[0], quiet_end=quiet[1],
    )
