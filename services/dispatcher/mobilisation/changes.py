"""Change records: what a command did to an incident, for the unit of work to persist.

Every record carries enough for its row write, its outbox event and its stream notice, so
none of the three can be written without the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from baiying_dispatcher.candidates import Candidate
from baiying_dispatcher.domain import CalloutState
from baiying_dispatcher.repo import Callout

StandDownReason = Literal["staffed", "cancelled", "closed", "expired", "held"]


@dataclass(frozen=True)
class IncidentUpdated:
    """Incident columns changed; the stream gets an incident notice."""

    fields: Mapping[str, Any]


@dataclass(frozen=True)
class CalloutsMoved:
    """Call-outs entered `state`; the stream gets one call-out notice each."""

    callouts: tuple[Callout, ...]
    state: CalloutState
    at: datetime


@dataclass(frozen=True)
class DeliveryRecorded:
    """The alert's delivery status moved forward (no state change, no notice)."""

    callout: Callout
    status: str
    error: int | None


@dataclass(frozen=True)
class Confirmed:
    """An acceptance: the volunteer gets the exact address and whom to call."""

    callout: Callout


@dataclass(frozen=True)
class StoodDown:
    """These volunteers are told they are no longer needed."""

    callouts: tuple[Callout, ...]
    reason: StandDownReason


@dataclass(frozen=True)
class Held:
    """An acceptance refused: the volunteer is committed to the live incident `held_by`
    (its title); they are told so, and this incident calls someone else."""

    callout: Callout
    held_by: str


@dataclass(frozen=True)
class Called:
    """New people called in `round_no`, nearest first: rows, alerts and notices."""

    picks: tuple[Candidate, ...]
    round_no: int
    first_rank: int
    expires_at: datetime | None


@dataclass(frozen=True)
class Raised:
    """The incident is new: the stream gets its first incident notice."""


@dataclass(frozen=True)
class Advised:
    """A prevention notice's audience: rows and alerts, no quorum, no per-person notices."""

    picks: tuple[Candidate, ...]


Change = (IncidentUpdated | CalloutsMoved | DeliveryRecorded | Confirmed | StoodDown | Called
          | Raised | Advised | Held)
