"""One stage of raise-to-first-SMS: outbox commit -> relay -> broker -> consumer handler.

    python3 -m bench.outbox_hop [--events 200]

The project's own pieces (outbox.add in a transaction, OutboxRelay, EventConsumer with its
default fetch settings), one event at a time, beside the bare broker round trip: what the
hop between the dispatcher's commit and the notifier's handler costs, and whether any fixed
wait (a relay poll, a fetch wait, a linger) hides in it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from typing import Any

from baiying_shared.db import outbox
from baiying_shared.db.migrate import migrate
from baiying_shared.db.pool import create_pool
from baiying_shared.events.common import TeamType
from baiying_shared.events.envelope import Envelope, wrap
from baiying_shared.events.teams import TOPIC, TeamSnapshot
from baiying_shared.handlers import route
from baiying_shared.kafka.admin import ensure_topics
from baiying_shared.kafka.consumer import EventConsumer
from baiying_shared.kafka.producer import make_producer
from baiying_shared.logging import configure_logging
from baiying_shared.settings import CommonSettings
from bench.dispatch_common import temp_database
from bench.stats import percentiles, progress


async def run(events: int = 200) -> dict[str, Any]:
    configure_logging(service="bench", level="WARNING", json=False)  # stdout is the JSON
    async with temp_database() as url:
        settings = CommonSettings(database_url=url, topic_prefix=f"hop{uuid.uuid4().hex[:6]}.")
        await migrate(url, schema="hop", package="baiying_shared.db")
        pool = await create_pool(settings, schema="hop")
        await ensure_topics(settings)
        producer, dlq = make_producer(settings, client_id="hop"), make_producer(
            settings, client_id="hop-dlq")
        await producer.start()
        await dlq.start()
        arrived: dict[uuid.UUID, asyncio.Event] = {}

        async def seen(env: Envelope[Any]) -> None:
            if env.event_id in arrived:
                arrived[env.event_id].set()

        relay = outbox.OutboxRelay(settings=settings, pool=pool, producer=producer, schema="hop")
        consumer = EventConsumer(settings=settings, group_id="hop", topics=[TOPIC],
                                 handle=route({TeamSnapshot: seen}), dead_letters=dlq)
        relay.start()
        await consumer.start()
        try:
            progress(f"outbox hop: {events} events, one at a time")
            samples = [await _one(pool, arrived, i) for i in range(events + 10)][10:]
        finally:
            await consumer.stop()
            await relay.stop()
            await producer.stop()
            await dlq.stop()
            await pool.close()
    return {"benchmark": "outbox_hop", "events": events,
            "commit_to_handler": percentiles(samples)}


async def _one(pool: Any, arrived: dict[uuid.UUID, asyncio.Event], i: int) -> float:
    team = TeamSnapshot(team_id=uuid.uuid4(), name=f"hop{i}", type=TeamType.patrol,
                        district="360702")
    env = wrap(team, producer="bench")
    arrived[env.event_id] = asyncio.Event()
    async with pool.acquire() as conn, conn.transaction():
        await outbox.add(conn, topic=TOPIC, key=str(team.team_id), envelope=env)
    t0 = time.perf_counter()  # the clock starts at commit
    await asyncio.wait_for(arrived[env.event_id].wait(), 60)
    return (time.perf_counter() - t0) * 1000


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200)
    print(json.dumps(asyncio.run(run(parser.parse_args().events)), indent=2))
