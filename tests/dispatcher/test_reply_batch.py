"""A poll's replies to one incident applied on one aggregate: the same records as one by one."""

from __future__ import annotations

import uuid

from baiying_dispatcher.domain import CalloutState as S
from baiying_dispatcher.domain import IncidentStatus
from baiying_dispatcher.mobilisation import changes as ch
from baiying_dispatcher.mobilisation import handlers
from baiying_dispatcher.mobilisation.advisory import Status
from baiying_dispatcher.mobilisation.aggregate import Incident
from baiying_dispatcher.mobilisation.unit_of_work import covers
from baiying_dispatcher.queries import coverage
from tests.dispatcher.test_aggregate import T0, FakeUnitOfWork, callout, candidate, row


def _twins(n: int, need: int) -> tuple[Incident, Incident]:
    """Two aggregates of one incident, as two loads of the same rows would give."""
    r = row(need=need)
    outs = [callout(r, i + 1) for i in range(n)]
    return Incident.of(r, outs), Incident.of(r, outs)


def _flood(agg: Incident) -> list[handlers.Reply]:
    """A decline, then accepts from everyone else, one of them twice (a redelivered reply)."""
    first, second, *rest = agg.callouts
    return [handlers.Reply(first, "decline", T0), handlers.Reply(second, "accept", T0),
            handlers.Reply(second, "accept", T0),
            *(handlers.Reply(c, "accept", T0) for c in rest)]


async def _one_by_one(uow: FakeUnitOfWork, answers: list[handlers.Reply]) -> None:
    for a in answers:
        await handlers.reply(uow, incident_id=uow.agg.row.id, callout_id=a.callout_id,
                             action=a.action, at=a.at, over_call=2.0)


async def test_a_batch_commits_the_same_records_as_one_by_one() -> None:
    single, batched = _twins(4, need=2)
    people = [candidate(900), candidate(950)]
    alone, together = FakeUnitOfWork(single, people), FakeUnitOfWork(batched, people)
    answers = _flood(single)
    await _one_by_one(alone, answers)
    agg, unknown = await handlers.replies(together, incident_id=batched.row.id,
                                          answers=answers, over_call=2.0)
    assert agg is batched and unknown == []
    assert together.committed == alone.committed
    assert batched.row == single.row and batched.callouts == single.callouts
    assert together.asked == alone.asked  # every committing reply checked its holder


async def test_a_flood_of_accepts_staffs_once_and_stands_the_rest_down_once() -> None:
    _, agg = _twins(4, need=2)
    uow = FakeUnitOfWork(agg, [candidate(900), candidate(950)])
    await handlers.replies(uow, incident_id=agg.row.id, answers=_flood(agg), over_call=2.0)
    assert agg.row.status == IncidentStatus.staffed
    confirmed = [c.callout.id for c in uow.committed if isinstance(c, ch.Confirmed)]
    staffed = [c for c in uow.committed if isinstance(c, ch.StoodDown) and c.reason == "staffed"]
    assert len(confirmed) == 2 and len(set(confirmed)) == 2  # the duplicate confirms nobody
    assert len(staffed) == 1
    stood = {c.id for c in staffed[0].callouts}
    # The n+1th accepts came after the stand-down: they change nothing more.
    assert {c.id for c in agg.callouts.values() if c.state == S.stood_down} == stood
    assert stood.isdisjoint(confirmed)
    called = [c for c in uow.committed if isinstance(c, ch.Called)]
    assert len(called) == 1  # the decline's replacement, called before the quorum came


async def test_a_redelivered_batch_on_the_settled_aggregate_changes_nothing() -> None:
    _, agg = _twins(4, need=2)
    uow = FakeUnitOfWork(agg)
    answers = _flood(agg)
    await handlers.replies(uow, incident_id=agg.row.id, answers=answers, over_call=2.0)
    before, uow.committed = (agg.row, dict(agg.callouts)), []
    await handlers.replies(uow, incident_id=agg.row.id, answers=answers, over_call=2.0)
    assert uow.committed == []
    assert (agg.row, agg.callouts) == before


async def test_unknown_incident_and_callouts_are_returned_untouched() -> None:
    _, agg = _twins(2, need=1)
    uow = FakeUnitOfWork(agg)
    stray = handlers.Reply(uuid.uuid4(), "accept", T0)
    known = handlers.Reply(next(iter(agg.callouts)), "accept", T0)
    none, all_back = await handlers.replies(uow, incident_id=uuid.uuid4(), answers=[known],
                                            over_call=2.0)
    assert none is None and all_back == [known] and uow.committed == []
    _, unknown = await handlers.replies(uow, incident_id=agg.row.id, answers=[stray, known],
                                        over_call=2.0)
    assert unknown == [stray] and agg.row.status == IncidentStatus.staffed


def test_coverage_from_the_aggregate_counts_the_committed_and_outstanding() -> None:
    _, agg = _twins(3, need=2)
    first = next(iter(agg.callouts))
    agg.apply_reply(callout_id=first, action="accept", at=T0, now=T0)
    got = covers(agg)[str(agg.row.id)]
    assert got == coverage(agg.row.need, [agg.callouts[first].profile],
                           [c.profile for c in agg.callouts.values() if c.id != first])
    advisory = Incident.of(row(kind="advisory", status=IncidentStatus.issued), [])
    assert covers(advisory) == {str(advisory.row.id): None}


async def test_a_batch_of_statuses_commits_the_same_records_as_one_by_one() -> None:
    single, batched = _twins(4, need=2)
    people = [candidate(900)]
    alone, together = FakeUnitOfWork(single, people), FakeUnitOfWork(batched, people)
    first, second, *_ = single.callouts
    stray = uuid.uuid4()
    statuses = [Status(first, "failed", "alert", 30003, T0),
                *(Status(c, "delivered", "alert", None, T0) for c in single.callouts),
                Status(second, "sent", "alert", None, T0),  # late: moves nothing
                Status(stray, "delivered", "alert", None, T0)]
    for s in statuses:
        await handlers.delivery(alone, incident_id=single.row.id, callout_id=s.callout_id,
                                status=s.status, message=s.message, error=s.error, at=s.at,
                                over_call=2.0)
    unknown = await handlers.deliveries(together, incident_id=batched.row.id,
                                        statuses=statuses, over_call=2.0)
    assert unknown == [stray]
    assert together.committed == alone.committed
    assert any(isinstance(c, ch.Called) for c in together.committed)  # the failure's slot
    assert batched.callouts == single.callouts and batched.row == single.row
    assert await handlers.deliveries(together, incident_id=uuid.uuid4(), statuses=statuses[:1],
                                     over_call=2.0) == [first]
