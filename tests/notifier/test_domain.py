"""Unit tests of the pure parts: segments, templates, keywords, token bucket, backoff, order."""

from __future__ import annotations

import random

import pytest

from baiying_notifier.domain import keywords
from baiying_notifier.domain.pacing import PRIORITY, RetryPolicy, TokenBucket, is_retryable
from baiying_shared.sms import segments, templates


def test_segment_counting_gsm7_and_ucs2() -> None:
    assert segments.count("a" * 160) == segments.SegmentInfo("GSM-7", 160, 1)
    assert segments.count("a" * 161).segments == 2
    assert segments.count("a" * 306).segments == 2 and segments.count("a" * 307).segments == 3
    assert segments.count("€" * 80) == segments.SegmentInfo("GSM-7", 160, 1)  # extension: 2 septets
    assert segments.count("好" * 70) == segments.SegmentInfo("UCS-2", 70, 1)
    assert segments.count("好" * 71).segments == 2
    assert segments.count("好" * 134).segments == 2 and segments.count("好" * 135).segments == 3
    assert segments.count("😀" * 35).units == 70  # surrogate pairs count twice


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_alert_fits_two_segments_even_with_long_text(lang: templates.Language) -> None:
    r = templates.render(
        "alert",
        lang,
        title="城区大型商场发生火情需要志愿者协助疏散群众" * 3,
        category="消防",
        area="章贡区红旗大道与文清路交叉口东南角商业综合体" * 2,
        distance=templates.distance(lang, 1234),
        code="K7Q2",
    )
    assert r.segments <= 2
    assert r.text.endswith("K7Q2") and (
        "回复1接受，2拒绝" in r.text or "Reply 1 to accept" in r.text
    )
    assert "1.2" in r.text


def test_english_alert_is_gsm7_when_text_is_ascii() -> None:
    r = templates.render(
        "alert",
        "en",
        title="Missing child",
        category="search",
        area="Nanmen Sq",
        distance=templates.distance("en", 640),
        code="K7Q2",
    )
    assert r.encoding == "GSM-7" and r.segments == 1 and "640 m" in r.text


def test_confirmation_and_stand_down_texts() -> None:
    c = templates.render(
        "confirmation",
        "zh",
        title="走失老人",
        address="文清路88号",
        contact="王警官 0797-1234567",
        code="K7Q2",
    )
    assert "文清路88号" in c.text and "王警官" in c.text and "回复3" in c.text
    d = templates.render(
        "stand_down", "zh", title="走失老人", reason=templates.phrase("zh", "staffed"), code="K7Q2"
    )
    assert "感谢" in d.text and "人员已满足" in d.text
    assert (
        "Thank you"
        in templates.render("stand_down", "en", title="x", reason="closed", code="A").text
    )


@pytest.mark.parametrize(
    ("text", "intent", "code"),
    [
        ("1", "accept", None),
        (" yes ", "accept", None),
        ("Ｙ", "accept", None),
        ("是", "accept", None),
        ("好", "accept", None),
        ("收到", "accept", None),
        ("2", "decline", None),
        ("No", "decline", None),
        ("否", "decline", None),
        ("不", "decline", None),
        ("3", "arrived", None),
        ("到", "arrived", None),
        ("到达", "arrived", None),
        ("STOP", "opt_out", None),
        ("退订", "opt_out", None),
        ("td", "opt_out", None),
        ("start", "opt_in", None),
        ("1 K7Q2", "accept", "K7Q2"),
        ("2 #k7q2", "decline", "K7Q2"),
        ("K7Q2 好", "accept", "K7Q2"),
        ("1K7Q2", "accept", "K7Q2"),
        ("hello", "help", None),
        ("", "help", None),
        ("1 2", "help", None),
        ("K7Q2", "help", None),
    ],
)
def test_keyword_parsing(text: str, intent: str, code: str | None) -> None:
    assert keywords.parse(text) == keywords.Reply(intent, code)  # type: ignore[arg-type]


def test_short_code_is_stable_and_in_alphabet() -> None:
    code = keywords.short_code("0192f0c2a1b24c3d8e9f00112233aabb")
    assert code == keywords.short_code("0192f0c2a1b24c3d8e9f00112233aabb") and len(code) == 4
    assert set(code) <= set(keywords.CODE_ALPHABET)
    assert keywords.parse(f"1 {code}").code == code


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_paces_at_rate_with_burst_one() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=1, clock=clock)
    assert bucket.try_take() and not bucket.try_take()
    assert bucket.wait_time() == pytest.approx(0.1)
    clock.now += 0.05
    assert not bucket.try_take() and bucket.wait_time() == pytest.approx(0.05)
    taken = 0
    for _ in range(1000):  # one simulated second in 1 ms steps
        clock.now += 0.001
        taken += bucket.try_take()
    assert taken == 10
    clock.now += 60  # idle time does not bank more than the burst
    assert bucket.try_take() and not bucket.try_take()


def test_backoff_is_jittered_and_capped() -> None:
    policy, rng = RetryPolicy(max_attempts=6, base_s=0.5, cap_s=4.0), random.Random(1)
    delays = [policy.delay(a, rng) for a in range(1, 30)]
    assert all(0 <= d <= 4.0 for d in delays) and len(set(delays)) == len(delays)
    assert max(policy.delay(1, rng) for _ in range(100)) <= 0.5


def test_error_classification() -> None:
    assert is_retryable(status=429, code=20429) and is_retryable(status=503, code=None)
    assert not is_retryable(status=400, code=21211) and not is_retryable(status=400, code=21610)
    assert not is_retryable(status=400, code=21614) and not is_retryable(status=400, code=21602)


def test_people_moving_go_first_and_advisories_last() -> None:
    # The queue sorts rows by (priority, rank): PRIORITY is the one home of the class order.
    kinds = ["advisory", "alert", "stand_down", "confirmation"]
    assert sorted(kinds, key=PRIORITY.__getitem__) == [
        "confirmation", "stand_down", "alert", "advisory"]


def test_category_codes_are_shown_in_the_volunteers_language() -> None:
    assert templates.category_label("zh", "theft") == "盗窃"
    assert templates.category_label("en", "missing_person") == "missing person"
    assert templates.category_label("zh", "井盖被盗") == "井盖被盗"  # free text stays as typed
