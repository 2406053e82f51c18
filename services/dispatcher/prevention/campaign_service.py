"""Campaign service functions the routes call: scope, texts, dry run, create, cancel."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from baiying_dispatcher.clock import Clock
from baiying_dispatcher.config import DispatcherSettings
from baiying_dispatcher.domain import in_quiet_hours
from baiying_dispatcher.prevention import (
    campaign_audience,
    campaign_dryrun,
    campaign_model,
    campaign_repo,
    campaign_schedule,
    cases,
)
from baiying_dispatcher.prevention.campaign_model import CampaignIn
from baiying_dispatcher.prevention.campaign_repo import Campaign
from baiying_shared.auth import Principal
from baiying_shared.db import outbox
from baiying_shared.deps import PgConn as Conn
from baiying_shared.errors import Conflict, InvalidField
from baiying_shared.events import campaigns as events
from baiying_shared.events.envelope import wrap


@dataclass(frozen=True)
class DryRun:
    volunteers: int
    residents_estimate: int | None  # residents are the notifier's: not counted here
    segments_per_message: int
    total_segments: int
    carrier_seconds: float
    first_send_at: datetime
    quiet_hours_skipped: int


def scope(principal: Principal, body: CampaignIn) -> list[str]:
    """The districts a campaign reaches: those named (each the caller's, else 403), or the
    caller's own; empty means every district, which only an all-district holder gets."""
    named = body.audience.districts
    for code in named:
        principal.ensure_district(code)
    return list(named) if named else principal.district_filter() or []


def check_resident_hours(body: CampaignIn, *, first: datetime,
                         settings: DispatcherSettings) -> None:
    """Residents are never messaged inside the residents' quiet window."""
    local = Clock.at(first, settings.dispatch_timezone).local
    start, end = settings.campaign_resident_quiet_start, settings.campaign_resident_quiet_end
    if body.audience.residents and in_quiet_hours(start, end, local):
        field = {"now": "schedule.kind", "at": "schedule.at"}.get(body.schedule.kind,
                                                                  "schedule.time")
        raise InvalidField(field, f"residents are not messaged between {start:%H:%M} and "
                                  f"{end:%H:%M}")


async def draft(conn: Conn, *, body: CampaignIn, principal: Principal, now: datetime,
                settings: DispatcherSettings) -> Campaign:
    """A checked, unsaved campaign: texts from the case (English falls back to Chinese)."""
    campaign_model.check(body, now=now)
    first = campaign_schedule.first_run(body.schedule, now=now)
    check_resident_hours(body, first=first, settings=settings)
    texts: dict[str, Any] = body.model_dump(include={"title_zh", "advice_zh", "title_en",
                                                     "advice_en"})
    if body.case_id is not None:
        case = await cases.get_case(conn, body.case_id, districts=principal.district_filter())
        texts = {k: texts[k] or case.texts.get(k) for k in texts}
    texts["title_en"] = texts["title_en"] or texts["title_zh"]
    texts["advice_en"] = texts["advice_en"] or texts["advice_zh"]
    return Campaign(
        id=uuid.uuid4(), name=body.name, case_id=body.case_id, texts=texts,
        audience=body.audience, schedule=body.schedule, districts=scope(principal, body),
        status="active", next_run_at=first,
        created_by=principal.sub, created_at=now)


async def dry_run(conn: Conn, c: Campaign, *, settings: DispatcherSettings) -> DryRun:
    """Who the first run would reach at its due time, and what it costs the carrier."""
    assert c.next_run_at is not None
    clock = Clock.at(c.next_run_at, settings.dispatch_timezone)
    audience = await campaign_audience.select(
        conn, audience=c.audience, districts=c.districts or None, clock=clock,
        limit=settings.dispatch_advisory_max)
    est = campaign_dryrun.estimate(
        audience.languages(), text=c.text, base_url=settings.public_base_url,
        senders=len(settings.sms_senders), mps=settings.sender_mps)
    return DryRun(len(audience.recipients), None, est.segments_per_message,
                  est.total_segments, est.carrier_seconds, c.next_run_at,
                  audience.quiet_skipped)


async def cancel(conn: Conn, campaign_id: uuid.UUID, *, principal: Principal) -> Campaign:
    """Stop future runs and recall issued SMS not yet with the carrier (through the outbox)."""
    c = await campaign_repo.get(conn, campaign_id, allowed=principal.district_filter())
    if c.status != "active":
        raise Conflict(f"campaign is {c.status}")
    await campaign_repo.cancel(conn, campaign_id)
    cancelled = events.CampaignCancelled(campaign_id=campaign_id, cancelled_at=datetime.now(UTC))
    await outbox.add(conn, topic=events.TOPIC, key=str(campaign_id),
                     envelope=wrap(cancelled, producer="dispatcher"))  # fmt: skip
    return await campaign_repo.get(conn, campaign_id, allowed=None)
