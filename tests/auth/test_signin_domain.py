"""Sign-in codes as pure values: hashing, expiry, attempts, rate limits, wording."""

from __future__ import annotations

from baiying_notifier.signin.domain import (
    START_ANSWER,
    Limits,
    check,
    digest,
    issue,
    may_send,
    sms_text,
)

PEPPER = b"test-pepper-0123456789abcdef0123"
PHONE = "+8613900000001"
LIMITS = Limits(
    code_ttl_s=300, max_attempts=3, window_s=3600, per_phone=3, per_address=5, min_gap_s=60
)


def test_code_is_six_digits_and_stored_only_hashed() -> None:
    code, pending = issue(PEPPER, PHONE, now=1000.0)
    assert len(code) == 6 and code.isdigit()
    assert code not in pending.digest
    assert pending.digest == digest(PEPPER, PHONE, code)
    assert pending.digest != digest(b"another-pepper-0123456789abcdef", PHONE, code)
    assert pending.digest != digest(PEPPER, "+8613900000002", code)  # bound to the phone


def test_right_code_within_ttl_signs_in_once() -> None:
    code, pending = issue(PEPPER, PHONE, now=1000.0)
    verdict = check(PEPPER, pending, code=code, now=1299.0, limits=LIMITS)
    assert verdict.ok and verdict.pending is None  # used up: cannot be replayed


def test_expired_code_is_refused_even_if_right() -> None:
    code, pending = issue(PEPPER, PHONE, now=1000.0)
    verdict = check(PEPPER, pending, code=code, now=1301.0, limits=LIMITS)
    assert (verdict.ok, verdict.reason, verdict.pending) == (False, "expired", None)


def test_too_many_wrong_guesses_kill_the_code() -> None:
    code, pending = issue(PEPPER, PHONE, now=1000.0)
    wrong = "000000" if code != "000000" else "111111"
    first = check(PEPPER, pending, code=wrong, now=1001.0, limits=LIMITS)
    assert (first.reason, first.pending and first.pending.attempts) == ("wrong", 1)
    second = check(PEPPER, first.pending, code=wrong, now=1002.0, limits=LIMITS)
    third = check(PEPPER, second.pending, code=wrong, now=1003.0, limits=LIMITS)
    assert (third.reason, third.pending) == ("exhausted", None)
    assert not check(PEPPER, third.pending, code=code, now=1004.0, limits=LIMITS).ok


def test_rate_limits_per_phone_gap_and_address() -> None:
    now = 10_000.0
    assert may_send(phone_sends=[], address_requests=[], now=now, limits=LIMITS) is None
    assert may_send(phone_sends=[now - 30], address_requests=[], now=now, limits=LIMITS) == "gap"
    three = [now - 3000, now - 2000, now - 1000]
    assert may_send(phone_sends=three, address_requests=[], now=now, limits=LIMITS) == "phone"
    old = [now - 4000, now - 3900, now - 3800]  # outside the window: forgotten
    assert may_send(phone_sends=old, address_requests=[], now=now, limits=LIMITS) is None
    busy = [now - i for i in range(1, 6)]
    assert may_send(phone_sends=[], address_requests=busy, now=now, limits=LIMITS) == "address"


def test_sms_in_the_volunteers_language() -> None:
    assert "123456" in sms_text("123456", "zh", LIMITS) and "5分钟" in sms_text(
        "123456", "zh", LIMITS
    )
    assert sms_text("123456", "en", LIMITS).startswith("[Baiying] Your sign-in code is 123456")
    assert "志愿者" in START_ANSWER  # one answer whether or not the phone is known


def test_a_device_revocation_outlives_the_device_session() -> None:
    from baiying_notifier.signin.service import SESSION_TTL_S
    from baiying_shared.events.catalogue import TOPICS
    from baiying_shared.events.revocations import TOPIC
    from baiying_shared.oidc_revocations import RevocationList

    now = [1_000_000.0]
    revoked = RevocationList(clock=lambda: now[0])
    revoked.revoke(sub="volunteer:1", session_id="device-1", at=now[0])
    now[0] += SESSION_TTL_S  # the token's last valid second
    revoked.revoke(sub="someone-else", session_id=None, at=now[0])  # triggers forgetting
    assert revoked.is_revoked(sub="volunteer:1", session_id="device-1", issued_at=None)
    [spec] = [t for t in TOPICS if t.name == TOPIC]
    assert spec.retention_ms >= SESSION_TTL_S * 1000
