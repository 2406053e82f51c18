"""The Incident aggregate: an incident and its call-outs, changed only by these methods.

No I/O here. Each command mutates the in-memory copy and returns the change records it made;
`needs_people` tells the handler to run selection and then call `replenish`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from baiying_dispatcher.candidates import Candidate
from baiying_dispatcher.domain import (
    COMMITTED,
    LIVE,
    OUTSTANDING,
    STAND_DOWN_ON_END,
    STAND_DOWN_ON_STAFFED,
    CalloutState,
    IncidentStatus,
    Need,
    Want,
    after_delivery,
    after_reply,
    delivery_is_newer,
    is_covered,
    wants,
)
from baiying_dispatcher.mobilisation.changes import (
    Advised,
    Called,
    CalloutsMoved,
    Change,
    Confirmed,
    DeliveryRecorded,
    Held,
    IncidentUpdated,
    Raised,
    StandDownReason,
    StoodDown,
)
from baiying_dispatcher.repo import Callout
from baiying_dispatcher.repo import Incident as IncidentRow

_REPLY_STAND_DOWN: dict[IncidentStatus, StandDownReason] = {
    IncidentStatus.staffed: "staffed", IncidentStatus.cancelled: "cancelled",
    IncidentStatus.closed: "closed",
}


@dataclass
class Incident:
    """One incident and all its call-outs, as loaded under the incident's row lock."""

    row: IncidentRow
    callouts: dict[uuid.UUID, Callout]
    changes: list[Change] = field(default_factory=list)
    needs_people: bool = False

    @classmethod
    def of(cls, row: IncidentRow, callouts: Iterable[Callout]) -> Incident:
        return cls(row, {c.id: c for c in callouts})

    # --- commands -----------------------------------------------------------------------

    def open(self) -> list[Change]:
        """Just raised: announce it; a call-out then needs its first people."""
        self.changes.append(Raised())
        self.needs_people = self.row.kind == "callout"
        return self.changes[-1:]

    def advise(self, audience: Sequence[Candidate], *, now: datetime) -> list[Change]:
        """An advisory goes to its whole audience at once, in one round, nearest first."""
        start = len(self.changes)
        self.changes.append(Advised(tuple(audience)))
        self._update(first_callout_at=now)
        return self.changes[start:]

    def draw_on(self, districts: Iterable[str], *, now: datetime) -> list[Change]:
        """More districts may send people (an approved request for help); re-judge."""
        start, drawn = len(self.changes), self.row.draw_districts
        wider = tuple(dict.fromkeys([*drawn, *districts]))
        if wider != drawn:
            self._update(draw_districts=wider)
            if self.row.kind == "callout":
                self._evaluate(now)
        return self.changes[start:]

    def apply_delivery(
        self, *, callout_id: uuid.UUID, status: str, message: str, error: int | None,
        at: datetime, now: datetime,
    ) -> list[Change]:
        """Record delivery progress; a failed alert frees the slot like a decline."""
        start, callout = len(self.changes), self.callouts.get(callout_id)
        if callout is None:
            return []
        if message == "alert" and delivery_is_newer(callout.delivery_status, status):
            callout = replace(callout, delivery_status=status)
            self.callouts[callout.id] = callout
            self.changes.append(DeliveryRecorded(callout, status, error))
        new = after_delivery(callout.state, status, message=message)
        if new is not None:
            self._move([callout], new, at)
            if new == CalloutState.failed and self.row.kind == "callout":
                self._evaluate(now)
        return self.changes[start:]

    def apply_reply(
        self, *, callout_id: uuid.UUID, action: str, at: datetime, now: datetime,
        held_by: str | None = None,
    ) -> list[Change]:
        """Move the call-out, confirm or stand down the volunteer, then re-judge the incident.

        `held_by` names the live incident the volunteer is committed to, if any: then an
        acceptance is refused (declined, they are told why) and someone else is called.
        """
        start, callout = len(self.changes), self.callouts.get(callout_id)
        if callout is None or self.row.kind != "callout":
            return []  # advisories expect no answer
        new = after_reply(callout.state, action, incident=self.row.status)
        if new is None:
            return []
        at = max(at, callout.created_at)  # a skewed phone clock must not make negative latencies
        if held_by is not None and new in COMMITTED and callout.state not in COMMITTED:
            (moved,) = self._move([callout], CalloutState.declined, at)
            self.changes.append(Held(moved, held_by))
            self._evaluate(now)
            return self.changes[start:]
        (moved,) = self._move([callout], new, at)
        if new == CalloutState.accepted:
            self.changes.append(Confirmed(moved))
        elif new == CalloutState.stood_down:
            reason = _REPLY_STAND_DOWN.get(self.row.status, "expired")
            self.changes.append(StoodDown((moved,), reason))
        if new in COMMITTED and self.row.first_accept_at is None:
            self._update(first_accept_at=at)
        self._evaluate(now)
        return self.changes[start:]

    def advance_round(
        self, *, expected_round: int, now: datetime, max_radius_m: int
    ) -> list[Change]:
        """The wait is over: silence becomes no_answer, then widen and call again, or give up.

        Guarded by `expected_round`, so a stale or duplicate tick changes nothing.
        """
        row, start = self.row, len(self.changes)
        if (row.status != IncidentStatus.mobilising or row.round != expected_round
                or (row.next_round_at is not None and row.next_round_at > now)):
            return []
        self._move(self._in(OUTSTANDING), CalloutState.no_answer, now)
        if row.policy.has_round_after(row.round):
            new_round = row.round + 1
            self._update(
                round=new_round,
                radius_m=row.policy.radius(row.base_radius_m, new_round, cap_m=max_radius_m),
                next_round_at=now + timedelta(seconds=row.policy.wait_s),
            )
            self.needs_people = True
        else:
            self._update(status=IncidentStatus.unmet, unmet_at=now, next_round_at=None)
        return self.changes[start:]

    def end(self, *, status: IncidentStatus, now: datetime) -> list[Change]:
        """Cancel or close: everyone still called or on the way is stood down."""
        start = len(self.changes)
        self._update(status=status, ended_at=now, next_round_at=None)
        self.needs_people = False
        if self.row.kind == "callout":
            reason: StandDownReason = (
                "cancelled" if status == IncidentStatus.cancelled else "closed"
            )
            self._stand_down(STAND_DOWN_ON_END, reason, now)
        return self.changes[start:]

    def remobilise(
        self, *, now: datetime, call: bool, silence: bool = False, **fields: Any
    ) -> list[Change]:
        """A desk's step: back to mobilising with a fresh wait, `fields` changed (round,
        radius_m, need); `silence` first makes the outstanding no_answer (another round).

        A round beyond the policy's last is allowed by hand; the timer gives up after it.
        """
        start, row = len(self.changes), self.row
        if silence:
            self._move(self._in(OUTSTANDING), CalloutState.no_answer, now)
        policy = replace(row.policy, rounds=max(row.policy.rounds, fields.get("round", row.round)))
        self._update(**{"status": IncidentStatus.mobilising, "unmet_at": None, "policy": policy,
                        "next_round_at": now + timedelta(seconds=policy.wait_s), **fields})
        if call and self.row.kind == "callout":
            self._evaluate(now)
        return self.changes[start:]

    def change_need(self, need: Need, *, now: datetime) -> list[Change]:
        """A staffed call's need changed: it reopens if now short."""
        start = len(self.changes)
        self._update(need=need)
        self._evaluate(now)
        return self.changes[start:]

    def extend(self, until: datetime) -> list[Change]:
        """Wait for answers until `until`."""
        start = len(self.changes)
        self._update(next_round_at=until)
        return self.changes[start:]

    def evaluate(self, *, now: datetime) -> list[Change]:
        """Re-judge after a change made elsewhere: staffed if covered, else ask for people."""
        start = len(self.changes)
        if self.row.kind == "callout":
            self._evaluate(now)
        return self.changes[start:]

    def replenish(
        self, picks: Sequence[Candidate], *, expires_at: datetime | None, now: datetime
    ) -> list[Change]:
        """Call the people selection found for `wants()`, nearest first."""
        self.needs_people = False
        if not picks:
            return []
        start = len(self.changes)
        first_rank = max((c.rank for c in self.callouts.values()), default=0) + 1
        ordered = tuple(sorted(picks, key=lambda c: c.distance_m))
        self.changes.append(Called(ordered, self.row.round, first_rank, expires_at))
        if self.row.first_callout_at is None:  # nobody was in reach until a later round
            self._update(first_callout_at=now)
        return self.changes[start:]

    # --- queries ------------------------------------------------------------------------

    def wants(
        self, *, over_call: float, picked: Sequence[Candidate] = (),
        exhausted: frozenset[str] = frozenset(),
    ) -> list[Want]:
        """Who else to call, given people already picked in this selection pass."""
        accepted = [c.profile for c in self.callouts.values() if c.state in COMMITTED]
        in_flight = [c.profile for c in self.callouts.values() if c.state in OUTSTANDING]
        in_flight += [p.profile for p in picked]
        found: list[Want] = wants(self.row.need, accepted, in_flight, over_call=over_call,
                                  exhausted=exhausted)
        return found

    @property
    def covered(self) -> bool:
        accepted = [c.profile for c in self.callouts.values() if c.state in COMMITTED]
        covered: bool = is_covered(self.row.need, accepted)
        return covered

    # --- internals ----------------------------------------------------------------------

    def _evaluate(self, now: datetime) -> None:
        """After any change: staffed if the need is covered, else ask for replacements."""
        if self.row.status not in LIVE:
            return
        covered = self.covered
        if self.row.status == IncidentStatus.staffed:
            if covered:
                return
            # A responder withdrew from a staffed incident: mobilise again, with a fresh wait.
            self._update(status=IncidentStatus.mobilising, staffed_at=None,
                         next_round_at=now + timedelta(seconds=self.row.policy.wait_s))
        if covered:
            self._update(status=IncidentStatus.staffed, staffed_at=now, next_round_at=None)
            self._stand_down(STAND_DOWN_ON_STAFFED, "staffed", now)
            self.needs_people = False
        elif self.row.status == IncidentStatus.mobilising:
            self.needs_people = True

    def _in(self, states: frozenset[CalloutState]) -> list[Callout]:
        return [c for c in self.callouts.values() if c.state in states]

    def _stand_down(
        self, states: frozenset[CalloutState], reason: StandDownReason, now: datetime
    ) -> None:
        chosen = self._in(states)
        if chosen:
            moved = self._move(chosen, CalloutState.stood_down, now)
            self.changes.append(StoodDown(tuple(moved), reason))

    def _move(
        self, callouts: Sequence[Callout], state: CalloutState, at: datetime
    ) -> list[Callout]:
        moved = [replace(c, state=state) for c in callouts]
        if not moved:
            return []
        self.callouts.update({c.id: c for c in moved})
        self.changes.append(CalloutsMoved(tuple(moved), state, at))
        return moved

    def _update(self, **fields: Any) -> None:
        self.row = replace(self.row, **fields)
        self.changes.append(IncidentUpdated(fields))
