"""The pure dispatch rules, with plain values."""

from __future__ import annotations

from datetime import time

import pytest

from baiying_dispatcher.domain import (
    CalloutState as S,
)
from baiying_dispatcher.domain import (
    Component,
    IncidentStatus,
    Need,
    Policy,
    Profile,
    after_delivery,
    after_reply,
    delivery_is_newer,
    in_quiet_hours,
    is_covered,
    reachable_channels,
    shortfall,
    wants,
)

PATROL = Profile("patrol")
MEDIC_PATROL = Profile("patrol", frozenset({"first_aid"}))
INFO = Profile("information_officer")
MEDIC_GUARD = Profile("community_security", frozenset({"first_aid"}))
MIX = Need(teams={"patrol": 2, "information_officer": 1}, skills={"first_aid": 1})


def test_delivery_only_moves_forward() -> None:
    assert after_delivery(S.pending, "sent", message="alert") == S.sent
    assert after_delivery(S.sent, "delivered", message="alert") == S.delivered
    assert after_delivery(S.pending, "delivered", message="alert") == S.delivered
    assert after_delivery(S.delivered, "sent", message="alert") is None  # late "sent"
    assert after_delivery(S.accepted, "delivered", message="alert") is None  # after the answer
    assert after_delivery(S.sent, "queued", message="alert") is None
    assert after_delivery(S.delivered, "failed", message="alert") == S.failed
    assert after_delivery(S.accepted, "failed", message="alert") is None
    assert after_delivery(S.pending, "delivered", message="stand_down") is None


def test_delivery_status_rank() -> None:
    assert delivery_is_newer(None, "queued")
    assert delivery_is_newer("sent", "delivered")
    assert not delivery_is_newer("delivered", "sent")
    assert not delivery_is_newer("delivered", "delivered")


def test_replies_while_mobilising() -> None:
    live = IncidentStatus.mobilising
    assert after_reply(S.pending, "accept", incident=live) == S.accepted
    assert after_reply(S.delivered, "decline", incident=live) == S.declined
    assert after_reply(S.no_answer, "accept", incident=live) == S.accepted  # late yes welcome
    assert after_reply(S.accepted, "accept", incident=live) is None  # duplicate
    assert after_reply(S.accepted, "decline", incident=live) == S.declined  # withdrawal
    assert after_reply(S.accepted, "arrived", incident=live) == S.arrived
    assert after_reply(S.stood_down, "accept", incident=live) is None


def test_late_accept_after_staffed_is_stood_down() -> None:
    assert after_reply(S.delivered, "accept", incident=IncidentStatus.staffed) == S.stood_down
    assert after_reply(S.stood_down, "accept", incident=IncidentStatus.staffed) is None
    assert after_reply(S.pending, "arrived", incident=IncidentStatus.cancelled) is None
    assert after_reply(S.accepted, "arrived", incident=IncidentStatus.staffed) == S.arrived


def test_mix_quorum_needs_every_component() -> None:
    # One person fills one slot (coverage.py): 1 first aid + 2 patrol + 1 info = 4 people.
    assert MIX.headcount == 4
    assert not is_covered(MIX, [PATROL, PATROL, INFO, INFO])  # nobody with first aid
    assert not is_covered(MIX, [MEDIC_PATROL, PATROL, INFO])  # the medic counts once
    assert is_covered(MIX, [MEDIC_PATROL, PATROL, PATROL, INFO])
    assert is_covered(MIX, [MEDIC_GUARD, PATROL, PATROL, INFO])
    assert not is_covered(MIX, [MEDIC_GUARD, MEDIC_GUARD, PATROL, INFO])  # one patrol short
    assert shortfall(MIX, [PATROL, INFO]) == {"skill:first_aid": 1, "team:patrol": 1}
    assert not is_covered(Need(), [PATROL])


def test_total_need() -> None:
    need = Need(total=2)
    assert not is_covered(need, [INFO])
    assert is_covered(need, [INFO, MEDIC_GUARD])


def test_wants_over_call_and_shared_people() -> None:
    got = wants(MIX, [], [], over_call=2.0)
    assert got[0].component == Component(skill="first_aid") and got[0].count == 2
    # Two medics in flight who are patrol members count once each: toward first aid.
    got = wants(MIX, [], [MEDIC_PATROL, MEDIC_PATROL], over_call=2.0)
    assert [(w.component.key, w.count) for w in got] == [
        ("team:information_officer", 2), ("team:patrol", 4)
    ]
    full = [MEDIC_PATROL] * 2 + [PATROL] * 4 + [INFO] * 2
    assert wants(MIX, [], full, over_call=2.0) == []
    # A decline empties a slot: the call is topped up by exactly one.
    got = wants(Need(total=3), [], [PATROL] * 5, over_call=2.0)
    assert [(w.component.key, w.count) for w in got] == [("any", 1)]
    assert wants(Need(total=3), [], [], over_call=2.0, exhausted=frozenset({"any"})) == []


def test_policy_widens_and_stops() -> None:
    p = Policy(rounds=3, widening=2.0, wait_s=1)
    assert [p.radius(500, r, cap_m=10_000) for r in (1, 2, 3)] == [500, 1000, 2000]
    assert p.radius(500, 9, cap_m=10_000) == 10_000
    assert p.has_round_after(2) and not p.has_round_after(3)


@pytest.mark.parametrize(
    ("start", "end", "now", "quiet"),
    [
        (time(22), time(7), time(23, 30), True),
        (time(22), time(7), time(6, 59), True),
        (time(22), time(7), time(7), False),
        (time(22), time(7), time(12), False),
        (time(13), time(14), time(13, 30), True),
        (time(13), time(14), time(14, 1), False),
        (None, None, time(3), False),
    ],
)
def test_quiet_hours(start: time | None, end: time | None, now: time, quiet: bool) -> None:
    assert in_quiet_hours(start, end, now) is quiet


def test_reachable_channels() -> None:
    assert reachable_channels(["sms"], sms_opt_out=True, phone_flag=None) == ()
    assert reachable_channels(["sms", "app"], sms_opt_out=True, phone_flag=None) == ("app",)
    assert reachable_channels(["sms"], sms_opt_out=False, phone_flag="21211") == ()
    assert reachable_channels(["sms", "app"], sms_opt_out=False, phone_flag=None) == ("sms", "app")


def test_a_no_after_a_yes_withdraws_while_the_incident_is_live() -> None:
    for status in (IncidentStatus.mobilising, IncidentStatus.staffed, IncidentStatus.unmet):
        assert after_reply(S.accepted, "decline", incident=status) == (
            S.declined
        )
    for status in (IncidentStatus.cancelled, IncidentStatus.closed):
        assert after_reply(S.accepted, "decline", incident=status) is None
    assert after_reply(S.arrived, "decline", incident=IncidentStatus.staffed) is None
