"""以案说防 case library: a closed incident becomes a case with personal data removed."""

from __future__ import annotations

import uuid
from typing import Any

from baiying_shared.events.common import GeoPoint
from tests.dispatcher.conftest import System
from tests.dispatcher.test_mobilisation import incident_body, raise_incident

HERE = GeoPoint(lat=25.8290, lon=114.9330)


def case_body(incident_id: str, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "incident_id": incident_id,
        "title_zh": "冒充快递理赔诈骗",
        "account_zh": "事主黄建平称，接到自称快递客服的电话13907971234，对方以理赔为由诱导其"
                      "在文清路88号3栋的家中下载APP并转账2万元。",
        "advice_zh": "快递理赔只走官方渠道，不下载陌生APP，不向陌生账户转账。",
        "title_en": "Fake courier refund scam",
        "account_en": "A resident got a call from a fake courier agent and lost 20,000 yuan.",
        "advice_en": "Claim refunds only through official channels.",
    }
    body.update(kw)
    return body


async def closed_incident(system: System, **kw: Any) -> str:
    inc = await raise_incident(system, incident_body(HERE, category="fraud", **kw))
    async with system.client() as c:
        r = await c.post(f"/v1/incidents/{inc['id']}/close")
    assert r.status_code == 200, r.text
    return str(inc["id"])


async def test_a_closed_incident_becomes_a_case_without_personal_data(system: System) -> None:
    incident_id = await closed_incident(system)
    async with system.client("supervisor") as c:
        r = await c.post("/v1/cases", json=case_body(incident_id))
        assert r.status_code == 201, r.text
        case = r.json()
        assert case["district"] == "360702" and case["category"] == "fraud"
        for gone in ("黄建平", "13907971234", "88号", "3栋"):
            assert gone not in case["account_zh"], case["account_zh"]
        assert "黄某" in case["account_zh"] and "文清路某号" in case["account_zh"]
        assert case["removed"] == {"name": 1, "phone": 1, "address": 1}
        again = await c.post("/v1/cases", json=case_body(incident_id))
        assert again.status_code == 409, again.text
        read = await c.get(f"/v1/cases/{case['id']}")
        assert read.status_code == 200 and read.json()["account_zh"] == case["account_zh"]


async def test_only_closed_incidents_of_ones_own_districts(system: System) -> None:
    live = await raise_incident(system, incident_body(HERE, category="theft"))
    async with system.client() as c:
        r = await c.post("/v1/cases", json=case_body(live["id"]))
    assert r.status_code == 409 and "close it first" in r.text
    incident_id = await closed_incident(system)
    async with system.client("duty_desk", "360703") as other:
        r = await other.post("/v1/cases", json=case_body(incident_id))
    assert r.status_code == 404, r.text  # not told apart from "no such incident"
    async with system.client("volunteer") as volunteer:
        r = await volunteer.post("/v1/cases", json=case_body(incident_id))
    assert r.status_code == 403, r.text


async def test_a_number_that_may_identify_someone_is_refused_naming_the_field(
    system: System
) -> None:
    incident_id = await closed_incident(system)
    body = case_body(incident_id, advice_zh="如有疑问请拨打8123456咨询，不要转账。")
    async with system.client() as c:
        r = await c.post("/v1/cases", json=body)
    assert r.status_code == 422, r.text
    assert "advice_zh" in r.text


async def test_the_library_searches_by_category_text_and_district(system: System) -> None:
    fraud = await closed_incident(system)
    theft = await closed_incident(system)
    tag = uuid.uuid4().hex[:6]  # other tests' cases share the library: find ours by a word
    fraud_title, theft_title = f"刷单返利诈骗{tag}", f"电动车夜间被盗{tag}"
    async with system.client() as c:
        for incident_id, category, title in ((fraud, "fraud", fraud_title),
                                             (theft, "theft", theft_title)):
            r = await c.post("/v1/cases", json=case_body(incident_id, category=category,
                                                         title_zh=title))
            assert r.status_code == 201, r.text
        by_category = (await c.get("/v1/cases", params={"category": "theft", "q": tag})).json()
        assert [x["title_zh"] for x in by_category] == [theft_title]
        by_text = (await c.get("/v1/cases", params={"q": f"刷单返利诈骗{tag}"})).json()
        assert [x["title_zh"] for x in by_text] == [fraud_title]
        literal = (await c.get("/v1/cases", params={"q": "%"})).json()
        assert literal == [], "a % in the search is a character, not a wildcard"
    async with system.client("supervisor", "360703") as other:
        assert all(x["district"] == "360703" for x in (await other.get("/v1/cases")).json())
        r = await other.get("/v1/cases", params={"district": "360702"})
        assert r.status_code == 200 and r.json() == []
