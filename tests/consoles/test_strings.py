"""The consoles' strings (static/strings*.json): every key in both languages, each key in one
table only (a second definition would silently replace the first), every placeholder in both."""

from __future__ import annotations

import json
import re
from pathlib import Path

from baiying_consoles.web import STATIC

TABLES = sorted(STATIC.glob("strings*.json"))
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _pairs(pairs: list[tuple[str, list[str]]]) -> dict[str, list[str]]:
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"a key twice in one table: {keys}"
    return dict(pairs)


def _load(path: Path) -> dict[str, list[str]]:
    table: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"),
                                             object_pairs_hook=_pairs)
    return table


def test_every_string_is_in_chinese_and_english_with_the_same_placeholders() -> None:
    assert [p.name for p in TABLES][:1] == ["strings.json"] and len(TABLES) > 1
    for path in TABLES:
        for key, texts in _load(path).items():
            assert isinstance(texts, list) and len(texts) == 2, f"{path.name} {key}: {texts}"
            zh, en = texts
            assert zh.strip() and en.strip(), f"{path.name} {key}: an empty translation"
            assert set(PLACEHOLDER.findall(zh)) == set(PLACEHOLDER.findall(en)), (path.name, key)


def test_no_key_is_defined_twice() -> None:
    seen: dict[str, str] = {}
    for path in TABLES:
        for key in _load(path):
            assert key not in seen, f"{key} in both {seen[key]} and {path.name}"
            seen[key] = path.name
