"""Pure rules of the registry: phone numbers, the service area, cursors. No I/O."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass, field

import phonenumbers

from baiying_registry.reference import BBox
from baiying_shared.events.volunteers import SKILL_PATTERN

SKILL = re.compile(SKILL_PATTERN)
MAX_RADIUS_M = 200_000
# Mainland mobiles as people write them: +86 / 0086 / 86 prefix optional, spaces or dashes.
_CN_MOBILE = re.compile(r"^(?:\+86|0086|86)?[ -]?(1\d{2})[ -]?(\d{4})[ -]?(\d{4})$")


class InvalidPhone(ValueError):
    """The text is not a valid phone number (reason in the message)."""


@dataclass
class PhoneNormalizer:
    """E.164 normalisation validated by `phonenumbers`, fast for mainland mobiles.

    phonenumbers costs ~30 µs a number, which alone would take half the 60 s budget of a
    1,000,000-row import. For an 11-digit number starting with 1 the CN metadata decides
    validity by at most the first 5 digits, so the verdict is cached per 7-digit prefix:
    every prefix is still judged by phonenumbers itself, once.
    """

    region: str = "CN"
    _verdicts: dict[str, bool] = field(default_factory=dict)

    def __call__(self, raw: str) -> str:
        text = raw.strip()
        if not text:
            raise InvalidPhone("phone is empty")
        m = _CN_MOBILE.match(text)
        if m:
            national = "".join(m.groups())
            prefix = national[:7]
            ok = self._verdicts.get(prefix)
            if ok is None:
                ok = self._verdicts[prefix] = _valid("+86" + national)
            if not ok:
                raise InvalidPhone(f"not a valid mainland number: {_hint(text)}")
            return "+86" + national
        return self._slow(text)

    def _slow(self, text: str) -> str:
        try:
            number = phonenumbers.parse(text, self.region)
        except phonenumbers.NumberParseException as exc:
            raise InvalidPhone(f"not a phone number: {exc}") from exc
        if not phonenumbers.is_valid_number(number):
            raise InvalidPhone(f"not a valid phone number: {_hint(text)}")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _valid(e164: str) -> bool:
    # In international form phonenumbers strips no carrier/IP-dial prefix (17951, 12593 …).
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(e164)))
    except phonenumbers.NumberParseException:
        return False


def _hint(text: str) -> str:
    return text if len(text) <= 6 else f"{text[:3]}…{text[-2:]}"  # no full numbers in errors


normalize_phone = PhoneNormalizer()


def area_error(lat: float, lon: float, area: BBox) -> str | None:
    """Why the point is outside the service area, or None when inside."""
    if area.contains(lat, lon):
        return None
    return (
        f"({lat:.5f}, {lon:.5f}) is outside the service area "
        f"lat {area.min_lat}–{area.max_lat}, lon {area.min_lon}–{area.max_lon}"
    )


def parse_near(text: str) -> tuple[float, float]:
    """'LAT,LON' -> (lat, lon); ValueError naming what is wrong."""
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError("near must be LAT,LON")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError as exc:
        raise ValueError("near must be two numbers: LAT,LON") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("near is not a coordinate (lat -90..90, lon -180..180)")
    return lat, lon


def encode_cursor(last_id: uuid.UUID) -> str:
    """Opaque keyset cursor: the last id of the page, base64url."""
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str) -> uuid.UUID:
    """Inverse of encode_cursor; ValueError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("cursor is not one this API issued") from exc
    if len(raw) != 16:
        raise ValueError("cursor is not one this API issued")
    return uuid.UUID(bytes=raw)

