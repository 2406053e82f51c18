"""Reachability of a channel as a state, and how contact events and admins move it. No I/O.

ok -> opted_out (the volunteer's STOP/退订), carrier_blocked (21610 and other carrier refusals),
invalid (the number cannot take SMS), unreachable (FAILURES_MAX transient failures in a row).
START/UNSTOP (and YES from an opted-out phone) clear an opt-out and a 21610 block, because 21610
is the carrier's record of that same opt-out; other blocks only an admin clears, with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

State = Literal["ok", "opted_out", "carrier_blocked", "invalid", "unreachable"]
STATES: tuple[State, ...] = ("ok", "opted_out", "carrier_blocked", "invalid", "unreachable")
CARRIER_OPT_OUT = 21610
BLOCK_CODES = frozenset({21610, 21408, 21612, 30004})
INVALID_CODES = frozenset({21211, 21614, 30005, 30006})
FAILURES_MAX = 3  # 30003 (handset off, out of coverage) this many times running: unreachable


@dataclass(frozen=True)
class Reach:
    """One channel's state and what put it there."""

    state: State = "ok"
    set_by: str | None = None
    keyword: str | None = None
    error_code: int | None = None
    failures: int = 0
    since: datetime | None = None


def on_keyword(cur: Reach, *, opted_out: bool, keyword: str, at: datetime) -> Reach:
    """A word from the phone (or the notifier's record of a 21610, keyword '21610')."""
    if opted_out:
        by = "carrier" if keyword == str(CARRIER_OPT_OUT) else "volunteer"
        if by == "carrier" and cur.state == "opted_out":
            return cur  # the carrier confirms what the volunteer said
        return Reach("opted_out", by, keyword, cur.error_code, cur.failures, at)
    clears = cur.state in ("opted_out", "unreachable") or (
        cur.state == "carrier_blocked" and cur.error_code == CARRIER_OPT_OUT
    )
    # A phone that texts us is reachable: its failures no longer count.
    return Reach("ok", "volunteer", keyword, None, 0, at) if clears else cur


def on_flag(cur: Reach, *, code: int, at: datetime, failures_max: int = FAILURES_MAX) -> Reach:
    """The gateway refused or could not deliver to the number."""
    if code in BLOCK_CODES:
        if cur.state == "opted_out":
            return replace(cur, error_code=code)  # START will clear both at once
        return Reach("carrier_blocked", "carrier", None, code, cur.failures, at)
    if code in INVALID_CODES:
        return Reach("invalid", "carrier", None, code, cur.failures, at)
    failures = cur.failures + 1
    if cur.state == "ok" and failures >= failures_max:
        return Reach("unreachable", "carrier", None, code, failures, at)
    return replace(cur, failures=failures, error_code=code if cur.state == "ok" else cur.error_code)


def cleared(*, actor: str, at: datetime) -> Reach:
    """An admin's clear: back to ok, failures forgotten."""
    return Reach("ok", actor, None, None, 0, at)


def snapshot_flags(reach: Reach) -> tuple[bool, str | None]:
    """(sms_opt_out, phone_flag) as volunteer.snapshot v1 carries them to the dispatcher.

    The dispatcher calls by SMS only when both say so; the flag names the code first.
    """
    if reach.state == "ok":
        return False, None
    if reach.state == "opted_out":
        return True, None
    return False, f"{reach.error_code or 0}: {reach.state}"
