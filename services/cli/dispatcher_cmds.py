"""`baiying` subcommands contributed by the dispatcher service."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach this service's commands to the operator CLI."""
