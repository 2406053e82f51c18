"""How simulated volunteers answer in a drill: pure decisions, no I/O."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal

Action = Literal["accept", "decline", "silent"]

_ALERT = re.compile(r"回复1接受|Reply 1 to accept")
_CONFIRMED = re.compile(r"到达后回复3|reply 3 on arrival", re.IGNORECASE)
_CODE = re.compile(r"(?:编号|Ref )\s*([A-Z0-9]{3,8})\s*$")


@dataclass(frozen=True)
class Answer:
    action: Action
    delay_s: float
    reply: str | None  # the SMS text, None when the volunteer stays silent


def classify(body: str) -> Literal["alert", "confirmation", "other"]:
    """What kind of message a simulated phone received."""
    if _ALERT.search(body):
        return "alert"
    if _CONFIRMED.search(body):
        return "confirmation"
    return "other"


def code_of(body: str) -> str | None:
    """The call-out code at the end of an alert, so a reply names its call-out."""
    match = _CODE.search(body.strip())
    return match.group(1) if match else None


def decide(rng: random.Random, *, round_no: int, code: str | None) -> Answer:
    """Round one's nearest are often busy, so a widening round is likely; later rounds say yes."""
    accept, decline = (0.15, 0.35) if round_no <= 1 else (0.55, 0.25)
    roll = rng.random()
    suffix = f" {code}" if code else ""
    if roll < accept:
        return Answer("accept", rng.uniform(4, 18), rng.choice(["1", "是", "好", "收到"]) + suffix)
    if roll < accept + decline:
        return Answer("decline", rng.uniform(3, 12), rng.choice(["2", "不", "否"]) + suffix)
    return Answer("silent", 0.0, None)


def arrival_delay(rng: random.Random) -> float:
    """Seconds from confirmation to `3` (arrived), for about two thirds of those who accepted."""
    return rng.uniform(10, 25) if rng.random() < 0.67 else -1.0
