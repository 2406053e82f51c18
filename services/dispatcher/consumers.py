"""The dispatcher's handler maps: the registry's volunteers in, the notifier's news in.

Handlers are module-level functions of (deps, event), so each can be imported and tested alone;
`make_consumers` only binds them to the runtime.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

import asyncpg

from baiying_dispatcher import index, repo, responses
from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.prevention import campaign_reach
from baiying_shared.db import inbox
from baiying_shared.events import deliveries, replies, volunteers
from baiying_shared.events.catalogue import DELIVERIES_BULK
from baiying_shared.events.deliveries import DeliveryStatusChanged
from baiying_shared.events.envelope import Envelope
from baiying_shared.events.replies import VolunteerReplied
from baiying_shared.events.volunteers import VolunteerSnapshot
from baiying_shared.kafka.consumer import EventConsumer, Message
from baiying_shared.runtime import Runtime

INDEX_GROUP = "dispatcher-index"
RESPONSES_GROUP = "dispatcher"
BULK_GROUP = "dispatcher-bulk"  # advisories' statuses, apart from call-outs' and replies
BULK_FETCH_BYTES = 48 * 1024  # about 80 status events (~600 bytes each on the wire)
CONSUMER = "dispatcher"


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool[Any]
    settings: DispatcherSettings


async def on_responses(deps: Deps, messages: list[Message]) -> None:
    """A partition's poll of statuses or replies, each applied once.

    They go by incident: each incident's run of them is one transaction that claims them
    all (`claim_many`) and applies them, in offset order, to one loaded aggregate
    (responses.on_replies / on_deliveries), so a flood of 500 accepts (or of 500 alerts'
    statuses) is not 500 loads of 500 call-outs under the incident's row lock.
    Incidents go in order of their first event (one volunteer accepting two incidents in one
    poll is judged in that order).
    """
    runs: dict[tuple[type, uuid.UUID], list[Envelope[Any]]] = {}
    for env in (m.envelope for m in messages if m.envelope is not None):
        if isinstance(env.payload, VolunteerReplied | DeliveryStatusChanged):
            runs.setdefault((type(env.payload), env.payload.incident_id), []).append(env)
    for (kind, incident_id), run in runs.items():
        async with deps.pool.acquire() as conn, conn.transaction():
            fresh = await inbox.claim_many(conn, event_ids=[e.event_id for e in run],
                                           consumer=CONSUMER)
            events: list[Any] = []  # one kind: the run's key says which
            for env in run:
                if env.event_id in fresh:
                    fresh.discard(env.event_id)  # a re-published copy in the same poll: once
                    events.append(env.payload)
            if not events:
                continue
            if kind is VolunteerReplied:
                await responses.on_replies(conn, settings=deps.settings,
                                           incident_id=incident_id, events=events)
            else:
                await responses.on_deliveries(conn, settings=deps.settings,
                                              incident_id=incident_id, events=events)


async def on_bulk_deliveries(deps: Deps, messages: list[Message]) -> None:
    """An advisory's statuses, a partition's poll in one transaction, each applied once.

    Thousands arrive per advisory: one transaction (and one claim statement) a poll, not one
    per status, keeps their share of the pool and the event loop small beside replies.
    """
    envs = [m.envelope for m in messages if m.envelope is not None]
    if not envs:
        return
    named = {e.payload.incident_id for e in envs if isinstance(e.payload, DeliveryStatusChanged)}
    async with deps.pool.acquire() as conn, conn.transaction():
        # The claim and the incidents the statuses name in one round trip, not two.
        fresh, incidents = await repo.claim_with_incidents(
            conn, event_ids=[e.event_id for e in envs], consumer=CONSUMER, incident_ids=list(named))
        statuses: list[DeliveryStatusChanged] = []
        for env in envs:
            if env.event_id in fresh and isinstance(env.payload, DeliveryStatusChanged):
                fresh.discard(env.event_id)  # a poll may also hold a re-published copy: once
                statuses.append(env.payload)
        if statuses:  # set-based: a few statements a poll, not four a status
            await responses.on_bulk_statuses(conn, settings=deps.settings, events=statuses,
                                             incidents=incidents)


async def on_index_batch(deps: Deps, messages: list[Message]) -> None:
    """Snapshots and tombstones in offset order; runs of snapshots go in one upsert.

    Revision-guarded upserts make replays and stale snapshots change nothing.
    """
    run: list[VolunteerSnapshot] = []
    async with deps.pool.acquire() as conn, conn.transaction():
        for m in messages:
            if m.envelope is not None and isinstance(m.envelope.payload, VolunteerSnapshot):
                run.append(m.envelope.payload)
            elif m.envelope is None and m.key:
                if run:
                    await index.apply_snapshots(conn, run)
                run = []
                await index.remove(conn, volunteer_id=uuid.UUID(m.key))
        if run:
            await index.apply_snapshots(conn, run)


def make_consumers(rt: Runtime) -> list[EventConsumer]:
    """One group keeps the responder index (batch), one applies call-outs' deliveries and
    replies, one the statuses of advisories (bulk), so a reply never waits behind those."""
    settings = rt.settings
    assert isinstance(settings, DispatcherSettings)
    deps = Deps(rt.pool, settings)
    return [
        EventConsumer(settings=settings, group_id=INDEX_GROUP, topics=[volunteers.TOPIC],
                      handle_batch=partial(on_index_batch, deps), dead_letters=rt.producer),
        EventConsumer(settings=settings, group_id=RESPONSES_GROUP,
                      topics=[deliveries.TOPIC, replies.TOPIC],
                      handle_batch=partial(on_responses, deps), dead_letters=rt.producer),
        # Two partitions at a time, so the pool and the loop stay free for replies. Advisory
        # statuses arrive at the senders' pace (a few per fetch) and a poll's statements cost
        # the same for 3 as for 100 (set-based writer), so the broker is asked to gather
        # about 80 statuses or 250 ms, whichever comes first: a dashboard tick, not a call-out.
        EventConsumer(settings=settings, group_id=BULK_GROUP, topics=[DELIVERIES_BULK],
                      handle_batch=partial(on_bulk_deliveries, deps), dead_letters=rt.producer,
                      concurrency=2, max_records=100, fetch_min_bytes=BULK_FETCH_BYTES,
                      fetch_max_wait_ms=250),
        campaign_reach.make_consumer(rt),  # 以案说防 reach, in its own group
    ]
