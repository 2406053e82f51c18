"""What a resident's text means: subscribe (to a district), unsubscribe, delete, acknowledge.

Parsed before the volunteer keywords (domain/keywords.py); a text that is none of these is
left to them. Districts are named as in shared/data/reference.json, with or without the
区/县 suffix ("订阅 章贡", "订阅章贡区", "SUBSCRIBE Zhanggong").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Literal

from baiying_shared.reference import districts

Intent = Literal["subscribe", "unsubscribe", "delete", "acknowledge"]
Language = Literal["zh", "en"]

_ZH = {"订阅": "subscribe", "删除": "delete", "收到": "acknowledge",
       "退订": "unsubscribe", "取消订阅": "unsubscribe"}  # fmt: skip
_EN = {"SUBSCRIBE": "subscribe", "DELETE": "delete", "RECEIVED": "acknowledge",
       "OK": "acknowledge", "UNSUBSCRIBE": "unsubscribe", "STOP": "unsubscribe",
       "TD": "unsubscribe"}  # fmt: skip
# The carrier itself honours these (Twilio's opt-out list): after one, it blocks our SMS to
# the phone until START, whatever we record, so the notifier's own opt-out must follow too.
CARRIER_WORDS = frozenset({"STOP", "UNSUBSCRIBE"})
_SPACE = re.compile(r"[\s,，。.!！:：;；、]+")


@dataclass(frozen=True)
class Word:
    intent: Intent
    language: Language
    keyword: str  # the keyword as normalised ("订阅", "STOP")
    district: str | None = None  # a subscription's district code; None = the whole city
    unknown_district: str | None = None  # the district text we could not place


@cache
def _district_names() -> dict[str, str]:
    """Every accepted spelling of a district (upper-cased) -> its code."""
    names: dict[str, str] = {}
    for d in districts().values():
        for name in (d.zh, d.en, d.zh[:-1], d.en.rsplit(" ", 1)[0]):
            names[name.upper().replace(" ", "")] = d.code
        names[d.code] = d.code
    return names


def district_code(text: str) -> str | None:
    """The district a resident named ("章贡", "章贡区", "zhanggong district"), or None."""
    return _district_names().get(text.upper().replace(" ", ""))


def _split(norm: str) -> tuple[str, str, Language] | None:
    """(keyword, rest, language) when the text starts with one of our keywords."""
    for word in sorted(_ZH, key=len, reverse=True):  # 取消订阅 before 订阅
        if norm.startswith(word):
            return word, norm[len(word):], "zh"
    head, _, rest = norm.partition(" ")
    if head in _EN:
        return head, rest, "en"
    return None


def parse(text: str) -> Word | None:
    """The resident's intent, or None when the text is not one of ours."""
    norm = _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().upper()
    split = _split(norm)
    if split is None:
        return None
    keyword, rest, lang = split
    intent: Intent = (_ZH if lang == "zh" else _EN)[keyword]  # type: ignore[assignment]
    rest = rest.strip()
    if intent != "subscribe":
        return None if rest else Word(intent, lang, keyword)
    if not rest:
        return Word(intent, lang, keyword)
    code = district_code(rest)
    return Word(intent, lang, keyword, district=code, unknown_district=None if code else rest)
