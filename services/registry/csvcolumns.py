"""CSV import fields, checked a column at a time. No I/O.

A 1,000,000-row import spent half its time calling a parser per field (nine Python calls, a
regex and a dict per line). Here each check runs once per column of a chunk: the bad-byte
scan is one regex over the joined column, numbers go through `map(float, …)`, and a column
that repeats a handful of values (team, skills, flags, caps) is parsed once per distinct
value. The verdicts are the per-field ones: the same reasons, the same fields, bad bytes first.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from datetime import time
from typing import Any

from baiying_registry.domain import SKILL
from baiying_registry.reference import BBox
from baiying_shared.events.volunteers import DAILY_ALERT_CAP_MAX, NAME_MAX

REQUIRED = ("name", "phone", "team_id", "lat", "lon")
# Errors of one chunk: row index -> [(field, reason)], fields in the order they were checked.
Errors = dict[int, list[tuple[str, str]]]
_SPLIT = str.maketrans({"；": ";", "|": ";", ",": ";"})
_TRUE = {"true": True, "1": True, "yes": True, "y": True, "是": True,
         "false": False, "0": False, "no": False, "n": False, "否": False}
_BAD_CHAR = re.compile("[\x00\udc80-\udcff]")


def bad_byte(raw: str) -> str | None:
    """Why the field cannot be stored (a NUL or a byte that is not UTF-8), or None."""
    m = _BAD_CHAR.search(raw)
    if m is None:
        return None
    if m.group() == "\x00":
        return f"contains a NUL byte at character {m.start() + 1}"
    byte = ord(m.group()) - 0xDC00
    return f"byte 0x{byte:02x} at character {m.start() + 1} is not UTF-8; save as 'CSV UTF-8'"


class _Bad:
    """A field's rejection, in place of its value while a column is converted."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def column(name: str, raw: Sequence[str], errors: Errors, *,
           phones: Callable[[str], str] | None = None) -> list[Any]:
    """One column's values (None where rejected); its rejections are added to `errors`."""
    values = list(map(str.strip, raw))
    fn = phones if name == "phone" and phones is not None else _PARSERS[name]
    required, default = name in REQUIRED, DEFAULTS.get(name)

    def one(text: str) -> Any:
        if not text:
            return _Bad("required") if required else default
        try:
            return fn(text)
        except ValueError as exc:
            return _Bad(str(exc))

    if name in _REPEATING:
        verdicts = {text: one(text) for text in set(values)}
        out = list(map(verdicts.__getitem__, values))
        suspect = any(v.__class__ is _Bad for v in verdicts.values())
    else:
        out, suspect = _at_once(fn, values) or ([one(v) for v in values], True)
    if _BAD_CHAR.search("\x1f".join(values)):  # rare: then find the fields that hold one
        for i, text in enumerate(values):
            if why := bad_byte(text):
                out[i], suspect = _Bad(why), True
    if suspect:
        for i, v in enumerate(out):
            if v.__class__ is _Bad:
                errors.setdefault(i, []).append((name, v.reason))
                out[i] = None
    return out


def _at_once(fn: Callable[[str], Any], values: list[str]) -> tuple[list[Any], bool] | None:
    # The whole column in C when every value is fine; None sends it through `one` instead.
    if fn is _float:
        try:
            return list(map(float, values)), False
        except ValueError:
            return None
    if fn is _name and all(values) and max(map(len, values), default=0) <= NAME_MAX:
        return values, False
    return None


def cross_checks(columns: dict[str, list[Any]], errors: Errors, area: BBox) -> None:
    """Checks that need two fields or the service area (values None where rejected)."""
    for name, low, high in (("lat", area.min_lat, area.max_lat),
                            ("lon", area.min_lon, area.max_lon)):
        for i, v in enumerate(columns[name]):
            if v is not None and not low <= v <= high:
                errors.setdefault(i, []).append(
                    (name, f"{v} is outside the service area ({low}–{high})"))
    if "quiet_start" in columns:
        pairs = zip(columns["quiet_start"], columns["quiet_end"], strict=True)
        for i, (start, end) in enumerate(pairs):
            if (start is None) != (end is None):
                errors.setdefault(i, []).append(
                    ("quiet_start", "quiet_start and quiet_end come together"))


def _name(raw: str) -> str:
    if len(raw) > NAME_MAX:
        raise ValueError(f"longer than {NAME_MAX} characters")
    return raw


def _uuid(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ValueError("not a team id (UUID)") from None


def _float(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"not a number: {raw[:20]!r}") from None


def _district(raw: str) -> str:
    if len(raw) != 6 or not raw.isdigit():
        raise ValueError("a district code is 6 digits")
    return raw


def _list(allowed: Callable[[str], bool], what: str) -> Callable[[str], list[str]]:
    def parse(raw: str) -> list[str]:
        items = sorted({s.strip() for s in raw.translate(_SPLIT).split(";") if s.strip()})
        bad = [s for s in items if not allowed(s)]
        if bad:
            raise ValueError(f"{bad[0][:20]!r} is not {what}")
        return items

    return parse


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw.lower() not in options:
            raise ValueError(f"one of {', '.join(options)}")
        return raw.lower()

    return parse


def _bool(raw: str) -> bool:
    try:
        return _TRUE[raw.lower()]
    except KeyError:
        raise ValueError("true or false") from None


def _cap(raw: str) -> int:
    if not raw.isdigit() or int(raw) > DAILY_ALERT_CAP_MAX:
        raise ValueError(f"a whole number 0-{DAILY_ALERT_CAP_MAX}")
    return int(raw)


def _time(raw: str) -> time:
    try:
        return time.fromisoformat(raw if len(raw) != 4 else f"0{raw}")
    except ValueError:
        raise ValueError("a time HH:MM") from None


_PARSERS: dict[str, Callable[[str], Any]] = {
    "name": _name, "team_id": _uuid, "lat": _float, "lon": _float, "district": _district,
    "skills": _list(lambda s: bool(SKILL.match(s)), "a skill word like first_aid"),
    "channels": _list(lambda s: s in ("sms", "app"), "a channel (sms, app)"),
    "language": _choice("zh", "en"), "on_duty": _bool, "daily_alert_cap": _cap,
    "quiet_start": _time, "quiet_end": _time, "status": _choice("active", "suspended"),
}
# Columns a file repeats (a few teams, skill lists, flags): parsed once per distinct value,
# so rows share one list object per distinct skills text, as the staging COPY only reads it.
_REPEATING = frozenset(("team_id", "district", "skills", "channels", "language", "on_duty",
                        "daily_alert_cap", "quiet_start", "quiet_end", "status"))
DEFAULTS: dict[str, Any] = {
    "skills": [], "channels": ["sms"], "language": "zh", "on_duty": True,
    "daily_alert_cap": 10, "status": "active",
}
