"""`baiying` subcommands contributed by the registry service: seed and import."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    """Attach this service's commands to the operator CLI."""
    app.command("seed")(seed)
    app.command("import")(import_csv)


def _say(text: str) -> None:
    typer.echo(text, err=True)


def seed(
    dataset: Annotated[str, typer.Argument(help="demo data set: ganzhou")] = "ganzhou",
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same people")] = 1,
    scale: Annotated[int, typer.Option(help="multiply the document's counts (82 ≈ 1,000,000)")] = 1,
) -> None:
    """Load demo teams and volunteers (赣州市: 1,612 teams, 12,179 members x scale)."""
    from baiying_registry.config import RegistrySettings
    from baiying_registry.seed import seed_ganzhou

    if dataset != "ganzhou":
        raise typer.BadParameter("the only data set is ganzhou")
    report = asyncio.run(seed_ganzhou(RegistrySettings(), seed=seed, scale=scale, progress=_say))
    typer.echo(f"{report.message} in {report.seconds:.1f}s")


def import_csv(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    show: Annotated[int, typer.Option(help="rejected lines to print (all go to --rejects)")] = 50,
    rejects: Annotated[
        Path | None, typer.Option(help="write every rejected line to this CSV")
    ] = None,
) -> None:
    """Upsert volunteers from a CSV file by phone (same rules as POST /v1/volunteers/import)."""
    from baiying_registry.config import RegistrySettings
    from baiying_registry.csvrows import MalformedCsv

    settings = RegistrySettings()
    if file.stat().st_size > settings.import_max_bytes:
        _say(f"{file} is larger than BAIYING_IMPORT_MAX_BYTES ({settings.import_max_bytes:,})")
        raise typer.Exit(2)
    try:
        parsed = _parse(settings, file)
    except MalformedCsv as exc:
        _say(f"malformed CSV: {exc}")
        raise typer.Exit(2) from exc
    report = asyncio.run(_write(settings, parsed))
    typer.echo(
        f"{report.received:,} rows: {report.imported:,} imported ({report.created:,} created,"
        f" {report.updated:,} updated), {report.unchanged:,} unchanged,"
        f" {len({r.line for r in report.rejected}):,} lines rejected"
    )
    for r in report.rejected[:show]:
        typer.echo(f"  line {r.line}: {r.field}: {r.reason}")
    if rejects:
        rejects.write_text("line,field,reason\n" + "".join(
            f'{r.line},{r.field},"{r.reason.replace(chr(34), chr(39))}"\n' for r in report.rejected
        ), encoding="utf-8")


def _parse(settings: Any, file: Path) -> Any:
    """Read and check every line, with a progress line every 100,000 rows."""
    from baiying_registry.csvrows import decode_upload, iter_lines, parse_csv

    start = time.monotonic()
    text = decode_upload(file.read_bytes())
    parsed = parse_csv(iter_lines(text), area=settings.area,
                       progress=lambda n: _say(f"parsed {n:,} rows"))
    _say(f"parsed {parsed.received:,} rows ({len(parsed.rejected):,} problems)"
         f" in {time.monotonic() - start:.1f}s")
    return parsed


async def _write(settings: Any, parsed: Any) -> Any:
    """Write in one transaction on a direct connection (no pool timeout for big files)."""
    import asyncpg

    from baiying_registry.importer import import_parsed
    from baiying_shared.db.migrate import migrate

    start = time.monotonic()
    dsn = settings.database_url.get_secret_value()
    await migrate(dsn, schema=settings.db_schema, package="baiying_registry")
    conn = await asyncpg.connect(
        dsn, server_settings={"search_path": f"{settings.db_schema},public"}
    )
    try:
        return await import_parsed(conn, parsed=parsed, progress=_say)
    finally:
        await conn.close()
        _say(f"written in {time.monotonic() - start:.1f}s")
