"""`baiying` subcommands contributed by the notifier service."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Attach this service's commands to the operator CLI."""

    @app.command("sms-reply")
    def sms_reply(
        number: Annotated[str, typer.Argument(help="the simulated phone, e.g. +8613800000001")],
        text: Annotated[str, typer.Argument(help="what the volunteer types: 1, 2, 3, 退订 …")],
        sandbox: str = "http://127.0.0.1:8010",
    ) -> None:
        """Reply from a sandbox phone; the sandbox signs it and calls the notifier's webhook."""
        import httpx

        r = httpx.post(f"{sandbox}/v1/phones/{number}/reply", json={"body": text}, timeout=15)
        r.raise_for_status()
        for answer in r.json()["answers"]:
            typer.echo(answer)

    @app.command("sms-phones")
    def sms_phones(sandbox: str = "http://127.0.0.1:8010") -> None:
        """List the sandbox's simulated phones and how many messages each received."""
        import httpx

        for phone in httpx.get(f"{sandbox}/v1/phones", timeout=15).json():
            flag = "  (opted out)" if phone["opted_out"] else ""
            typer.echo(f"{phone['number']}  {phone['received']}{flag}")
