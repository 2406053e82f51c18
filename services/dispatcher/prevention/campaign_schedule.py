"""When a campaign's runs fall, and until when a message may still be sent. No I/O.

Recurring runs are wall-clock times in the schedule's zone (Asia/Shanghai by default): "every
Monday 09:30" stays 09:30 local.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from baiying_dispatcher.prevention.campaign_model import ScheduleIn


def first_run(s: ScheduleIn, *, now: datetime) -> datetime:
    """The first due time: now, the set time, or the next weekly/monthly slot at or after now."""
    if s.kind == "now":
        return now
    if s.kind == "at":
        assert s.at is not None  # campaign_model.check
        return s.at
    return _slot_at_or_after(s, now)


def next_run(s: ScheduleIn, *, after: datetime) -> datetime | None:
    """The next due time strictly after `after`; None for a one-off."""
    if s.kind in ("now", "at"):
        return None
    return _slot_at_or_after(s, after + timedelta(microseconds=1))


def _slot_at_or_after(s: ScheduleIn, t: datetime) -> datetime:
    assert s.time is not None
    local = t.astimezone(s.zone)
    if s.kind == "weekly":
        assert s.weekday is not None
        day = local.date() + timedelta(days=(s.weekday - 1 - local.weekday()) % 7)
        slot = datetime.combine(day, s.time, tzinfo=s.zone)
        return slot if slot >= t else slot + timedelta(days=7)
    assert s.day is not None
    slot = datetime.combine(local.date().replace(day=s.day), s.time, tzinfo=s.zone)
    if slot < t:
        slot = datetime.combine(_next_month(local.date()).replace(day=s.day), s.time,
                                tzinfo=s.zone)
    return slot


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def not_after(
    *, start: datetime, ttl: timedelta, quiet_start: time | None, quiet_end: time | None,
    zone_now: datetime,
) -> datetime:
    """Campaign expiry, or the recipient's next quiet-hours start if sooner.

    `zone_now` is `start` in the dispatch zone; the recipient is not in quiet hours now.
    """
    end = start + ttl
    if quiet_start is None or quiet_end is None or quiet_start == quiet_end:
        return end
    begins = datetime.combine(zone_now.date(), quiet_start, tzinfo=zone_now.tzinfo)
    if begins <= zone_now:
        begins += timedelta(days=1)
    return min(end, begins)

