"""Standard addresses: CSV import with per-line errors, ranked Chinese search, district scope."""

from __future__ import annotations

from typing import Any

import pytest

from baiying_dispatcher.gazetteer.rows import parse
from baiying_dispatcher.gazetteer.synth import addresses
from baiying_shared.auth import Role
from baiying_shared.reference import districts
from tests.dispatcher.conftest import System

ZHANGGONG, NANKANG = "360702", "360703"
HEADER = "address,district,community,police_room,lat,lon\n"


def _csv(*lines: str) -> bytes:
    return (HEADER + "\n".join(lines) + "\n").encode()


async def _import(system: System, body: bytes, *districts_: str) -> Any:
    async with system.client("duty_desk", *(districts_ or (ZHANGGONG,))) as c:
        r = await c.post("/v1/gazetteer/import", content=body,
                         headers={"Content-Type": "text/csv"})
    return r


async def _search(system: System, q: str, *districts_: str, role: Role = "duty_desk",
                  **params: Any) -> Any:
    async with system.client(role, *(districts_ or (ZHANGGONG,))) as c:
        return await c.get("/v1/gazetteer/search", params={"q": q, **params})


async def test_import_reports_each_bad_line_and_keeps_the_good(system: System) -> None:
    r = await _import(system, _csv(
        "文清路88号,360702,南门社区,南门警务室,25.8290,114.9350",
        "文清路90号,999999,南门社区,,25.83,114.93",       # unknown district
        "文清路92号,360702,,,north,114.93",                 # lat not a number
        ",360702,,,25.83,114.93",                           # empty address
        "文清路94号,360702,,,25.83,121.5",                  # outside Ganzhou
        "文清路88号,360702,,,25.83,114.93",                 # duplicate in the file
        "蓉江路1号,360703,,,25.66,114.76",                  # Nankang: not this desk's
        "文清路96号,360702,南门社区,南门警务室,25.8295,114.9352",
        "瑞金路1号,360702,,,25.8856,116.0271",              # Ruijin's point, Zhanggong's code
    ))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["imported"] == 2
    assert [(e["line"], e["field"]) for e in body["errors"]] == [
        (3, "district"), (4, "lat"), (5, "address"), (6, "lon"), (7, "address"), (8, "district"),
        (10, "location"),
    ]
    assert "999999" in body["errors"][0]["message"]
    assert "km outside 章贡区" in body["errors"][-1]["message"]
    # Re-importing the same line updates it instead of doubling it.
    again = await _import(system, _csv("文清路88号,360702,南门社区,南门警务室,25.8291,114.9351"))
    assert again.json() == {"imported": 1, "errors": []}
    found = (await _search(system, "文清路88号")).json()
    assert [a["address"] for a in found].count("文清路88号") == 1


async def test_a_file_without_the_needed_columns_is_refused(system: System) -> None:
    r = await _import(system, b"addr,lat\nx,1\n")
    assert r.status_code == 422
    assert "address" in r.text and "district" in r.text
    assert (await _import(system, "文清路".encode("gbk"))).status_code == 422  # not UTF-8


async def test_only_a_desk_imports(system: System) -> None:
    async with system.client("supervisor", ZHANGGONG) as c:
        r = await c.post("/v1/gazetteer/import", content=_csv("x路1号,360702,,,25.8,114.9"))
    assert r.status_code == 403


async def test_search_ranks_prefix_then_contains_then_similar(system: System) -> None:
    await _import(system, _csv(
        "赣江源大道8号,360702,水东社区,水东警务室,25.84,114.95",
        "赣江路12号阳光花园3栋,360702,解放社区,解放警务室,25.82,114.93",
        "赣江路12号,360702,解放社区,解放警务室,25.8201,114.9301",
        "东门路5号赣江苑,360702,东外社区,东外警务室,25.81,114.94",
    ))
    got = (await _search(system, "赣江路12")).json()
    assert [a["address"] for a in got[:2]] == ["赣江路12号", "赣江路12号阳光花园3栋"]
    top = got[0]
    assert top["district"] == ZHANGGONG and top["area"] == "解放社区"
    assert (top["lat"], top["lon"]) == pytest.approx((25.8201, 114.9301))
    assert top["label"] == "章贡区 赣江路12号（解放社区）"
    # A word from the community or district also finds the address; both words must occur.
    by_community = [a["address"] for a in (await _search(system, "东外社区 东门")).json()]
    assert by_community == ["东门路5号赣江苑"]
    # Prefix matches outrank addresses that only contain the text.
    order = [a["address"] for a in (await _search(system, "赣江")).json()]
    assert order.index("赣江路12号") < order.index("东门路5号赣江苑")
    # One character wrong still finds it, through trigram similarity.
    fuzzy = [a["address"] for a in (await _search(system, "章贡区赣江路12号阳光花圆3栋")).json()]
    assert fuzzy[0] == "赣江路12号阳光花园3栋"


async def test_search_is_scoped_to_the_desks_districts(system: System) -> None:
    await _import(system, _csv("蓉江路1号,360703,,,25.66,114.76"), NANKANG)
    assert [a["address"] for a in (await _search(system, "蓉江路1号", NANKANG)).json()] == [
        "蓉江路1号"]
    assert (await _search(system, "蓉江路1号", ZHANGGONG)).json() == []
    assert (await _search(system, "蓉江路", ZHANGGONG, district=NANKANG)).status_code == 403
    sup = await _search(system, "蓉江路", NANKANG, role="supervisor")
    assert sup.status_code == 200 and len(sup.json()) == 1
    bad = await _search(system, "")
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "q"


async def test_reference_lists_every_category_and_district(system: System) -> None:
    async with system.client() as c:
        ref = (await c.get("/v1/reference")).json()
    assert "robbery" in [x["code"] for x in ref["categories"]]
    assert {x["code"] for x in ref["districts"]} == set(districts())
    assert all(x["zh"] and x["en"] for x in ref["categories"] + ref["districts"])


def test_synthetic_gazetteer_is_deterministic_and_in_its_district() -> None:
    a, b = addresses(NANKANG, count=50), addresses(NANKANG, count=50)
    assert a == b and len({x.address for x in a}) == 50
    seat = districts()[NANKANG]
    assert all(abs(x.lat - seat.lat) < 0.03 and abs(x.lon - seat.lon) < 0.04 for x in a)
    assert all(x.address.endswith(("号", "栋")) and x.community.endswith("社区") for x in a)
    assert addresses(ZHANGGONG, count=5) != addresses(NANKANG, count=5)
    # Its CSV form round-trips through the importer's parser.
    text = HEADER + "".join(
        f"{x.address},{x.district},{x.community},{x.police_room},{x.lat},{x.lon}\n" for x in a)
    good, bad = parse(text)
    assert bad == [] and [g for _, g in good] == a
