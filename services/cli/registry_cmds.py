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
    seed_gazetteer_cmd()


def seed_gazetteer_cmd() -> None:
    """The dispatcher's synthetic standard addresses (roads, numbers, estates per district)."""
    from baiying_dispatcher.gazetteer.seed import seed_gazetteer
    from baiying_shared.settings import CommonSettings

    n = asyncio.run(seed_gazetteer(CommonSettings()))
    typer.echo(f"gazetteer: {n:,} standard addresses")


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
        report = asyncio.run(_import(settings, file.read_bytes()))
    except MalformedCsv as exc:
        _say(f"malformed CSV: {exc}")
        raise typer.Exit(2) from exc
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


async def _import(settings: Any, data: bytes) -> Any:
    """Parse and write chunk by chunk in one transaction on a direct connection (no pool
    timeout for big files), a progress line per chunk."""
    import asyncpg

    from baiying_registry.csvrows import CsvParser, decode_upload, iter_lines
    from baiying_registry.importer import import_stream
    from baiying_shared.db.migrate import migrate

    start = time.monotonic()
    parser = CsvParser(iter_lines(decode_upload(data)), area=settings.area)
    dsn = settings.database_url.get_secret_value()
    await migrate(dsn, schema=settings.db_schema, package="baiying_registry")
    conn = await asyncpg.connect(
        dsn, server_settings={"search_path": f"{settings.db_schema},public"}
    )
    try:
        return await import_stream(conn, parser=parser, progress=_say)
    finally:
        await conn.close()
        _say(f"done in {time.monotonic() - start:.1f}s")
