"""A dry run's figures: segments per message with the link appended, carrier time. No I/O.

The text is `campaigns.sms_text`, the same the notifier sends, with a link of the real
length; segments are counted by the notifier's own counter (GSM-7 or UCS-2, as billed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from baiying_notifier.domain.segments import count as count_segments
from baiying_shared.events.campaigns import LINK_PATH, TOKEN_CHARS, sms_text


@dataclass(frozen=True)
class Estimate:
    segments_per_message: int  # the longest of the languages the audience reads
    total_segments: int
    carrier_seconds: float  # at every sender's segment rate together


def segments(title: str, advice: str, *, base_url: str) -> int:
    link = base_url.rstrip("/") + LINK_PATH + "x" * TOKEN_CHARS
    return count_segments(sms_text(title, advice, link)).segments


def estimate(
    languages: Counter[str], *, text: Callable[[str], tuple[str, str]], base_url: str,
    senders: int, mps: float,
) -> Estimate:
    """Figures for recipients counted by language; `text(lang)` gives (title, advice)."""
    per = {lang: segments(*text(lang), base_url=base_url) for lang in languages or {"zh": 0}}
    total = sum(per[lang] * n for lang, n in languages.items())
    rate = max(senders, 1) * mps
    return Estimate(max(per.values()), total, round(total / rate, 1))
