"""Firing due campaign runs: exactly once across instances, through the outbox.

Each pass locks one due campaign (FOR UPDATE SKIP LOCKED, so several dispatcher instances
share the work without waiting on each other), records the run under a unique (campaign,
due time), writes one message row and one outbox event per recipient and moves the campaign
to its next due time — all in one transaction, so nothing is published before commit and a
crash leaves the run either whole or not started. A due time found more than
`campaign_stale_s` late (the service was down) is recorded as stale and sends nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from baiying_dispatcher.clock import Clock
from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.domain import in_quiet_hours
from baiying_dispatcher.prevention import campaign_audience, campaign_repo, campaign_schedule
from baiying_dispatcher.prevention.campaign_audience import Audience, Recipient
from baiying_dispatcher.prevention.campaign_repo import Campaign, Run
from baiying_shared.db import outbox
from baiying_shared.events import campaigns as events
from baiying_shared.events.envelope import Envelope, Payload, wrap
from baiying_shared.logging import get_logger

log = get_logger(__name__)
RUN_NS = uuid.UUID("0b7f2d4e-8c1a-4f3b-a6e5-2d9c7b1f4e80")


def run_id(campaign_id: uuid.UUID, due_at: datetime) -> uuid.UUID:
    """A run's id follows from its campaign and due time, so a repeat names the same run."""
    return uuid.uuid5(RUN_NS, f"{campaign_id}:{due_at.astimezone(UTC).isoformat()}")


async def fire_due(pool: asyncpg.Pool[Any], *, settings: DispatcherSettings,
                   now: datetime) -> int:
    """Fire every run due at `now`, one campaign per transaction; return how many.

    A campaign whose run fails is rolled back and left for the next pass, without holding up
    the campaigns due after it.
    """
    fired, failed = 0, set[uuid.UUID]()
    while True:
        async with pool.acquire() as conn:
            due: uuid.UUID | None = None
            try:
                async with conn.transaction():
                    row = await campaign_repo.lock_due(conn, now=now, skip=failed)
                    if row is None:
                        return fired
                    due = row["id"]
                    await _fire(conn, campaign_repo.parse(row), settings=settings, now=now)
                    fired += 1
            except (asyncpg.PostgresError, ValueError) as exc:  # ValidationError is one too
                if due is None:
                    raise
                failed.add(due)
                log.error("campaign run failed", campaign_id=str(due), error=str(exc))


async def _fire(conn: asyncpg.Connection[Any], c: Campaign, *, settings: DispatcherSettings,
                now: datetime) -> None:
    assert c.next_run_at is not None  # lock_due only returns due campaigns
    due = c.next_run_at
    rid = run_id(c.id, due)
    if (now - due).total_seconds() > settings.campaign_stale_s:
        await campaign_repo.add_run(conn, campaign_id=c.id, run=Run(
            rid, due, now, "stale", 0, 0, False))
        log.warning("stale campaign run skipped", campaign_id=str(c.id), due_at=due.isoformat())
    else:
        clock = Clock.at(now, settings.dispatch_timezone)
        audience = await campaign_audience.select(
            conn, audience=c.audience, districts=c.districts or None, clock=clock,
            limit=settings.dispatch_advisory_max)
        residents = c.audience.residents and not in_quiet_hours(
            settings.campaign_resident_quiet_start, settings.campaign_resident_quiet_end,
            clock.local)
        run = Run(rid, due, now, "sent", len(audience.recipients), audience.quiet_skipped,
                  residents)
        if await campaign_repo.add_run(conn, campaign_id=c.id, run=run):
            await _issue(conn, c, run=run, audience=audience, clock=clock, settings=settings)
    following = campaign_schedule.next_run(c.schedule, after=due)
    if following is not None and (now - following).total_seconds() > settings.campaign_stale_s:
        following = campaign_schedule.first_run(c.schedule, now=now)  # skip the missed at once
    await campaign_repo.advance(conn, c.id, next_run_at=following)


async def _issue(conn: asyncpg.Connection[Any], c: Campaign, *, run: Run, audience: Audience,
                 clock: Clock, settings: DispatcherSettings) -> None:
    ttl = timedelta(seconds=settings.campaign_message_ttl_s)
    local_now = clock.now.astimezone(ZoneInfo(settings.dispatch_timezone))
    messages = [_message(c, run.id, r, not_after=campaign_schedule.not_after(
        start=clock.now, ttl=ttl, quiet_start=r.quiet_start, quiet_end=r.quiet_end,
        zone_now=local_now)) for r in audience.recipients]
    await campaign_repo.add_messages(conn, [
        (m.message_id, run.id, c.id, m.volunteer_id, m.district, m.team_type, m.language)
        for m in messages])
    rows: list[tuple[str, str, Envelope[Any] | None]] = [
        (events.TOPIC, str(m.message_id), _env(m)) for m in messages]
    if run.residents:
        residents = events.CampaignResidentsRequested(
            campaign_id=c.id, run_id=run.id, case_id=c.case_id,
            districts=tuple(c.audience.districts), **c.texts,
            not_after=campaign_schedule.not_after(
                start=clock.now, ttl=ttl, quiet_start=settings.campaign_resident_quiet_start,
                quiet_end=settings.campaign_resident_quiet_end, zone_now=local_now))
        rows.append((events.TOPIC, str(run.id), _env(residents)))
    if rows:
        await outbox.add_many(conn, rows)
    log.info("campaign run issued", campaign_id=str(c.id), run_id=str(run.id),
             volunteers=len(messages), quiet_skipped=run.quiet_skipped)


def _message(c: Campaign, rid: uuid.UUID, r: Recipient, *,
             not_after: datetime) -> events.CampaignMessageIssued:
    language = "en" if r.language == "en" else "zh"
    title, advice = c.text(language)
    return events.CampaignMessageIssued(
        message_id=events.message_id(rid, r.volunteer_id), campaign_id=c.id, run_id=rid,
        case_id=c.case_id, volunteer_id=r.volunteer_id, phone=r.phone, language=language,
        district=r.district, team_type=r.team_type, title=title, advice=advice,
        not_after=not_after)


def _env(payload: Payload) -> Envelope[Any]:
    return wrap(payload, producer="dispatcher")


async def run_scheduler(pool: asyncpg.Pool[Any], *, settings: DispatcherSettings,
                        now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
    """Fire due runs every `campaign_tick_s`; errors are logged and the next tick retries."""
    while True:
        try:
            await fire_due(pool, settings=settings, now=now())
        except asyncio.CancelledError:
            raise
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("campaign tick failed", error=str(exc))
        await asyncio.sleep(settings.campaign_tick_s)
