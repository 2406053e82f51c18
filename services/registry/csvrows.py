"""CSV import rows: header rules, per-field parsing, rejections with line numbers. No I/O."""

from __future__ import annotations

import csv
import gc
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import time
from itertools import compress, repeat
from operator import itemgetter
from typing import NamedTuple

from baiying_registry.csvcolumns import DEFAULTS, REQUIRED, Errors, column, cross_checks
from baiying_registry.csvcolumns import bad_byte as bad_byte
from baiying_registry.domain import PhoneNormalizer, normalize_phone
from baiying_registry.reference import BBox

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
        self._area, self._phones = area, phones
        self._first_line_of: dict[str, int] = {}
        self._start = self._reader.line_num + 1

    def chunk(self, max_rows: int) -> Parsed | None:
        """The next up to `max_rows` data lines, or None at the end of the file."""
        parsed, reader, width = Parsed(self.columns), self._reader, len(self.columns)
        lines: list[int] = []
        records: list[list[str]] = []
        try:
            for values in reader:
                line, self._start = self._start, reader.line_num + 1
                if not values or values == [""]:
                    continue  # blank lines are not data
                parsed.received += 1
                if len(values) == width:
                    lines.append(line)
                    records.append(values)
                else:
                    parsed.rejected.append(
                        Rejected(line, "*", f"expected {width} fields, found {len(values)}"))
                if parsed.received >= max_rows:
                    break
        except csv.Error as exc:
            raise MalformedCsv(f"line {reader.line_num}: {exc}") from exc
        self.received += parsed.received
        if records:
            self._validate(parsed, lines, records)
        return parsed if parsed.received else None

    def _validate(self, parsed: Parsed, lines: list[int], records: list[list[str]]) -> None:
        """Check the chunk column by column, then keep the rows with no error."""
        errors: Errors = {}
        # itemgetter pulls a column in C; zip(*records) over 50,000 rows costs as much as
        # every check together.
        by_name = {name: column(name, list(map(itemgetter(i), records)), errors,
                                phones=self._phones) for i, name in enumerate(self.columns)}
        cross_checks(by_name, errors, self._area)
        fields = [by_name[f] if f in by_name else repeat(DEFAULTS.get(f)) for f in Row._fields[1:]]
        rows: Iterator[Row] = map(Row._make, zip(lines, *fields, strict=False))  # absent: repeat
        if errors:
            order = {c: i for i, c in enumerate(self.columns)}
            for i in sorted(errors):  # a line's errors in the file's column order
                problems = sorted(errors[i], key=lambda e: order[e[0]])
                parsed.rejected.extend(Rejected(lines[i], f, why) for f, why in problems)
            rows = compress(rows, (i not in errors for i in range(len(lines))))
        first = self._first_line_of
        for row in rows:
            seen = first.setdefault(row.phone, row.line)
            if seen == row.line:
                parsed.rows.append(row)
            else:
                parsed.rejected.append(
                    Rejected(row.line, "phone", f"same phone as line {seen}, which is imported"))
        parsed.rejected.sort(key=lambda r: r.line)

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


def iter_lines(text: str) -> Iterator[str]:
    """Lines for csv.reader, keeping embedded newlines of quoted fields intact."""
    return iter(text.splitlines(keepends=True))


class _Collections:
    """Rarer garbage collections while any import runs, process-wide, restored after the last.

    A chunk makes ~100,000 young tuples that all live until it is written; at the default
    thresholds the collector walked them over and over, a third of the parse's CPU and five
    times the cost of building the COPY records. Cycles are still collected, only later.
    """

    BULK = (100_000, 50, 100)

    def __init__(self) -> None:
        self.users, self.saved = 0, gc.get_threshold()

    @contextmanager
    def rarer(self) -> Iterator[None]:
        if self.users == 0:
            self.saved = gc.get_threshold()
            gc.set_threshold(*self.BULK)
        self.users += 1
        try:
            yield
        finally:
            self.users -= 1
            if self.users == 0:
                gc.set_threshold(*self.saved)


rare_collections = _Collections().rarer
