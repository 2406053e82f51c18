"""The mobilisation aggregate and its handlers, with a fake unit of work: no database, no Kafka."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from baiying_dispatcher.candidates import Candidate
from baiying_dispatcher.clock import Clock
from baiying_dispatcher.domain import CalloutState as S
from baiying_dispatcher.domain import IncidentStatus, Need, Policy, Want
from baiying_dispatcher.mobilisation import changes as ch
from baiying_dispatcher.mobilisation import handlers
from baiying_dispatcher.mobilisation.aggregate import Incident
from baiying_dispatcher.repo import Callout
from baiying_dispatcher.repo import Incident as IncidentRow

T0 = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
CLOCK = Clock.at(T0 + timedelta(seconds=30), "Asia/Shanghai")


def row(*, need: int = 1, rounds: int = 2, status: IncidentStatus = IncidentStatus.mobilising,
        kind: str = "callout") -> IncidentRow:
    return IncidentRow(
        id=uuid.uuid4(), kind=kind, title="t", description="", category="theft", address="a",
        area="x", district="章贡区", lat=25.8, lon=114.9, base_radius_m=1000, radius_m=1000,
        need=Need(total=need), policy=Policy(rounds=rounds, widening=2.0, wait_s=60),
        advice=None, target_districts=None, status=status, round=1,
        next_round_at=T0 + timedelta(seconds=60), created_by="desk", created_at=T0,
        first_callout_at=T0, first_accept_at=None, staffed_at=None, unmet_at=None,
        ended_at=None, request_hash=None, draw_districts=("360702",),
    )


def callout(incident: IncidentRow, rank: int, state: S = S.pending) -> Callout:
    return Callout(
        id=uuid.uuid4(), incident_id=incident.id, volunteer_id=uuid.uuid4(), name=f"v{rank}",
        phone="+8613800000000", team_type="patrol", skills=(), district="章贡区",
        channels=("sms",), language="zh", lat=25.8, lon=114.9, distance_m=100 * rank, rank=rank,
        round=1, state=state, delivery_status=None, created_at=T0, accepted_at=None,
    )


def candidate(distance_m: int) -> Candidate:
    return Candidate(uuid.uuid4(), "n", "+8613800000001", "patrol", (), "章贡区", ("sms",), "zh",
                     25.8, 114.9, distance_m)


def aggregate(n: int = 2, **kw: object) -> Incident:
    r = row(**kw)  # type: ignore[arg-type]
    return Incident.of(r, [callout(r, i + 1) for i in range(n)])


def kinds(changes: Sequence[ch.Change]) -> list[type]:
    return [type(c) for c in changes]


class FakeUnitOfWork:
    """Holds aggregates in memory; `committed` is what a real commit would have written."""

    def __init__(self, agg: Incident, people: Sequence[Candidate] = (),
                 holders: dict[uuid.UUID, str] | None = None) -> None:
        self.clock = CLOCK
        self.agg, self.people = agg, list(people)
        self.holders = holders or {}  # volunteer -> title of the live incident holding them
        self.committed: list[ch.Change] = []
        self.asked: list[uuid.UUID] = []

    async def load(self, incident_id: uuid.UUID) -> Incident | None:
        return self.agg if incident_id == self.agg.row.id else None

    async def nearest(
        self, agg: Incident, *, want: Want, exclude: Sequence[uuid.UUID]
    ) -> list[Candidate]:
        called = {c.volunteer_id for c in agg.callouts.values()} | set(exclude)
        free = [p for p in self.people if p.volunteer_id not in called]
        return sorted(free, key=lambda p: p.distance_m)[: want.count]

    async def audience(self, agg: Incident, *, limit: int) -> list[Candidate]:
        return sorted(self.people, key=lambda p: p.distance_m)[:limit]

    async def holder(self, volunteer_id: uuid.UUID, *, incident_id: uuid.UUID) -> str | None:
        self.asked.append(volunteer_id)
        return self.holders.get(volunteer_id)

    async def commit(self, agg: Incident) -> None:
        self.committed += agg.changes
        agg.changes.clear()


def test_accept_that_covers_the_need_staffs_and_stands_down_the_rest() -> None:
    agg = aggregate(3, need=1)
    first, *rest = agg.callouts
    changes = agg.apply_reply(callout_id=first, action="accept", at=T0, now=CLOCK.now)
    assert kinds(changes) == [ch.CalloutsMoved, ch.Confirmed, ch.IncidentUpdated,
                              ch.IncidentUpdated, ch.CalloutsMoved, ch.StoodDown]
    assert agg.row.status == IncidentStatus.staffed and agg.row.first_accept_at == T0
    assert agg.callouts[first].state == S.accepted
    assert {agg.callouts[i].state for i in rest} == {S.stood_down}
    stood = changes[-1]
    assert isinstance(stood, ch.StoodDown) and stood.reason == "staffed"
    assert len(stood.callouts) == 2
    assert not agg.needs_people


def test_decline_asks_for_more_people_without_touching_the_incident() -> None:
    agg = aggregate(2, need=1)
    first = next(iter(agg.callouts))
    changes = agg.apply_reply(callout_id=first, action="decline", at=T0, now=CLOCK.now)
    assert kinds(changes) == [ch.CalloutsMoved] and agg.needs_people
    assert [w.count for w in agg.wants(over_call=2.0)] == [1]  # 1 missing x2, 1 in flight


def test_reply_clock_skew_never_predates_the_callout() -> None:
    agg = aggregate(1)
    cid = next(iter(agg.callouts))
    (moved, *_) = agg.apply_reply(callout_id=cid, action="decline", at=T0 - timedelta(hours=1),
                                  now=CLOCK.now)
    assert isinstance(moved, ch.CalloutsMoved) and moved.at == T0


def test_withdrawal_reopens_a_staffed_incident() -> None:
    agg = aggregate(1, need=1)
    cid = next(iter(agg.callouts))
    agg.apply_reply(callout_id=cid, action="accept", at=T0, now=CLOCK.now)
    changes = agg.apply_reply(callout_id=cid, action="decline", at=T0, now=CLOCK.now)
    assert agg.row.status == IncidentStatus.mobilising and agg.row.staffed_at is None
    assert agg.row.next_round_at == CLOCK.now + timedelta(seconds=60)
    assert kinds(changes) == [ch.CalloutsMoved, ch.IncidentUpdated] and agg.needs_people


def test_advisory_ignores_replies() -> None:
    agg = aggregate(1, kind="advisory", status=IncidentStatus.issued)
    assert agg.apply_reply(callout_id=next(iter(agg.callouts)), action="accept", at=T0,
                           now=CLOCK.now) == []


def test_delivery_moves_forward_only_and_failure_frees_the_slot() -> None:
    agg = aggregate(1)
    cid = next(iter(agg.callouts))
    sent = agg.apply_delivery(callout_id=cid, status="delivered", message="alert", error=None,
                              at=T0, now=CLOCK.now)
    assert kinds(sent) == [ch.DeliveryRecorded, ch.CalloutsMoved]
    assert agg.apply_delivery(callout_id=cid, status="sent", message="alert", error=None,
                              at=T0, now=CLOCK.now) == []
    agg = aggregate(1)
    cid = next(iter(agg.callouts))
    failed = agg.apply_delivery(callout_id=cid, status="failed", message="alert", error=30003,
                                at=T0, now=CLOCK.now)
    assert agg.callouts[cid].state == S.failed and agg.needs_people
    assert isinstance(failed[0], ch.DeliveryRecorded) and failed[0].error == 30003


def test_round_tick_is_guarded_against_stale_runs() -> None:
    agg = aggregate(2, rounds=2)
    late = CLOCK.now + timedelta(minutes=5)
    assert agg.advance_round(expected_round=2, now=late, max_radius_m=50_000) == []
    assert agg.advance_round(expected_round=1, now=T0, max_radius_m=50_000) == []  # not yet due
    changes = agg.advance_round(expected_round=1, now=late, max_radius_m=50_000)
    assert kinds(changes) == [ch.CalloutsMoved, ch.IncidentUpdated]
    assert agg.row.round == 2 and agg.row.radius_m == 2000 and agg.needs_people
    assert {c.state for c in agg.callouts.values()} == {S.no_answer}
    assert agg.advance_round(expected_round=1, now=late, max_radius_m=50_000) == []


def test_last_round_over_makes_the_incident_unmet() -> None:
    agg = aggregate(1, rounds=1)
    late = CLOCK.now + timedelta(minutes=5)
    agg.advance_round(expected_round=1, now=late, max_radius_m=50_000)
    assert agg.row.status == IncidentStatus.unmet and agg.row.unmet_at == late
    assert not agg.needs_people


def test_end_stands_down_the_accepted_and_the_called() -> None:
    r = row(need=2)
    agg = Incident.of(r, [callout(r, 1, S.accepted), callout(r, 2, S.declined),
                          callout(r, 3, S.sent)])
    changes = agg.end(status=IncidentStatus.cancelled, now=CLOCK.now)
    stood = [c for c in changes if isinstance(c, ch.StoodDown)]
    assert len(stood) == 1 and stood[0].reason == "cancelled"
    assert sorted(c.rank for c in stood[0].callouts) == [1, 3]
    assert agg.row.status == IncidentStatus.cancelled and agg.row.ended_at == CLOCK.now


def test_replenish_ranks_after_the_last_and_sorts_nearest_first() -> None:
    agg = aggregate(2)
    (called,) = agg.replenish([candidate(900), candidate(300)], expires_at=None, now=CLOCK.now)
    assert isinstance(called, ch.Called) and called.first_rank == 3
    assert [p.distance_m for p in called.picks] == [300, 900]
    assert agg.replenish([], expires_at=None, now=CLOCK.now) == []


def test_the_first_call_in_a_later_round_stamps_first_callout_at() -> None:
    agg = Incident.of(replace(row(), first_callout_at=None), [])
    changes = agg.replenish([candidate(100)], expires_at=None, now=CLOCK.now)
    assert kinds(changes) == [ch.Called, ch.IncidentUpdated]
    assert agg.row.first_callout_at == CLOCK.now


async def test_reply_handler_calls_replacements_and_commits_every_record() -> None:
    agg = aggregate(1, need=1)
    uow = FakeUnitOfWork(agg, people=[candidate(500), candidate(200), candidate(800)])
    cid = next(iter(agg.callouts))
    await handlers.reply(uow, incident_id=agg.row.id, callout_id=cid, action="decline", at=T0,
                         over_call=2.0)
    called = [c for c in uow.committed if isinstance(c, ch.Called)]
    assert len(called) == 1 and [p.distance_m for p in called[0].picks] == [200, 500]
    assert agg.changes == [] and not agg.needs_people


async def test_handlers_ignore_unknown_incidents_and_callouts() -> None:
    agg = aggregate(1)
    uow = FakeUnitOfWork(agg)
    assert await handlers.reply(uow, incident_id=uuid.uuid4(), callout_id=uuid.uuid4(),
                                action="accept", at=T0, over_call=2.0) is None
    assert await handlers.delivery(uow, incident_id=agg.row.id, callout_id=uuid.uuid4(),
                                   status="sent", message="alert", error=None, at=T0,
                                   over_call=2.0) is None
    assert uow.committed == []


async def test_round_handler_widens_and_calls_when_nobody_fits_it_stops() -> None:
    agg = aggregate(1, rounds=3)
    agg.row = replace(agg.row, next_round_at=T0)
    uow = FakeUnitOfWork(agg, people=[])
    done = await handlers.advance_round(uow, incident_id=agg.row.id, expected_round=1,
                                        max_radius_m=50_000, over_call=2.0)
    assert done is agg and agg.row.round == 2
    assert not any(isinstance(c, ch.Called) for c in uow.committed)  # exhausted: no one to call
    assert await handlers.advance_round(uow, incident_id=agg.row.id, expected_round=1,
                                        max_radius_m=50_000, over_call=2.0) is None


async def test_evaluate_reopens_when_the_need_grew_and_calls_more() -> None:
    r = replace(row(need=2, status=IncidentStatus.staffed), next_round_at=None)
    agg = Incident.of(r, [callout(r, 1, S.accepted)])
    uow = FakeUnitOfWork(agg, people=[candidate(700)])
    await handlers.evaluate(uow, incident_id=r.id, over_call=1.0)
    assert agg.row.status == IncidentStatus.mobilising
    called = [c for c in uow.committed if isinstance(c, ch.Called)]
    assert [p.distance_m for p in called[0].picks] == [700]


async def test_end_handler_commits_the_stand_downs() -> None:
    agg = aggregate(2)
    uow = FakeUnitOfWork(agg)
    await handlers.end(uow, incident_id=agg.row.id, status=IncidentStatus.closed)
    assert [c.reason for c in uow.committed if isinstance(c, ch.StoodDown)] == ["closed"]
    assert agg.evaluate(now=CLOCK.now) == []  # an ended incident is not re-judged


async def test_an_accept_while_held_elsewhere_is_declined_told_why_and_replaced() -> None:
    agg = aggregate(1, need=1)
    (cid,) = agg.callouts
    held = agg.callouts[cid].volunteer_id
    uow = FakeUnitOfWork(agg, people=[candidate(500)], holders={held: "老人走失"})
    done = await handlers.reply(uow, incident_id=agg.row.id, callout_id=cid, action="accept",
                                at=T0, over_call=1.0)
    assert done is agg and uow.asked == [held]
    assert agg.callouts[cid].state == S.declined and agg.row.first_accept_at is None
    told = [c for c in uow.committed if isinstance(c, ch.Held)]
    assert [(t.callout.id, t.held_by) for t in told] == [(cid, "老人走失")]
    assert not any(isinstance(c, ch.Confirmed) for c in uow.committed)
    (call,) = [c for c in uow.committed if isinstance(c, ch.Called)]
    assert [p.distance_m for p in call.picks] == [500]  # the next person is called instead


async def test_an_accept_when_free_is_checked_and_confirmed() -> None:
    agg = aggregate(1, need=1)
    (cid,) = agg.callouts
    uow = FakeUnitOfWork(agg)
    await handlers.reply(uow, incident_id=agg.row.id, callout_id=cid, action="accept", at=T0,
                         over_call=1.0)
    assert uow.asked == [agg.callouts[cid].volunteer_id]
    assert agg.callouts[cid].state == S.accepted
    assert any(isinstance(c, ch.Confirmed) for c in uow.committed)
    # A decline commits nobody: no check, no lock.
    other = aggregate(1, need=1)
    (oid,) = other.callouts
    quiet = FakeUnitOfWork(other)
    await handlers.reply(quiet, incident_id=other.row.id, callout_id=oid, action="decline",
                         at=T0, over_call=1.0)
    assert quiet.asked == []


async def test_opening_a_callout_calls_and_an_advisory_reaches_its_audience() -> None:
    callout_agg = aggregate(0, need=1)
    uow = FakeUnitOfWork(callout_agg, people=[candidate(300), candidate(100)])
    await handlers.open_incident(uow, incident_id=callout_agg.row.id, over_call=1.0,
                                 advisory_max=10)
    assert kinds(uow.committed) == [ch.Raised, ch.Called]
    advisory = aggregate(0, kind="advisory")
    people = [candidate(d) for d in (300, 100, 200)]
    uow = FakeUnitOfWork(advisory, people=people)
    await handlers.open_incident(uow, incident_id=advisory.row.id, over_call=1.0,
                                 advisory_max=2)
    assert kinds(uow.committed) == [ch.Raised, ch.Advised, ch.IncidentUpdated]
    (advised,) = [c for c in uow.committed if isinstance(c, ch.Advised)]
    assert [p.distance_m for p in advised.picks] == [100, 200]


def test_approved_help_widens_the_draw_and_asks_for_people_once() -> None:
    agg = aggregate(0, need=1)
    assert agg.row.draw_districts == ("360702",)
    changes = agg.draw_on(["360703", "360702"], now=CLOCK.now)
    assert agg.row.draw_districts == ("360702", "360703") and agg.needs_people
    assert kinds(changes) == [ch.IncidentUpdated]
    assert agg.draw_on(["360703"], now=CLOCK.now) == []  # already drawn on: nothing changes


def test_a_round_by_hand_silences_the_outstanding_and_may_pass_the_policy() -> None:
    agg = aggregate(2, need=1, rounds=1, status=IncidentStatus.unmet)
    changes = agg.remobilise(now=CLOCK.now, call=True, silence=True, round=2)
    assert {c.state for c in agg.callouts.values()} == {S.no_answer}
    assert agg.row.status == IncidentStatus.mobilising and agg.row.unmet_at is None
    assert agg.row.round == 2 and agg.row.policy.rounds == 2
    assert agg.row.next_round_at == CLOCK.now + timedelta(seconds=60)
    assert kinds(changes) == [ch.CalloutsMoved, ch.IncidentUpdated] and agg.needs_people


def test_extend_and_a_changed_need_go_through_change_records() -> None:
    agg = aggregate(1, need=1)
    until = CLOCK.now + timedelta(minutes=5)
    assert kinds(agg.extend(until)) == [ch.IncidentUpdated] and agg.row.next_round_at == until
    (cid,) = agg.callouts
    agg.apply_reply(callout_id=cid, action="accept", at=T0, now=CLOCK.now)
    assert agg.row.status == IncidentStatus.staffed
    agg.change_need(Need(total=2), now=CLOCK.now)  # a staffed call now short reopens
    assert agg.row.status == IncidentStatus.mobilising and agg.needs_people
