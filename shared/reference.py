"""Incident categories and districts, from the one JSON the server and the consoles share.

The file ships as package data (shared/data/reference.json); the dispatcher serves it to
the consoles at GET /v1/reference, so a category added here appears everywhere at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

Language = Literal["zh", "en"]


@dataclass(frozen=True)
class Category:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class District:
    code: str
    zh: str
    en: str
    lat: float  # the county seat, approximate
    lon: float


@cache
def raw() -> dict[str, object]:
    """The JSON document as shipped (what the consoles get)."""
    text = resources.files("baiying_shared").joinpath("data/reference.json").read_text("utf-8")
    doc: dict[str, object] = json.loads(text)
    return doc


@cache
def categories() -> dict[str, Category]:
    rows: list[dict[str, str]] = raw()["categories"]  # type: ignore[assignment]
    return {r["code"]: Category(r["code"], r["zh"], r["en"]) for r in rows}


@cache
def districts() -> dict[str, District]:
    rows: list[dict[str, object]] = raw()["districts"]  # type: ignore[assignment]
    out = {}
    for r in rows:
        seat: dict[str, float] = r["seat"]  # type: ignore[assignment]
        code = str(r["code"])
        out[code] = District(code, str(r["zh"]), str(r["en"]), seat["lat"], seat["lon"])
    return out


def category_name(code: str, lang: Language) -> str:
    """The category's word in `lang`; an unknown code (free text from the desk) as it is."""
    c = categories().get(code)
    return code if c is None else (c.zh if lang == "zh" else c.en)


def district_name(code: str, lang: Language = "zh") -> str:
    d = districts().get(code)
    return code if d is None else (d.zh if lang == "zh" else d.en)
