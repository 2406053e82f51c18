"""Per-sender token buckets, retry backoff, and the order messages leave in."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]

# Lower sorts first: confirmations and stand-downs concern people already moving,
# then call-out alerts (nearest first), then advisories, which never block a call-out.
# Campaigns (以案说防) come last of all: behind advisories, never ahead of a call-out.
PRIORITY = {"confirmation": 0, "stand_down": 1, "alert": 2, "advisory": 3, "campaign": 4}
# Sign-in codes (someone waits at a screen) go in the alerts' class behind every call-out
# alert, whatever its rank, and so ahead of advisories: between the two, without renumbering.
PRIORITY_SIGNIN, RANK_SIGNIN = PRIORITY["alert"], 2**31 - 1
SIGNIN_MESSAGE = "signin"  # deliveries.message of a sign-in code: no call-out behind it


def is_bulk(priority: int) -> bool:
    """Advisories and campaigns: paced to the shorter bulk tolerance, behind every call-out."""
    return priority >= PRIORITY["advisory"]


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; time comes from `clock`."""

    def __init__(self, *, rate: float, burst: float = 1.0, clock: Clock) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens, self._stamp = burst, clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_time(self) -> float:
        """Seconds until a token is available (0 if one is now)."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate

    def try_take(self) -> bool:
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class SegmentPacer:
    """GCRA in segments: `rate` segments a second, at most `tolerance_s` ahead of schedule.

    The carrier sends a sender's queue at its segment rate, so a two-segment body costs two.
    A message may go while the virtual carrier queue (`_tat`, when it would empty) is at most
    `tolerance_s` ahead: a late wake-up of the event loop spends that slack instead of losing
    sending time, and the carrier never holds more than about `tolerance_s` of our segments.

    A message is timed when it is taken, but reaches the carrier only after its claim and
    request (`settle`: a few ms idle, a few hundred on a loaded box). That lead time —
    a moving average, at most half of `tolerance_s` — is allowed on top, so the latency does not eat
    the slack the carrier queue needs never to run dry, while what the carrier holds stays
    about `tolerance_s` (the messages on their way arrive as the lead runs out).
    """

    def __init__(self, *, rate: float, tolerance_s: float, clock: Clock) -> None:
        if rate <= 0 or tolerance_s < 0:
            raise ValueError("rate must be positive and tolerance_s not negative")
        self.rate, self.tolerance_s, self._clock = rate, tolerance_s, clock
        self._tat = clock()
        self._lead = 0.0  # seconds from take to the provider's answer (moving average)
        self._taken = 0  # segments taken so far, less refunds: a message's place in line

    def wait_time(self, segments: int = 1, *, tolerance_s: float | None = None) -> float:
        """Seconds until a message of `segments` may go (0: now); `tolerance_s` (at most the
        pacer's own) holds a class of messages to a shorter carrier queue than the others, its
        lead allowance likewise at most half of it."""
        del segments  # the cost is paid after the send: a long body is not starved
        slack = self.tolerance_s if tolerance_s is None else min(tolerance_s, self.tolerance_s)
        lead = min(self._lead, slack / 2)
        return max(0.0, self._tat - lead - slack - self._clock())

    def take(self, segments: int = 1) -> None:
        """Account for a message of `segments` sent now (on its way until `settle`)."""
        self._tat = max(self._tat, self._clock()) + segments / self.rate
        self._taken += segments

    def mark(self) -> int:
        """The place in this sender's line of the message just taken (for `requested`)."""
        return self._taken

    def requested(self, mark: int, segments: int = 1) -> None:
        """The message taken at `mark` is being requested only now (after its claim).

        Timed at its take, it cannot leave the carrier before it reaches it: if its claim
        took longer than our queue ahead of it, the carrier's queue ran dry and now runs that
        much behind our schedule, for the rest of a fan-out (open loop, each dry spell added
        to the carrier queue a call-out then finds: 0.33 s at a bulk tolerance of 0.2).
        So the virtual queue ends no earlier than now plus it and what was taken after it.
        Never moved down: this is a lower bound of the carrier's own schedule.
        """
        ahead = segments + max(self._taken - mark, 0)
        self._tat = max(self._tat, self._clock() + ahead / self.rate)

    def settle(self, taken_at: float) -> None:
        """The provider answered for a message taken at `taken_at` (this clock)."""
        lead = min(max(self._clock() - taken_at, 0.0), self.tolerance_s / 2)
        self._lead += 0.1 * (lead - self._lead)

    def refund(self, segments: int = 1) -> None:
        """Give back a take whose message did not go after all."""
        self._tat -= segments / self.rate
        self._taken -= segments

    def backlog_s(self) -> float:
        """How long the carrier would take to send what we have handed it and it still holds."""
        return max(0.0, self._tat - self._clock())


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_s: float = 0.5
    cap_s: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff for the `attempt`-th failure (1-based)."""
        return rng.uniform(0, min(self.cap_s, self.base_s * 2 ** (attempt - 1)))


# Error classification, outside the adapter: the policy is ours, not Twilio's.
# 21611: the sender's carrier queue is full (we outran it); it drains, so try again later.
RETRYABLE_CODES = frozenset({20429, 20500, 20503, 21611, 30001, 30036})
PERMANENT_CODES = frozenset({21211, 21408, 21610, 21612, 21614, 30003, 30004, 30005, 30006})
OPT_OUT_CODES = frozenset({21610})


def is_retryable(*, status: int | None, code: int | None) -> bool:
    """429 and 5xx are transient; a 4xx with a known permanent code is not."""
    if code in PERMANENT_CODES:
        return False
    return code in RETRYABLE_CODES or status == 429 or (status is not None and status >= 500)
