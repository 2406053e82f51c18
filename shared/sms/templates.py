"""Message texts in Simplified Chinese (default) and English, kept within their segment budget.

A call-out alert must fit two segments (134 UCS-2 characters) so it arrives as one
message quickly everywhere; the free-text parts are shortened to fit, never the reply
instructions. The description (情况说明) goes first: it shrinks to a short form, and is
dropped from the SMS altogether before the title or the area would become unreadable
(the app shows the full text). The confirmation carries the exact address, the
description and the desk's callback number within four segments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from baiying_shared.reference import category_name
from baiying_shared.sms.segments import count

Language = Literal["zh", "en"]

ALERT_MAX_SEGMENTS = 2
OTHER_MAX_SEGMENTS = 4

_T: dict[Language, dict[str, str]] = {
    "zh": {
        "alert": "【一呼百应】紧急召集：{title}（{category}），{area}附近，距您约{distance}。"
        "{detail}回复1接受，2拒绝。编号{code}",
        "advisory": "【一呼百应】以案说防（{area}）：{title}。{advice}",
        "campaign": "【一呼百应】以案说防：{title}。{advice} 详情：{link} 回复收到确认，退订回TD",
        "confirmation": "【一呼百应】感谢接受！{title}，地址：{address}。{detail}"
        "回电：{contact}。到达后回复3。编号{code}",
        "detail": "情况：{description}。",
        "stand_down": "【一呼百应】{title}：{reason}，无需前往，感谢您的支持！编号{code}",
        "help": "【一呼百应】回复1接受，2拒绝，3已到达；退订回复TD。"
        "有多条召集时请加编号，如：1 {code}",
        "accept": "已收到：您愿意接受召集{code}，确认后发送地址。",
        "decline": "已收到：您拒绝了召集{code}，感谢告知。",
        "arrived": "已收到：您已到达{code}，谢谢！",
        "opt_out": "您已退订一呼百应短信，回复START可恢复。",
        "opt_in": "您已恢复接收一呼百应短信。",
        "none": "【一呼百应】您当前没有待回复的召集。",
        "staffed": "人员已满足",
        "cancelled": "召集已取消",
        "closed": "事件已结束",
        "expired": "召集已过期",
        "held": "您已在执行召集「{held_by}」，本次无法接受",
        "m": "{m}米",
        "km": "{km}公里",
    },
    "en": {
        "alert": "[Baiying] Call-out: {title} ({category}) near {area}, about {distance} from you. "
        "{detail}Reply 1 to accept, 2 to decline. Ref {code}",
        "advisory": "[Baiying] Safety notice ({area}): {title}. {advice}",
        "campaign": "[Baiying] Safety notice: {title}. {advice} More: {link} "
        "Reply OK to confirm, STOP to opt out",
        "confirmation": "[Baiying] Thank you! {title} at {address}. {detail}"
        "Call back: {contact}. Reply 3 on arrival. Ref {code}",
        "detail": "Note: {description}. ",
        "stand_down": "[Baiying] {title}: {reason}, no need to come. Thank you! Ref {code}",
        "help": "[Baiying] Reply 1 accept, 2 decline, 3 arrived; STOP to opt out. "
        "With several call-outs add the ref, e.g. 1 {code}",
        "accept": "Got it: you offered to take {code}. The address follows once confirmed.",
        "decline": "Got it: you declined {code}. Thank you for telling us.",
        "arrived": "Got it: you arrived at {code}. Thank you!",
        "opt_out": "You will no longer get Baiying SMS. Reply START to resume.",
        "opt_in": "You will get Baiying SMS again.",
        "none": "[Baiying] You have no call-out waiting for an answer.",
        "staffed": "enough people are on the way",
        "cancelled": "the call-out was cancelled",
        "closed": "the incident is closed",
        "expired": "the call-out expired",
        "held": "you are already committed to \"{held_by}\", so this one cannot take you",
        "m": "{m} m",
        "km": "{km} km",
    },
}


def category_label(lang: Language, code: str) -> str:
    """The volunteer's word for an incident category code (one list: shared/data/reference.json).

    English is lower-cased, as it sits mid-sentence; free text from the desk stays as typed.
    """
    word = category_name(code, lang)
    return word.lower() if lang == "en" and word != code else word


@dataclass(frozen=True)
class Rendered:
    text: str
    segments: int
    encoding: str


def phrase(lang: Language, key: str, **values: object) -> str:
    """A short fixed phrase (reply acknowledgements, reasons)."""
    return _T[lang][key].format(**values)


def distance(lang: Language, metres: int) -> str:
    if metres < 1000:
        return phrase(lang, "m", m=max(10, round(metres, -1)))
    return phrase(lang, "km", km=f"{metres / 1000:.1f}")


def _shorten(value: str, keep: int) -> str:
    return value if len(value) <= keep else value[: max(1, keep - 1)] + "…"


# Shortened first to last: the description gives way before anything the volunteer needs
# to decide (what, where); `detail` is the description's sentence, dropped when too short.
_SHRINK_FIRST = ("description", "advice")
_SHRINK_THEN = ("title", "area", "address")
_MIN_DESCRIPTION = 6


def _fill(template: str, lang: Language, vals: dict[str, str]) -> str:
    desc = vals.get("description", "")
    detail = phrase(lang, "detail", description=desc) if desc else ""
    return template.format(**{**vals, "detail": detail})


def _shrink_once(vals: dict[str, str]) -> bool:
    """Shorten the most expendable free text by a little; False if nothing is left to cut."""
    for key in _SHRINK_FIRST:
        value = vals.get(key, "")
        if key == "description" and 0 < len(value) <= _MIN_DESCRIPTION:
            vals[key] = ""  # a stub says nothing: drop it, the app has the full text
            return True
        if len(value) > _MIN_DESCRIPTION:
            vals[key] = _shorten(value, max(_MIN_DESCRIPTION, len(value) - 4))
            return True
    free = [k for k in _SHRINK_THEN if len(vals.get(k, "")) > 2]
    if not free:
        return False
    longest = max(free, key=lambda k: len(vals[k]))
    vals[longest] = _shorten(vals[longest], len(vals[longest]) - 4)
    return True


def render(kind: str, lang: Language, **values: str) -> Rendered:
    """Fill the template; shorten free text (description first) until it fits its budget."""
    budget = ALERT_MAX_SEGMENTS if kind == "alert" else OTHER_MAX_SEGMENTS
    template = _T[lang][kind]
    vals = {"description": "", **values}
    vals["description"] = " ".join(vals["description"].split())  # one line in an SMS
    text = _fill(template, lang, vals)
    while count(text).segments > budget and _shrink_once(vals):
        text = _fill(template, lang, vals)
    info = count(text)
    return Rendered(text, info.segments, info.encoding)
