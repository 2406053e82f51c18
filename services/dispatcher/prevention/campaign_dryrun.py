"""A dry run's figures: segments per message with the link appended, carrier time. No I/O.

Counted on the very text the notifier will send: its own pure template and segment code
(baiying_shared.sms.templates, which shortens free text to its budget) with a link of
the real length, so a dry run and the SMS bill agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from baiying_shared.sms.links import TOKEN_LENGTH, link
from baiying_shared.sms.templates import Language, render


@dataclass(frozen=True)
class Estimate:
    segments_per_message: int  # the longest of the languages the audience reads
    total_segments: int
    carrier_seconds: float  # at every sender's segment rate together


def segments(lang: Language, title: str, advice: str, *, base_url: str) -> int:
    url = link(base_url, "x" * TOKEN_LENGTH)
    return render("campaign", lang, title=title, advice=advice, link=url).segments


def estimate(
    languages: Counter[str], *, text: Callable[[str], tuple[str, str]], base_url: str,
    senders: int, mps: float,
) -> Estimate:
    """Figures for recipients counted by language; `text(lang)` gives (title, advice)."""
    per = {lang: segments("en" if lang == "en" else "zh", *text(lang), base_url=base_url)
           for lang in languages or {"zh": 0}}
    total = sum(per[lang] * n for lang, n in languages.items())
    rate = max(senders, 1) * mps
    return Estimate(max(per.values()), total, round(total / rate, 1))
