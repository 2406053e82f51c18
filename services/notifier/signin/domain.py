"""Sign-in codes and their limits, as pure values (no I/O; the clock is passed in).

Why it looks like this:
- a code is stored only as HMAC-SHA256(pepper, phone + code): a database dump does not give away
  live codes, and 10^6 codes cannot be brute-forced offline without the pepper;
- a code allows `max_attempts` wrong guesses, then it is dead; a new one replaces the old;
- requests are limited per phone and per client address in a sliding window, so nobody can
  spray SMS at a number or walk through numbers from one address;
- the answer to "send me a code" never depends on whether the phone is a volunteer's
  (callers see `START_ANSWER` either way); only a known phone gets an SMS.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace

CODE_DIGITS = 6
START_ANSWER = "如果该号码已登记为志愿者，验证码短信将在一分钟内送达。"


@dataclass(frozen=True)
class Limits:
    """How long a code lives and how often one may be asked for."""

    code_ttl_s: float = 300.0
    max_attempts: int = 5
    window_s: float = 3600.0
    per_phone: int = 5  # codes per phone per window
    per_address: int = 20  # code requests per client address per window
    min_gap_s: float = 60.0  # between two codes to the same phone


@dataclass(frozen=True)
class PendingCode:
    """A code sent to a phone, as stored."""

    phone: str
    digest: str
    issued_at: float
    attempts: int = 0

    def expired(self, now: float, limits: Limits) -> bool:
        return now - self.issued_at > limits.code_ttl_s

    def exhausted(self, limits: Limits) -> bool:
        return self.attempts >= limits.max_attempts


def new_code() -> str:
    """Six random digits from the OS's CSPRNG."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def digest(pepper: bytes, phone: str, code: str) -> str:
    return hmac.new(pepper, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def issue(pepper: bytes, phone: str, now: float) -> tuple[str, PendingCode]:
    """A fresh code and what to store for it."""
    code = new_code()
    return code, PendingCode(phone=phone, digest=digest(pepper, phone, code), issued_at=now)


def may_send(
    *,
    phone_sends: Sequence[float],
    address_requests: Sequence[float],
    now: float,
    limits: Limits,
) -> str | None:
    """None if a code may be sent now; otherwise which limit stops it (for logs, not callers)."""
    recent_phone = [t for t in phone_sends if now - t < limits.window_s]
    recent_address = [t for t in address_requests if now - t < limits.window_s]
    if len(recent_address) >= limits.per_address:
        return "address"
    if len(recent_phone) >= limits.per_phone:
        return "phone"
    if recent_phone and now - max(recent_phone) < limits.min_gap_s:
        return "gap"
    return None


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str  # "ok", "wrong", "expired", "exhausted", "none" (same text to the caller)
    pending: PendingCode | None  # what to store back (None: delete)


def check(
    pepper: bytes, pending: PendingCode | None, *, code: str, now: float, limits: Limits
) -> Verdict:
    """Judge one guess; a success or a dead code removes it, a miss counts an attempt."""
    if pending is None:
        return Verdict(False, "none", None)
    if pending.expired(now, limits):
        return Verdict(False, "expired", None)
    if pending.exhausted(limits):
        return Verdict(False, "exhausted", None)
    if hmac.compare_digest(pending.digest, digest(pepper, pending.phone, code)):
        return Verdict(True, "ok", None)
    tried = replace(pending, attempts=pending.attempts + 1)
    if tried.exhausted(limits):
        return Verdict(False, "exhausted", None)
    return Verdict(False, "wrong", tried)


def sms_text(code: str, language: str, limits: Limits) -> str:
    """The code's SMS in the volunteer's language (a warning against passing it on included)."""
    minutes = max(1, round(limits.code_ttl_s / 60))
    if language.startswith("en"):
        return (
            f"[Baiying] Your sign-in code is {code}, valid for {minutes} minutes."
            " Police will never ask you for it."
        )
    return (
        f"【一呼百应】您的登录验证码为{code}，{minutes}分钟内有效。"
        "警方不会向您索要验证码，请勿告知他人。"
    )
