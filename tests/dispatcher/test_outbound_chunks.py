"""A big advisory's events are built and written a chunk at a time (the event loop gets in
between: a call-out raised meanwhile is not held up), still nearest first. No database."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from baiying_dispatcher import outbound
from baiying_dispatcher.repo import Callout, Incident
from baiying_shared.events.envelope import decode
from tests.dispatcher.test_aggregate import callout, row

ZHANGGONG = "360702"


def incident(kind: str = "callout") -> Incident:
    return replace(row(kind=kind), district=ZHANGGONG)


def person(of: Incident, rank: int) -> Callout:
    return replace(callout(of, rank), district=ZHANGGONG)


class RecordingConn:
    """Stands in for the connection: keeps each outbox statement's keys and payloads."""

    def __init__(self) -> None:
        self.writes: list[tuple[list[str], list[bytes]]] = []

    async def execute(self, _sql: str, *args: Any) -> str:
        _topics, keys, values = args[0], args[1], args[2]
        self.writes.append((list(keys), list(values)))
        return "INSERT"


async def test_an_advisory_of_1200_is_written_in_chunks_nearest_first() -> None:
    advisory = incident("advisory")
    people = [person(advisory, rank) for rank in range(1200, 0, -1)]  # given farthest first
    conn = RecordingConn()
    await outbound.issue(conn, incident=advisory, callouts=people, expires_at=None)  # type: ignore[arg-type]
    assert len(conn.writes) == math.ceil(1200 / outbound.CHUNK) == 3
    assert all(len(keys) <= outbound.CHUNK for keys, _ in conn.writes)
    ranks = [decode(v).payload.rank for _, values in conn.writes for v in values]
    assert ranks == list(range(1, 1201)), "nearest first across the chunks"


async def test_a_small_call_is_one_statement_and_none_is_nothing() -> None:
    call = incident()
    conn = RecordingConn()
    await outbound.issue(conn, incident=call, callouts=[person(call, 1)],  # type: ignore[arg-type]
                         expires_at=None)  # fmt: skip
    await outbound.stand_down(conn, incident=call, callouts=[], reason="staffed")  # type: ignore[arg-type]
    assert len(conn.writes) == 1
