"""Pure dispatch logic: the call-out state machine, quorum arithmetic, rounds. No I/O here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum

from baiying_dispatcher import coverage as cov
from baiying_shared.events.deliveries import FAILED_STATUSES, is_ahead


class CalloutState(StrEnum):
    pending = "pending"
    sent = "sent"
    delivered = "delivered"
    accepted = "accepted"
    declined = "declined"
    no_answer = "no_answer"
    failed = "failed"  # the alert could not be delivered: frees the slot like a decline
    stood_down = "stood_down"
    arrived = "arrived"


class IncidentStatus(StrEnum):
    mobilising = "mobilising"
    staffed = "staffed"
    unmet = "unmet"
    issued = "issued"  # an advisory: sent to everyone, no reply expected
    cancelled = "cancelled"
    closed = "closed"


OUTSTANDING = frozenset({CalloutState.pending, CalloutState.sent, CalloutState.delivered})
COMMITTED = frozenset({CalloutState.accepted, CalloutState.arrived})
# States whose holders get a stand-down message when the incident no longer needs them.
STAND_DOWN_ON_STAFFED = OUTSTANDING | {CalloutState.no_answer}
STAND_DOWN_ON_END = STAND_DOWN_ON_STAFFED | {CalloutState.accepted}
LIVE = frozenset({IncidentStatus.mobilising, IncidentStatus.staffed, IncidentStatus.unmet})
# Incidents that still take new acceptances (an unmet one is still short of people).
ACCEPTING = frozenset({IncidentStatus.mobilising, IncidentStatus.unmet})
ENDED = frozenset({IncidentStatus.cancelled, IncidentStatus.closed})

_PROGRESS = {CalloutState.pending: 0, CalloutState.sent: 1, CalloutState.delivered: 2}


def after_delivery(state: CalloutState, status: str, *, message: str) -> CalloutState | None:
    """The call-out's new state after a delivery status, or None if it does not move.

    Only the alert's own delivery moves the state, and only forward: a late "sent"
    after "delivered", or a "delivered" after an answer, changes nothing.
    """
    if message != "alert" or state not in OUTSTANDING:
        return None
    if status in FAILED_STATUSES:
        return CalloutState.failed
    target = {"sent": CalloutState.sent, "delivered": CalloutState.delivered}.get(status)
    if target is None or _PROGRESS[target] <= _PROGRESS[state]:
        return None
    return target


def delivery_is_newer(current: str | None, status: str) -> bool:
    """True if `status` ranks above the recorded delivery status (STATUS_RANK order)."""
    return is_ahead(status, current)


def after_reply(
    state: CalloutState, action: str, *, incident: IncidentStatus
) -> CalloutState | None:
    """The call-out's new state after a volunteer's reply, or None if it does not move.

    A late "yes" is still welcome while the incident is short of people; once it is
    staffed or over, the volunteer is stood down instead of being sent to the scene.
    A "no" after a "yes" withdraws the acceptance while the incident is live.
    """
    if state in (CalloutState.stood_down, CalloutState.arrived):
        return None
    if action == "accept":
        if state == CalloutState.accepted:
            return None
        return CalloutState.accepted if incident in ACCEPTING else CalloutState.stood_down
    if action == "decline":
        if state in OUTSTANDING | {CalloutState.no_answer}:
            return CalloutState.declined
        # Someone who accepted and now cannot come withdraws: their slot must be refilled.
        if state == CalloutState.accepted and incident in LIVE:
            return CalloutState.declined
        return None
    if action == "arrived":
        if state == CalloutState.accepted or incident in ACCEPTING:
            return CalloutState.arrived
        return None
    return None


@dataclass(frozen=True)
class Profile:
    """What counts toward a need: the person's team type and skills."""

    team_type: str
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Component:
    """One requirement: a team type, a skill, or (both None) anybody."""

    team_type: str | None = None
    skill: str | None = None

    def matches(self, p: Profile) -> bool:
        if self.team_type is not None and p.team_type != self.team_type:
            return False
        return self.skill is None or self.skill in p.skills

    @property
    def key(self) -> str:
        return f"team:{self.team_type}" if self.team_type else (
            f"skill:{self.skill}" if self.skill else "any"
        )


@dataclass(frozen=True)
class Need:
    """What an incident needs: a total and/or a mix by team type and by skill."""

    total: int = 0
    teams: Mapping[str, int] = field(default_factory=dict)
    skills: Mapping[str, int] = field(default_factory=dict)

    @property
    def headcount(self) -> int:
        """People asked for: one person fills one slot (see coverage.py)."""
        return cov.headcount(self)

    def components(self) -> list[tuple[Component, int]]:
        """Requirements, scarcest first: skills, then team types, then "any" up to the total."""
        return [(Component(s.team_type, s.skill), n) for s, n in cov.slots(self)]


def shortfall(need: Need, accepted: Iterable[Profile]) -> dict[str, int]:
    """How many more of each component are still needed (only the positive ones)."""
    return cov.coverage(need, accepted).missing


def is_covered(need: Need, accepted: Iterable[Profile]) -> bool:
    """True when the accepted responders fill every slot of the need, one slot each."""
    return cov.coverage(need, accepted).complete


@dataclass(frozen=True)
class Want:
    component: Component
    count: int


def wants(
    need: Need,
    accepted: Iterable[Profile],
    in_flight: Iterable[Profile],
    *,
    over_call: float,
    exhausted: frozenset[str] = frozenset(),
) -> list[Want]:
    """Who else to call: for each short component, enough to keep missing × over_call in flight.

    The caller picks people for the first want, adds them to `in_flight` and asks again;
    a person in flight counts once, against the component that needs them most.
    """
    asked = cov.to_call(need, accepted, in_flight, over_call=over_call)
    return [Want(Component(s.team_type, s.skill), n) for s, n in asked
            if s.key not in exhausted]


@dataclass(frozen=True)
class Policy:
    """Escalation: how many rounds, how much wider each one, and how long each waits."""

    rounds: int
    widening: float
    wait_s: float

    def radius(self, base_m: int, round_no: int, *, cap_m: int) -> int:
        """Radius of round `round_no` (1-based): the base widened once per later round."""
        return min(cap_m, round(base_m * self.widening ** (round_no - 1)))

    def has_round_after(self, round_no: int) -> bool:
        return round_no < self.rounds


def in_quiet_hours(start: time | None, end: time | None, local: time) -> bool:
    """True if `local` falls in [start, end), a window that may cross midnight."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def reachable_channels(
    channels: Iterable[str], *, sms_opt_out: bool, phone_flag: str | None
) -> tuple[str, ...]:
    """The channels an alert may use: SMS goes if opted out or the number is flagged bad."""
    sms_ok = not sms_opt_out and phone_flag is None
    return tuple(c for c in channels if c != "sms" or sms_ok)


def acceptance_rate(called: int, accepted: int) -> float | None:
    return None if called == 0 else round(accepted / called, 4)


POINT_DECIMALS = 3  # ~100 m of latitude: where a volunteer lives stays private


def rounded_point(lat: float, lon: float) -> dict[str, float]:
    """A volunteer's point as it may leave the dispatcher for all but the incident's desk."""
    return {"lat": round(lat, POINT_DECIMALS), "lon": round(lon, POINT_DECIMALS)}
