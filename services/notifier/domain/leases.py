"""How many sender numbers an instance should hold, and which to take or give back (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass


def fair_share(senders: int, live_instances: int) -> int:
    """Senders per instance so that every sender is held and none is left over."""
    return math.ceil(senders / max(1, live_instances))


@dataclass(frozen=True)
class Plan:
    acquire: tuple[str, ...]  # try these (each only if its lease is free or expired)
    release: tuple[str, ...]  # give these back: we hold more than our share


def plan(*, names: tuple[str, ...], held: set[str], live_instances: int) -> Plan:
    """Try every sender we lack while under our share; give back what is over it.

    Trying all unheld senders (not just `share - held` of them) matters: most are held by
    others and the attempt fails, so asking for only as many as we lack would stall on a
    busy one while a free one waits.
    """
    share = fair_share(len(names), live_instances)
    mine = [n for n in names if n in held]
    if len(mine) > share:
        return Plan(acquire=(), release=tuple(mine[share:]))
    if len(mine) == share:
        return Plan(acquire=(), release=())
    return Plan(acquire=tuple(n for n in names if n not in held), release=())
