"""CSV import rows: header rules, per-field parsing, rejections with line numbers. No I/O."""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import time
from typing import Any, NamedTuple

from baiying_registry.domain import SKILL, PhoneNormalizer, normalize_phone
from baiying_registry.reference import BBox
from baiying_shared.events.volunteers import DAILY_ALERT_CAP_MAX, NAME_MAX

REQUIRED = ("name", "phone", "team_id", "lat", "lon")
OPTIONAL = ("district", "skills", "channels", "language", "on_duty", "daily_alert_cap",
            "quiet_start", "quiet_end", "status")
COLUMNS_DOC = """\
UTF-8 CSV (a BOM is fine), first line a header. Required columns: name, phone, team_id, lat, lon.
Optional: district (6 digits; default the team's), skills and channels (lists split by `;`),
language (zh|en), on_duty (true/false/1/0/是/否), daily_alert_cap (0-200), quiet_start and
quiet_end (HH:MM, both or neither), status (active|suspended).
Rows are upserted by phone: a new phone creates a volunteer; an existing one is updated with
the columns present in the file (absent columns keep their stored values). Every valid row is
imported; every rejected line is listed with its line number, field and reason. The whole file
is one transaction."""
_TRUE = {"true": True, "1": True, "yes": True, "y": True, "是": True,
         "false": False, "0": False, "no": False, "n": False, "否": False}
_SPLIT = str.maketrans({"；": ";", "|": ";", ",": ";"})


class MalformedCsv(ValueError):
    """The file as a whole cannot be read (encoding, quoting, header)."""


class Row(NamedTuple):
    """One valid line, in the staging table's column order."""

    line: int
    name: str
    phone: str
    team_id: uuid.UUID
    district: str | None
    lat: float
    lon: float
    skills: list[str]
    channels: list[str]
    language: str
    on_duty: bool
    daily_alert_cap: int
    quiet_start: time | None
    quiet_end: time | None
    status: str


@dataclass(frozen=True)
class Rejected:
    line: int
    field: str
    reason: str


@dataclass
class Parsed:
    columns: tuple[str, ...]
    rows: list[Row] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    received: int = 0


def decode_upload(data: bytes) -> str:
    """Bytes of an upload -> text; a byte that is not UTF-8 stays as a lone surrogate.

    The parser rejects the line holding one (with its number); a header that holds one means
    the whole file is in another encoding, and MalformedCsv says so.
    """
    return data.decode("utf-8-sig", errors="surrogateescape")


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


def read_header(header: list[str]) -> tuple[str, ...]:
    """Check the header; return the column names, normalised."""
    for name in header:
        if why := bad_byte(name):
            raise MalformedCsv(f"header is not UTF-8 text ({why})")
    cols = tuple(c.strip().lower().lstrip("\ufeff") for c in header)
    unknown = [c for c in cols if c not in REQUIRED and c not in OPTIONAL]
    if unknown:
        known = ", ".join(REQUIRED + OPTIONAL)
        raise MalformedCsv(f"unknown column {unknown[0]!r}; columns are {known}")
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    if dupes:
        raise MalformedCsv(f"column {dupes[0]!r} appears twice")
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise MalformedCsv(f"missing required column {missing[0]!r}")
    if ("quiet_start" in cols) != ("quiet_end" in cols):
        raise MalformedCsv("quiet_start and quiet_end come together")
    return cols


class CsvParser:
    """Reads a CSV in chunks, so an import can write one chunk while parsing the next.

    The header is checked on construction; state that spans chunks (line numbers, phones
    already seen) lives here. MalformedCsv is the only exception, for an unreadable file.
    """

    def __init__(self, lines: Iterable[str], *, area: BBox,
                 phones: PhoneNormalizer = normalize_phone) -> None:
        self._reader = csv.reader(lines, strict=True)
        header = self._read(lambda: next(self._reader, None))
        if header is None or not any(h.strip() for h in header):
            raise MalformedCsv("the file is empty; the first line must be a header")
        self.columns = read_header(header)
        self.received = 0
        self._parse_row = _row_parser(self.columns, area, phones)
        self._first_line_of: dict[str, int] = {}
        self._start = self._reader.line_num + 1

    def chunk(self, max_rows: int) -> Parsed | None:
        """The next up to `max_rows` data lines, or None at the end of the file."""
        parsed, reader = Parsed(self.columns), self._reader
        try:
            for values in reader:
                line, self._start = self._start, reader.line_num + 1
                if not values or values == [""]:
                    continue  # blank lines are not data
                parsed.received += 1
                _take(parsed, line, values, self._parse_row, self._first_line_of)
                if parsed.received >= max_rows:
                    break
        except csv.Error as exc:
            raise MalformedCsv(f"line {reader.line_num}: {exc}") from exc
        self.received += parsed.received
        return parsed if parsed.received else None

    def _read(self, step: Callable[[], list[str] | None]) -> list[str] | None:
        try:
            return step()
        except csv.Error as exc:
            raise MalformedCsv(f"line {self._reader.line_num}: {exc}") from exc


def parse_csv(
    lines: Iterable[str],
    *,
    area: BBox,
    phones: PhoneNormalizer = normalize_phone,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 100_000,
) -> Parsed:
    """Parse and validate the whole file at once (CsvParser.chunk does it piecewise)."""
    parser = CsvParser(lines, area=area, phones=phones)
    whole = Parsed(parser.columns)
    while (part := parser.chunk(progress_every)) is not None:
        whole.rows += part.rows
        whole.rejected += part.rejected
        whole.received += part.received
        if progress and part.received == progress_every:
            progress(whole.received)
    return whole


def _take(
    parsed: Parsed, line: int, values: list[str], parse_row: RowParser, first: dict[str, int]
) -> None:
    if len(values) != len(parsed.columns):
        reason = f"expected {len(parsed.columns)} fields, found {len(values)}"
        parsed.rejected.append(Rejected(line, "*", reason))
        return
    row, errors = parse_row(line, values)
    if row is not None and row.phone in first:
        errors = [("phone", f"same phone as line {first[row.phone]}, which is imported")]
    if errors or row is None:
        parsed.rejected.extend(Rejected(line, f, r) for f, r in errors)
        return
    first[row.phone] = line
    parsed.rows.append(row)


RowParser = Callable[[int, list[str]], tuple[Row | None, list[tuple[str, str]]]]


def _row_parser(columns: tuple[str, ...], area: BBox, phones: PhoneNormalizer) -> RowParser:
    """A function turning one line's values into a Row or a list of (field, reason)."""
    present = [(i, c, phones if c == "phone" else _PARSERS[c]) for i, c in enumerate(columns)]
    # Columns absent from the header take their defaults once, not per row.
    base: dict[str, Any] = {c: _DEFAULTS.get(c) for c in (*REQUIRED, *OPTIONAL) if c not in columns}
    order = {c: i for i, c in enumerate(columns)}

    def parse(line: int, values: list[str]) -> tuple[Row | None, list[tuple[str, str]]]:
        out: dict[str, Any] = dict(base)
        errors: list[tuple[str, str]] = []
        for i, name, fn in present:
            raw = values[i].strip()
            if why := bad_byte(raw):
                errors.append((name, why))
                continue
            if not raw:
                if name in REQUIRED:
                    errors.append((name, "required"))
                out[name] = _DEFAULTS.get(name)
                continue
            try:
                out[name] = fn(raw)
            except ValueError as exc:
                errors.append((name, str(exc)))
        _cross_checks(out, errors, area)
        if errors:
            errors.sort(key=lambda e: order[e[0]])  # report in the file's column order
            return None, errors
        return Row(line, **out), errors

    return parse


def _cross_checks(out: dict[str, Any], errors: list[tuple[str, str]], area: BBox) -> None:
    lat, lon = out.get("lat"), out.get("lon")
    if isinstance(lat, float) and not area.min_lat <= lat <= area.max_lat:
        errors.append(("lat", f"{lat} is outside the service area ({area.min_lat}–{area.max_lat})"))
    if isinstance(lon, float) and not area.min_lon <= lon <= area.max_lon:
        errors.append(("lon", f"{lon} is outside the service area ({area.min_lon}–{area.max_lon})"))
    if (out.get("quiet_start") is None) != (out.get("quiet_end") is None):
        errors.append(("quiet_start", "quiet_start and quiet_end come together"))


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
    seen: dict[str, list[str]] = {}  # a file repeats a handful of lists; rows share them

    def parse(raw: str) -> list[str]:
        if raw in seen:
            return seen[raw]
        items = sorted({s.strip() for s in raw.translate(_SPLIT).split(";") if s.strip()})
        bad = [s for s in items if not allowed(s)]
        if bad:
            raise ValueError(f"{bad[0][:20]!r} is not {what}")
        if len(seen) < 1000:
            seen[raw] = items
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
_DEFAULTS: dict[str, Any] = {
    "skills": [], "channels": ["sms"], "language": "zh", "on_duty": True,
    "daily_alert_cap": 10, "status": "active",
}


def iter_lines(text: str) -> Iterator[str]:
    """Lines for csv.reader, keeping embedded newlines of quoted fields intact."""
    return iter(text.splitlines(keepends=True))
