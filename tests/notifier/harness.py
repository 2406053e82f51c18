"""Test harness: a sandbox and a notifier over real HTTP, a dispatcher stand-in, an event tap."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI

from baiying_notifier.app import create_app as create_notifier
from baiying_notifier.config import NotifierSettings
from baiying_sandbox.app import create_app as create_sandbox
from baiying_sandbox.config import SandboxSettings
from baiying_sandbox.store import Store
from baiying_shared.events import callouts, campaigns, contacts, deliveries, replies
from baiying_shared.events.envelope import Envelope, Payload, decode, encode, wrap
from baiying_shared.kafka.admin import ensure_topics
from baiying_shared.kafka.producer import make_producer
from tests.support import eventually, free_port, serving

NOTIFY_TOPICS = (deliveries.TOPIC, replies.TOPIC, contacts.TOPIC, campaigns.REACH_TOPIC)
NOTIFIER_TABLES = (
    "deliveries, callouts, webhook_seen, opt_outs, outbox, processed_events,"
    " subscribers, campaign_messages, campaign_reach, campaign_cancels, volunteers"
)


@dataclass
class Tap:
    """Every event the notifier published on its three topics, decoded."""

    events: list[Envelope[Payload]] = field(default_factory=list)

    def of(self, kind: type[Payload], **match: Any) -> list[Any]:
        return [
            e.payload
            for e in self.events
            if isinstance(e.payload, kind)
            and all(getattr(e.payload, k) == v for k, v in match.items())
        ]


@asynccontextmanager
async def tapping(settings: NotifierSettings) -> AsyncIterator[Tap]:
    await ensure_topics(settings)
    tap = Tap()
    consumer = AIOKafkaConsumer(
        *(settings.topic(t) for t in NOTIFY_TOPICS),
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=f"tap-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()

    async def pump() -> None:
        async for record in consumer:
            if record.value is not None:
                tap.events.append(decode(record.value))

    task = asyncio.create_task(pump())
    try:
        yield tap
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()


class Dispatcher:
    """Stands in for the dispatcher: publishes call-out events with a real producer."""

    def __init__(self, settings: NotifierSettings, producer: AIOKafkaProducer) -> None:
        self._settings, self._producer = settings, producer

    async def publish(self, *payloads: callouts._Addressed) -> None:
        futures = [
            await self._producer.send(
                self._settings.topic(callouts.TOPIC),
                key=str(p.volunteer_id).encode(),
                value=encode(wrap(p, producer="dispatcher")),
            )
            for p in payloads
        ]
        await asyncio.gather(*futures)


def issued(
    *,
    phone: str,
    rank: int = 1,
    kind: str = "callout",
    channels: tuple[str, ...] = ("sms",),
    language: str = "zh",
    incident_id: uuid.UUID | None = None,
    volunteer_id: uuid.UUID | None = None,
    title: str = "走失老人寻找",
) -> callouts.CalloutIssued:
    return callouts.CalloutIssued(
        callout_id=uuid.uuid4(),
        incident_id=incident_id or uuid.uuid4(),
        volunteer_id=volunteer_id or uuid.uuid4(),
        phone=phone,
        channels=channels,  # type: ignore[arg-type]
        language=language,
        kind=kind,
        title=title,
        category="寻人",
        area="章贡区南门广场",  # type: ignore[arg-type]
        district="360702",
        distance_m=850 + rank,
        rank=rank,
        round=1,
        advice="陌生来电索要验证码一律挂断。" if kind == "advisory" else None,
    )


@dataclass
class System:
    settings: NotifierSettings
    notifier_url: str
    sandbox_url: str
    sandbox: Store
    notifier: FastAPI
    tap: Tap
    dispatcher: Dispatcher
    pool: asyncpg.Pool[Any]

    def received(self, phone: str) -> list[str]:
        return [m.body for m in self.sandbox.received(phone)]

    async def wait_received(self, phones: list[str], *, limit_s: float = 30) -> None:
        async def all_there() -> bool:
            return all(self.sandbox.by_to.get(p) for p in phones)

        await eventually(all_there, timeout=limit_s, what=f"{len(phones)} phones reached")


async def reset_schema(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        if await conn.fetchval("SELECT to_regclass('notifier.deliveries') IS NOT NULL"):
            await conn.execute(f"SET search_path TO notifier; TRUNCATE {NOTIFIER_TABLES}")
    finally:
        await conn.close()


@asynccontextmanager
async def system(
    settings_factory: Any, *, sandbox: SandboxSettings | None = None, **notifier_extra: Any
) -> AsyncIterator[System]:
    """Sandbox + notifier (+ tap and dispatcher stand-in), all on 127.0.0.1."""
    sandbox_app = create_sandbox(sandbox or SandboxSettings(mps=0, callback_delay_ms=5))
    port = free_port()
    async with serving(sandbox_app) as sandbox_url:
        settings: NotifierSettings = settings_factory(
            twilio_api_base_url=sandbox_url, public_url=f"http://127.0.0.1:{port}", **notifier_extra
        )
        await reset_schema(settings.database_url.get_secret_value())
        store: Store = sandbox_app.state.store
        store.behaviour = store.behaviour.model_copy(
            update={"inbound_url": f"http://127.0.0.1:{port}/v1/webhooks/twilio/inbound"}
        )
        app = create_notifier(settings)
        producer = make_producer(settings, client_id="test-dispatcher")
        await producer.start()
        try:
            async with tapping(settings) as tap, serving(app, port=port) as url:
                yield System(
                    settings,
                    url,
                    sandbox_url,
                    store,
                    app,
                    tap,
                    Dispatcher(settings, producer),
                    app.state.runtime.pool,
                )
        finally:
            await producer.stop()
