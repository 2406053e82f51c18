"""A bulk poll's inbox claim and its incidents' read are one statement: the same answers
as inbox.claim_many and repo.incidents_by_id one after the other."""

from __future__ import annotations

import uuid

from baiying_dispatcher import consumers, repo
from baiying_shared.db import inbox
from tests.dispatcher.conftest import System
from tests.dispatcher.test_bulk_status import _incidents


async def test_claim_with_incidents_answers_as_the_claim_and_the_read_apart(
    system: System,
) -> None:
    adv, call = await _incidents(system)
    named = [adv[0].incident_id, call[0].incident_id, uuid.uuid4()]  # the last: no such
    ids = [uuid.uuid4() for _ in range(3)]
    async with system.pool.acquire() as conn, conn.transaction():
        fresh, got = await repo.claim_with_incidents(
            conn, event_ids=[*ids, ids[0]], consumer=consumers.CONSUMER, incident_ids=named)
        assert fresh == set(ids)
        assert got == await repo.incidents_by_id(conn, named)
        assert set(got) == set(named[:2])
        # Claimed already: none fresh, the incidents still read.
        again, got_again = await repo.claim_with_incidents(
            conn, event_ids=ids[:2], consumer=consumers.CONSUMER, incident_ids=named)
        assert again == set() and got_again == got
        # No incident found: the fresh ids still come back (the read is a LEFT JOIN).
        more = [uuid.uuid4()]
        alone, none = await repo.claim_with_incidents(
            conn, event_ids=more, consumer=consumers.CONSUMER, incident_ids=[uuid.uuid4()])
        assert alone == set(more) and none == {}
        assert await inbox.claim_many(conn, event_ids=[*ids, *more],
                                      consumer=consumers.CONSUMER) == set()
