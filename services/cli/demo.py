"""`baiying run`: migrate, seed the Ganzhou demo, serve everything and say where to look."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import typer

from baiying_cli.catalog import SERVICES
from baiying_cli.serving import serve_many
from baiying_shared.auth import Role, mint_token
from baiying_shared.db.migrate import migrate
from baiying_shared.settings import CommonSettings

HOME_DISTRICT = "360702"  # 章贡区, the central city
OTHER_DISTRICT = "360703"  # 南康区, to show district scoping
DEMO_ROLES: list[tuple[str, str, Role, list[str]]] = [
    ("admin", "demo-admin", "admin", ["*"]),
    ("duty desk 章贡区", "desk-zhanggong", "duty_desk", [HOME_DISTRICT]),
    ("supervisor 章贡区", "sup-zhanggong", "supervisor", [HOME_DISTRICT]),
    ("supervisor 南康区", "sup-nankang", "supervisor", [OTHER_DISTRICT]),
]


async def prepare(*, seed: int, scale: int) -> None:
    """Apply migrations and seed the registry with the Ganzhou demo data (skipped if present)."""
    from baiying_registry.config import RegistrySettings
    from baiying_registry.seed import seed_ganzhou

    settings = CommonSettings()
    for spec in SERVICES.values():
        if spec.schema and spec.migrations:
            await migrate(
                settings.database_url.get_secret_value(),
                schema=spec.schema,
                package=spec.migrations,
            )
    typer.echo("[run] migrations applied")
    report = await seed_ganzhou(RegistrySettings(), seed=seed, scale=scale, progress=typer.echo)
    typer.echo(f"[run] seed: {report}")
    from baiying_dispatcher.gazetteer.seed import seed_gazetteer

    typer.echo(f"[run] gazetteer: {await seed_gazetteer(settings)} standard addresses")


async def _demo_volunteer_id(host: str) -> str | None:
    token = mint_token(CommonSettings(), sub="run", role="admin", districts=["*"])
    url = f"http://{host}:{SERVICES['registry'].port}/v1/volunteers"
    async with httpx.AsyncClient(timeout=5) as client:
        for _ in range(100):  # the registry is starting beside us
            with contextlib.suppress(httpx.HTTPError):
                r = await client.get(
                    url,
                    params={"district": HOME_DISTRICT, "limit": 1},
                    headers={"Authorization": f"Bearer {token}"},
                )
                if r.status_code == 200:
                    items = r.json().get("items", [])
                    return str(items[0]["id"]) if items else None
            await asyncio.sleep(0.2)
    return None


async def announce(host: str) -> None:
    """Print the URLs and demo sign-in tokens once the services answer."""
    settings = CommonSettings()
    volunteer_id = await _demo_volunteer_id(host)
    lines = ["", "Baiying is running (Ctrl-C stops it):"]
    for spec in SERVICES.values():
        lines.append(f"  {spec.name:<10} http://{host}:{spec.port}/docs")
    lines += [
        f"  duty desk  http://{host}:8002/desk",
        f"  dashboard  http://{host}:8002/dashboard",
        f"  volunteer  http://{host}:8003/app",
        f"  phones     http://{host}:8010/phones",
        "",
        "Demo tokens (12 h):",
        *(f"  {label:<22}{mint_token(settings, sub=sub, role=role, districts=ds)}"
          for label, sub, role, ds in DEMO_ROLES),
    ]
    if volunteer_id:
        import uuid

        vol = mint_token(
            settings,
            sub=f"vol-{volunteer_id}",
            role="volunteer",
            districts=[HOME_DISTRICT],
            volunteer_id=uuid.UUID(volunteer_id),
        )
        lines.append(f"  volunteer ({volunteer_id[:8]})  {vol}")
    typer.echo("\n".join(lines))


def register(app: typer.Typer) -> None:
    """Add `run` to the CLI."""

    @app.command()
    def run(seed: int = 1, scale: int = 1, host: str = "127.0.0.1") -> None:
        """Migrate, seed the Ganzhou demo, serve every service, print URLs and tokens."""

        async def main() -> None:
            await prepare(seed=seed, scale=scale)
            server = asyncio.create_task(serve_many(list(SERVICES.values()), host=host))
            await announce(host)
            await server

        asyncio.run(main())
