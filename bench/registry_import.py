"""Benchmark: CSV import of N volunteers (default 1,000,000) into a scratch schema. Prints JSON.

    python3 bench/registry_import.py [--rows N] [--keep]

Uses BAIYING_DATABASE_URL; the same parse + one-transaction upsert as `baiying import`, with
its progress lines on stderr. Target from issue 13: 1,000,000 rows in 30 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from baiying_registry.config import RegistrySettings
from baiying_registry.csvrows import CsvParser, Parsed, decode_upload, iter_lines
from baiying_registry.importer import CHUNK_ROWS, import_chunks
from baiying_registry.reference import ganzhou
from baiying_shared.db.migrate import migrate

TEAMS = 200


def write_csv(path: Path, rows: int, teams: list[tuple[uuid.UUID, str]], seed: int = 1) -> None:
    """A realistic file: Chinese names, varied phone formats, a few skills, ~0.1% bad lines."""
    rng = random.Random(seed)
    seats = {d.code: (d.seat_lat, d.seat_lon) for d in ganzhou().divisions}
    with path.open("w", encoding="utf-8") as f:
        f.write("name,phone,team_id,lat,lon,skills,channels,on_duty,daily_alert_cap\n")
        for i in range(rows):
            team_id, district = teams[i % len(teams)]
            lat, lon = seats[district]
            phone = f"1390{i:07d}" if i % 2 else f"+86 139 0{i // 10**4:03d} {i % 10**4:04d}"
            if i % 1000 == 999:
                phone = "12345"  # rejected: the report must list these lines
            f.write(f"刘{'海燕建华明芳'[i % 6]}{i % 97},{phone},{team_id},"
                    f"{lat + rng.gauss(0, 0.05):.6f},{lon + rng.gauss(0, 0.05):.6f},"
                    f"{'first_aid' if i % 3 == 0 else ''},sms,{'true' if i % 7 else 'false'},10\n")


class _TimedParser:
    """The parser's chunks, with the time spent parsing them summed."""

    def __init__(self, parser: CsvParser) -> None:
        self.parser, self.busy_s, self.cpu_s = parser, 0.0, 0.0

    def chunk(self) -> Parsed | None:
        t0, cpu0 = time.perf_counter(), time.thread_time()
        try:
            return self.parser.chunk(CHUNK_ROWS)
        finally:
            self.busy_s += time.perf_counter() - t0
            self.cpu_s += time.thread_time() - cpu0


def _cpu_of(pid: int) -> float | None:
    """CPU seconds (user + system) a local process has used, or None if it is not visible."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main(rows: int, keep: bool) -> dict[str, Any]:
    schema = f"bench_import_{uuid.uuid4().hex[:6]}"
    settings = RegistrySettings(db_schema=schema)
    dsn = settings.database_url.get_secret_value()
    await migrate(dsn, schema=schema, package="baiying_registry")
    conn: asyncpg.Connection[Any] = await asyncpg.connect(
        dsn, server_settings={"search_path": f"{schema},public"})
    backend = await conn.fetchval("SELECT pg_backend_pid()")
    try:
        divisions = [d.code for d in ganzhou().divisions]
        teams = [(uuid.uuid4(), divisions[k % len(divisions)]) for k in range(TEAMS)]
        await conn.executemany(
            "INSERT INTO teams (id, name, type, district) VALUES ($1, $2, 'patrol', $3)",
            [(t, f"bench {k}", d) for k, (t, d) in enumerate(teams)])
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "people.csv"
            write_csv(path, rows, teams)
            size = path.stat().st_size
            t0, cpu0, db0 = time.perf_counter(), time.process_time(), _cpu_of(backend)
            parser = CsvParser(iter_lines(decode_upload(path.read_bytes())), area=settings.area)
            t1 = time.perf_counter()
            timed = _TimedParser(parser)
            report = await import_chunks(  # as import_stream: parse overlaps the writes
                conn, next_chunk=timed.chunk, trace_id=None, parse_in_thread=True,
                progress=lambda line: print(f"{time.perf_counter() - t1:6.1f}s {line}",
                                            file=sys.stderr))
            t2, cpu, db1 = time.perf_counter(), time.process_time() - cpu0, _cpu_of(backend)
        published = await conn.fetchval("SELECT count(*) FROM outbox")
        result = {
            "benchmark": "registry_import", "rows": rows, "file_mb": round(size / 2**20, 1),
            "read_s": round(t1 - t0, 2), "parse_and_write_s": round(t2 - t1, 2),
            "total_s": round(t2 - t0, 2), "rows_per_s": round(rows / (t2 - t0)),
            "parse_s": round(timed.busy_s, 2),  # in its thread, beside the writes
            "parse_cpu_s": round(timed.cpu_s, 2),
            # CPU this process used (parse, COPY encoding): on a shared box, the load-free part
            "python_cpu_s": round(cpu, 2),
            # CPU of the database backend that ran the import (None if not on this machine)
            "db_cpu_s": None if db0 is None or db1 is None else round(db1 - db0, 2),
            "load_average": [round(x, 1) for x in os.getloadavg()],
            "imported": report.imported, "rejected": len(report.rejected),
            "outbox_rows": published, "target_s": 30,
        }
    finally:
        if not keep:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch schema")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.rows, args.keep))))
