"""What a volunteer's reply means: accept, decline, arrived, opt out/in, or nothing we know."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Intent = Literal["accept", "decline", "arrived", "opt_out", "opt_in", "help"]

KEYWORDS: dict[str, Intent] = {
    **dict.fromkeys(("1", "Y", "YES", "是", "好", "收到", "接受"), "accept"),
    **dict.fromkeys(("2", "N", "NO", "否", "不", "拒绝"), "decline"),
    **dict.fromkeys(("3", "到", "到达", "已到"), "arrived"),
    # The carrier's standard words (Twilio's default opt-out/in/help lists) and the Chinese ones.
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
                     "退订", "TD", "取消订阅"), "opt_out"),
    **dict.fromkeys(("START", "UNSTOP", "恢复订阅", "恢复"), "opt_in"),
    **dict.fromkeys(("HELP", "INFO", "帮助"), "help"),
}
# YES is an accept word here and a re-subscribe word at the carrier. A phone that is opted out
# has no live alert to accept, so from such a phone these words mean "send to me again".
RESUBSCRIBE_WHEN_OPTED_OUT = frozenset({"YES", "Y"})
# A reference code printed in every alert ("编号 K7Q2"), so a reply can name its call-out.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, typed on keypads
_CODE = re.compile(rf"^[{CODE_ALPHABET}]{{4}}$")
_SPLIT = re.compile(r"[\s,，。.!！#＃:：;；、]+")


@dataclass(frozen=True)
class Reply:
    intent: Intent
    code: str | None = None  # the call-out the reply names, if any


def parse(text: str, *, opted_out: bool = False) -> Reply:
    """Parse a reply such as "1", "是", "yes K7Q2", "2 #K7Q2", "退订" (NFKC, any case)."""
    norm = unicodedata.normalize("NFKC", text).strip().upper()
    tokens = [t for t in _SPLIT.split(norm) if t]
    if opted_out and len(tokens) == 1 and tokens[0] in RESUBSCRIBE_WHEN_OPTED_OUT:
        return Reply("opt_in")
    intent: Intent | None = None
    code: str | None = None
    for token in tokens:
        if token in KEYWORDS and intent is None:
            intent = KEYWORDS[token]
        elif _CODE.match(token) and code is None:
            code = token
        elif len(token) > 1 and token[0] in "123" and _CODE.match(token[1:]):  # "1K7Q2"
            intent, code = intent or KEYWORDS[token[0]], token[1:]
        else:
            return Reply("help")  # anything unrecognised: answer with help, act on nothing
    return Reply(intent or "help", code if intent else None)


def short_code(callout_id_hex: str) -> str:
    """A 4-character code derived from the call-out id (unique enough within one phone)."""
    n = int(callout_id_hex[-12:], 16)
    out = []
    for _ in range(4):
        n, r = divmod(n, len(CODE_ALPHABET))
        out.append(CODE_ALPHABET[r])
    return "".join(out)
