"""Resident-facing words: SMS answers to 订阅/退订/删除/收到 and the public case page's labels."""

from __future__ import annotations

from typing import Literal

from baiying_shared.reference import district_name

Language = Literal["zh", "en"]

_T: dict[Language, dict[str, str]] = {
    "zh": {
        "subscribed": "【一呼百应】您已订阅{area}的以案说防提醒。退订回复退订，删除信息回复删除。",
        "unknown_district": "【一呼百应】未找到“{text}”。请回复“订阅 区县名”，如：订阅 章贡。",
        "unsubscribed": "【一呼百应】您已退订以案说防提醒。回复订阅可重新订阅。",
        "deleted": "【一呼百应】您的订阅信息已删除。",
        "nothing": "【一呼百应】我们没有保存您的订阅信息。",
        "acknowledged": "【一呼百应】谢谢，已确认您收到提醒。",
        "city": "全市",
        "page_title": "一呼百应 · 以案说防",
        "advice": "防范提示",
        "not_found": "页面不存在",
        "not_found_text": "链接无效或已失效。",
    },
    "en": {
        "subscribed": "[Baiying] You will get safety notices for {area}. "
        "Reply UNSUBSCRIBE to stop, DELETE to remove your details.",
        "unknown_district": "[Baiying] We do not know \"{text}\". "
        "Reply SUBSCRIBE with a district, e.g. SUBSCRIBE Zhanggong.",
        "unsubscribed": "[Baiying] You will no longer get safety notices. "
        "Reply SUBSCRIBE to resume.",
        "deleted": "[Baiying] Your subscription details have been deleted.",
        "nothing": "[Baiying] We hold no subscription details for you.",
        "acknowledged": "[Baiying] Thank you, your receipt is recorded.",
        "city": "the whole city",
        "page_title": "Baiying · Safety notice",
        "advice": "What to do",
        "not_found": "Page not found",
        "not_found_text": "This link is not valid.",
    },
}


def say(lang: Language, key: str, **values: object) -> str:
    return _T[lang][key].format(**values)


def area(lang: Language, district: str | None) -> str:
    """A subscription's area in words: the district's name, or the whole city."""
    return say(lang, "city") if district is None else district_name(district, lang)
