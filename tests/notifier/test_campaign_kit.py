"""Shared pieces of the campaign tests (no tests here): a dispatcher stand-in for
prevention.campaigns.v1, SMS replies from sandbox phones, and reach read from the tap."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from baiying_shared.events import campaigns
from baiying_shared.events.envelope import Payload, encode, wrap
from baiying_shared.kafka.producer import make_producer
from tests.notifier.harness import System

LINK = re.compile(r"/c/([A-Za-z0-9_-]{22})")


def soon(minutes: float = 30) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


def volunteer_message(
    *, run_id: uuid.UUID, campaign_id: uuid.UUID, phone: str, language: str = "zh",
    volunteer_id: uuid.UUID | None = None, team_type: str = "info",
    not_after: datetime | None = None,
    title: str = "冒充客服退款诈骗", advice: str = "陌生来电要求转账一律挂断，拨打96110核实。",
) -> campaigns.CampaignMessageIssued:
    vid = volunteer_id or uuid.uuid4()
    return campaigns.CampaignMessageIssued(
        message_id=campaigns.message_id(run_id, vid), campaign_id=campaign_id, run_id=run_id,
        case_id=None, volunteer_id=vid, phone=phone, language=language,  # type: ignore[arg-type]
        district="360702", team_type=team_type, title=title, advice=advice,
        not_after=not_after or soon(),
    )  # fmt: skip


def residents_request(
    *, run_id: uuid.UUID, campaign_id: uuid.UUID, districts: tuple[str, ...] = ("360702",),
) -> campaigns.CampaignResidentsRequested:
    return campaigns.CampaignResidentsRequested(
        campaign_id=campaign_id, run_id=run_id, case_id=None, districts=districts,
        title_zh="冒充客服退款诈骗", advice_zh="陌生来电要求转账一律挂断。",
        title_en="Fake refund calls", advice_en="Hang up on any caller who asks for a transfer.",
        not_after=soon(),
    )  # fmt: skip


def key_of(p: Payload) -> str:
    if isinstance(p, campaigns.CampaignMessageIssued):
        return str(p.message_id)
    if isinstance(p, campaigns.CampaignCancelled):
        return str(p.campaign_id)
    assert isinstance(p, campaigns.CampaignResidentsRequested)
    return str(p.run_id)


async def publish(s: System, *payloads: Payload, copies: int = 1) -> None:
    """As the dispatcher would; `copies` > 1 re-publishes the same envelope (a redelivery)."""
    producer = make_producer(s.settings, client_id="test-campaigns")
    await producer.start()
    try:
        envs = [wrap(p, producer="dispatcher") for p in payloads]
        sends = [
            await producer.send(s.settings.topic(campaigns.TOPIC), key=key_of(e.payload).encode(),
                                value=encode(e))
            for _ in range(copies) for e in envs
        ]  # fmt: skip
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def reply(s: System, phone: str, body: str) -> list[str]:
    """A text from a sandbox phone to the service number; the notifier's TwiML answers."""
    async with httpx.AsyncClient(base_url=s.sandbox_url) as http:
        r = await http.post(f"/v1/phones/{phone}/reply", json={"body": body})
        r.raise_for_status()
        return r.json()["answers"]  # type: ignore[no-any-return]


def reach(s: System, **match: Any) -> list[campaigns.CampaignReachChanged]:
    return s.tap.of(campaigns.CampaignReachChanged, **match)  # type: ignore[no-any-return]


def reach_counts(s: System, campaign_id: uuid.UUID) -> Counter[str]:
    return Counter(e.status for e in reach(s, campaign_id=campaign_id))


def token_in(body: str) -> str:
    found = LINK.search(body)
    assert found, body
    return found.group(1)
