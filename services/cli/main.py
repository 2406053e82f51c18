"""`baiying`: start the infrastructure, migrate, serve, mint tokens, seed, import, drill."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from baiying_cli.catalog import SERVICES
from baiying_shared.settings import CommonSettings

app = typer.Typer(help="Baiying (一呼百应) operator command.", no_args_is_help=True)
REPO = Path(__file__).resolve().parents[2]


@app.command()
def infra(action: Annotated[str, typer.Argument(help="up | down | status")] = "status") -> None:
    """Install (on up) and start, stop or show the local PostgreSQL+PostGIS and Kafka."""
    if action not in ("up", "down", "status"):
        raise typer.BadParameter("action must be up, down or status")
    script = REPO / "deploy" / "local" / "infra.sh"
    raise typer.Exit(subprocess.call(["bash", str(script), action]))


@app.command("migrate")
def migrate_cmd() -> None:
    """Apply every service's schema migrations (safe to re-run)."""
    from baiying_shared.db.migrate import migrate

    settings = CommonSettings()

    async def run() -> None:
        for spec in SERVICES.values():
            if spec.schema and spec.migrations:
                done = await migrate(
                    settings.database_url.get_secret_value(),
                    schema=spec.schema,
                    package=spec.migrations,
                )
                typer.echo(f"{spec.name}: {len(done)} migration(s) applied {done or ''}")

    asyncio.run(run())


def _ports(pairs: list[str], names: list[str]) -> dict[str, int]:
    ports: dict[str, int] = {}
    for pair in pairs:
        service, _, number = pair.partition("=")
        if service not in names or not number.isdigit():
            raise typer.BadParameter(f"--port-of {pair!r}: want NAME=PORT for one of {names}")
        ports[service] = int(number)
    return ports


@app.command()
def serve(
    name: Annotated[str, typer.Argument(help="registry | dispatcher | notifier | sandbox | all")],
    host: str = "127.0.0.1",
    port: Annotated[
        int | None, typer.Option(help="override the default port (one service only)")
    ] = None,
    port_of: Annotated[
        list[str] | None, typer.Option(help="NAME=PORT, repeatable: one service's port")
    ] = None,
) -> None:
    """Serve one service (or all of them in this process) on its default port."""
    import dataclasses

    from baiying_cli.serving import serve_many

    names = list(SERVICES) if name == "all" else [name]
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        raise typer.BadParameter(
            f"unknown service {unknown[0]}; choose from {', '.join(SERVICES)} or all"
        )
    if port and len(names) > 1:
        raise typer.BadParameter("--port needs a single service")
    ports = _ports(port_of or [], names)
    if port:
        ports[names[0]] = port
    specs = [dataclasses.replace(SERVICES[n], port=ports.get(n, SERVICES[n].port)) for n in names]
    asyncio.run(serve_many(specs, host=host))


@app.command()
def token(
    role: Annotated[str, typer.Option(help="duty_desk | supervisor | admin | volunteer")] = "admin",
    district: Annotated[
        list[str] | None, typer.Option(help="district code; repeat for several")
    ] = None,
    sub: str = "dev",
    volunteer_id: str | None = None,
    ttl_hours: int = 12,
) -> None:
    """Mint a signed development token."""
    import uuid

    from baiying_shared.auth import mint_token

    if role not in ("duty_desk", "supervisor", "admin", "volunteer"):
        raise typer.BadParameter(f"unknown role {role}")
    typer.echo(
        mint_token(
            CommonSettings(),
            sub=sub,
            role=role,  # type: ignore[arg-type]
            districts=district or (["*"] if role == "admin" else []),
            volunteer_id=uuid.UUID(volunteer_id) if volunteer_id else None,
            ttl_s=ttl_hours * 3600,
        )
    )


def _register_service_commands() -> None:
    from baiying_cli import demo, drill, notifier_cmds, registry_cmds

    for module in (registry_cmds, notifier_cmds, demo, drill):
        module.register(app)


_register_service_commands()


def main() -> None:  # pragma: no cover - console entry
    sys.exit(app())


if __name__ == "__main__":  # `python -m baiying_cli.main`, used by the system tests
    main()
