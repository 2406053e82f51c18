"""Scenes the faults tests share: an advisory going out to a crowd, and the exactly-once checks.

Each fault test sets the scene the same way (people imported and indexed, an advisory raised,
wait until it is part-way out), breaks something, then checks every phone got one SMS and every
status came back once; only the breaking differs, so only that stays in the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.faults.crowd import (
    add_crowd,
    advisory,
    incident,
    indexed,
    not_exactly_once,
    raise_incident,
    sent_count,
    wait_served,
)
from tests.support import eventually
from tests.system.harness import System


@dataclass(frozen=True)
class Fanout:
    crowd: list[str]  # the advisory's recipients
    squad: list[str]  # people elsewhere, for a call-out raised during the fault
    advisory: dict[str, Any]  # the raised advisory as the dispatcher answered it


async def fanout_under_way(
    system: System, *, crowd: int, near: tuple[float, float], sent: int, squad: int = 0,
    squad_near: tuple[float, float] | None = None, radius_m: int = 2500,
    index_within: float = 60,
) -> Fanout:
    """An advisory to `crowd` people near `near`, returned once `sent` of them have their SMS."""
    people = await add_crowd(system, crowd, near=near)
    others = await add_crowd(system, squad, near=squad_near) if squad and squad_near else []
    await eventually(lambda: indexed(system, people + others), timeout=index_within,
                     what="people indexed")
    raised = await raise_incident(system, advisory(near, radius_m=radius_m))

    async def under_way() -> bool:
        return await sent_count(system, people) >= sent

    await eventually(under_way, timeout=60, what="advisory under way")
    return Fanout(crowd=people, squad=others, advisory=raised)


async def served_once(
    system: System, phones: list[str], expected: int | None = None, *, what: str,
    within: float = 90, context: str = "",
) -> dict[str, int]:
    """Wait until `expected` (default all) of `phones` are served; each got exactly one SMS."""
    counts = await wait_served(system, phones, expected, within=within, what=what)
    reached = counts if expected is None else {p: n for p, n in counts.items() if n}
    assert not_exactly_once(reached) == {}, context or what
    return counts


async def statuses_back(
    system: System, incident_id: str, delivered: int, *, within: float = 60, what: str
) -> None:
    """Wait until the dispatcher counts exactly `delivered` deliveries — each applied once."""

    async def exactly() -> dict[str, int] | None:
        seen: dict[str, int] = (await incident(system, incident_id))["deliveries"]
        return seen if seen.get("delivered") == delivered else None

    await eventually(exactly, timeout=within, what=what)
