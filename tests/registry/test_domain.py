"""Pure rules, plain values: phones, the service area, cursors, near, settings."""

from __future__ import annotations

import random
import uuid

import phonenumbers
import pytest

from baiying_registry.config import RegistrySettings
from baiying_registry.domain import (
    InvalidPhone,
    PhoneNormalizer,
    area_error,
    decode_cursor,
    encode_cursor,
    parse_near,
)
from baiying_registry.reference import BBox, ganzhou

AREA = ganzhou().bbox


@pytest.mark.parametrize(("raw", "e164"), [
    ("+8613812345678", "+8613812345678"), ("13812345678", "+8613812345678"),
    ("138 1234 5678", "+8613812345678"), ("+86 138-1234-5678", "+8613812345678"),
    ("008613812345678", "+8613812345678"), ("+44 20 7946 0958", "+442079460958"),
    ("(0797) 822 1234", "+867978221234"),  # a Ganzhou landline
])
def test_phones_normalise_to_e164(raw: str, e164: str) -> None:
    assert PhoneNormalizer()(raw) == e164


@pytest.mark.parametrize("raw", ["", "12345", "+8614000000000", "1381234567", "phone", "+999 1"])
def test_invalid_phones_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        PhoneNormalizer()(raw)


def test_the_mobile_fast_path_agrees_with_phonenumbers() -> None:
    rng = random.Random(5)
    fast = PhoneNormalizer()
    for _ in range(5000):
        national = f"1{rng.randrange(10**10):010d}"
        slow_ok = phonenumbers.is_valid_number(phonenumbers.parse("+86" + national))
        try:
            fast_ok = fast(national) == "+86" + national
        except InvalidPhone:
            fast_ok = False
        assert fast_ok == slow_ok, national


def test_area() -> None:
    assert area_error(25.8175, 114.935, AREA) is None
    assert area_error(39.9, 116.4, AREA) is not None  # Beijing
    assert area_error(25.8, 113.0, AREA) is not None
    assert RegistrySettings().area == AREA == BBox(113.9, 24.45, 116.65, 27.15)
    with pytest.raises(ValueError, match="min must be below max"):
        RegistrySettings(area_min_lat=28.0)


def test_cursor_round_trip_and_refusal() -> None:
    i = uuid.uuid4()
    assert decode_cursor(encode_cursor(i)) == i
    for bad in ("", "abc", "!!!!", encode_cursor(i) + "AAAA"):
        with pytest.raises(ValueError):
            decode_cursor(bad)


def test_near() -> None:
    assert parse_near("25.8, 114.9") == (25.8, 114.9)
    for bad in ("25.8", "a,b", "95,10", "1,2,3"):
        with pytest.raises(ValueError):
            parse_near(bad)
