"""What responders are told: area and a short description in the alert, the full detail after."""

from __future__ import annotations

import uuid

import pytest

from baiying_dispatcher.areas import area_name, callback_number
from baiying_shared.events.callouts import CalloutConfirmed, CalloutIssued
from baiying_shared.reference import categories
from baiying_shared.sms import templates
from baiying_shared.sms.segments import count

LONG_ZH = "嫌疑人可能仍在楼内，身穿黑色外套，戴口罩，约一米七五，往三楼楼梯间方向去了，请注意安全" * 3  # noqa: E501
LONG_EN = ("Suspect may still be inside, black coat and face mask, about 1.75 m, last seen on the "
           "stairs to the third floor; keep your distance and wait for officers. ") * 3


def _alert(
    lang: templates.Language, description: str, title: str = "入室盗窃"
) -> templates.Rendered:
    return templates.render(
        "alert", lang, title=title, category=templates.category_label(lang, "robbery"),
        area=area_name("360702", "南门广场片区"), distance=templates.distance(lang, 850),
        description=description, code="K7Q2",
    )


@pytest.mark.parametrize(("lang", "desc"), [("zh", LONG_ZH), ("en", LONG_EN)])
def test_alert_carries_area_and_a_short_description_within_two_segments(
    lang: templates.Language, desc: str
) -> None:
    r = _alert(lang, desc)
    assert r.segments <= templates.ALERT_MAX_SEGMENTS
    assert count(r.text).segments == r.segments
    assert "章贡区南门广场片区" in r.text
    assert desc[:6] in r.text and "…" in r.text  # a short form, not the whole text
    assert r.text.endswith("K7Q2")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_short_description_fits_whole(lang: templates.Language) -> None:
    r = _alert(lang, "嫌疑人可能仍在楼内")
    assert "嫌疑人可能仍在楼内" in r.text and "…" not in r.text
    assert r.segments <= 2


def test_without_description_no_empty_note_is_left() -> None:
    zh, en = _alert("zh", ""), _alert("en", "")
    assert "情况：" not in zh.text and "Note:" not in en.text
    assert "距您约850米。回复1接受" in zh.text


def test_description_gives_way_before_title_and_area() -> None:
    title = "商场火情疏散群众" * 2
    r = _alert("zh", LONG_ZH, title=title)
    assert title in r.text and "南门广场片区" in r.text and r.segments <= 2


@pytest.mark.parametrize(("lang", "desc"), [("zh", LONG_ZH), ("en", LONG_EN)])
def test_confirmation_carries_address_description_and_callback(
    lang: templates.Language, desc: str
) -> None:
    callback = callback_number("360702", callbacks={"360702": "章贡分局值班室 0797-8123456"},
                               default="指挥中心 0797-110")
    r = templates.render("confirmation", lang, title="入室盗窃", address="文清路88号3栋",
                         contact=callback, description=desc, code="K7Q2")
    assert r.segments <= templates.OTHER_MAX_SEGMENTS
    assert "文清路88号3栋" in r.text and "0797-8123456" in r.text
    assert desc[:20] in r.text
    assert ("回复3" in r.text) if lang == "zh" else ("Reply 3" in r.text)


def test_callback_falls_back_to_the_centre() -> None:
    assert callback_number("360703", callbacks={"360702": "x"}, default="中心") == "中心"


def test_every_category_has_a_word_in_both_languages() -> None:
    assert "robbery" in categories() and len(categories()) == 10
    for code in categories():
        assert templates.category_label("zh", code) != code
        assert templates.category_label("en", code).islower()
    assert templates.category_label("zh", "robbery") == "抢劫抢夺"
    assert templates.category_label("en", "drone sighting") == "drone sighting"  # free text


def test_area_is_not_doubled_when_the_desk_typed_the_district() -> None:
    assert area_name("360702", "章贡区南门") == "章贡区南门"
    assert area_name("360702", None) == "章贡区"


def _addressed() -> dict[str, object]:
    return {"callout_id": str(uuid.uuid4()), "incident_id": str(uuid.uuid4()),
            "volunteer_id": str(uuid.uuid4()), "phone": "+8613800000000", "channels": ["sms"]}


def test_old_shaped_events_still_parse() -> None:
    issued = CalloutIssued.model_validate({
        **_addressed(), "kind": "callout", "title": "t", "category": "theft", "area": "章贡区",
        "district": "360702", "distance_m": 100, "rank": 1, "round": 1,
    })
    assert issued.description == ""
    confirmed = CalloutConfirmed.model_validate({
        **_addressed(), "title": "t", "address": "a", "lat": 25.8, "lon": 114.9, "contact": "c",
    })
    assert confirmed.description == ""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_advisory_names_its_area_within_budget(lang: templates.Language) -> None:
    r = templates.render("advisory", lang, title="防范电信诈骗", area="章贡区南门广场片区",
                         advice="不要向陌生人转账，接到自称公检法的电话请先挂断再核实。" * 8)
    assert "章贡区南门广场片区" in r.text and r.segments <= templates.OTHER_MAX_SEGMENTS
