"""Helpers for dispatcher tests: volunteers at known distances, a tap on the call-out topic."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from baiying_shared.events import callouts, deliveries, replies, volunteers
from baiying_shared.events.common import GeoPoint
from baiying_shared.events.deliveries import DeliveryStatusChanged
from baiying_shared.events.envelope import Envelope, Payload, decode, encode, wrap
from baiying_shared.events.replies import VolunteerReplied
from baiying_shared.events.volunteers import VolunteerSnapshot
from baiying_shared.settings import CommonSettings

_areas = itertools.count()


def fresh_area() -> GeoPoint:
    """A point ~30 km from any other test's, so tests sharing one index never meet."""
    n = next(_areas)
    return GeoPoint(lat=24.0 + 0.3 * (n % 20), lon=114.0 + 0.3 * (n // 20))


def offset(base: GeoPoint, *, east_m: float = 0.0, north_m: float = 0.0) -> GeoPoint:
    dlat = north_m / 111_320
    dlon = east_m / (111_320 * math.cos(math.radians(base.lat)))
    return GeoPoint(lat=base.lat + dlat, lon=base.lon + dlon)


_phones = itertools.count(10_000_000)


def volunteer(base: GeoPoint, east_m: float, **kw: Any) -> VolunteerSnapshot:
    """A callable volunteer `east_m` metres east of `base` (override any field)."""
    values: dict[str, Any] = {
        "volunteer_id": uuid.uuid4(), "revision": 1, "name": f"志愿者{east_m:.0f}",
        "phone": f"+86138{next(_phones):08d}", "team_id": uuid.uuid4(), "team_type": "patrol",
        "district": "360702", "home": offset(base, east_m=east_m),
        "updated_at": datetime.now(UTC),
    }
    values.update(kw)
    return VolunteerSnapshot(**values)


async def publish(
    producer: AIOKafkaProducer, settings: CommonSettings, topic: str, key: str, payload: Payload,
    *, envelope: Envelope[Any] | None = None,
) -> Envelope[Any]:
    """Publish as another service would (with a real producer); return the envelope."""
    env = envelope or wrap(payload, producer="test")
    await producer.send_and_wait(settings.topic(topic), value=encode(env), key=key.encode())
    return env


async def publish_volunteers(
    producer: AIOKafkaProducer, settings: CommonSettings, snaps: list[VolunteerSnapshot]
) -> None:
    for s in snaps:
        await publish(producer, settings, volunteers.TOPIC, str(s.volunteer_id), s)


async def deliver(
    producer: AIOKafkaProducer, settings: CommonSettings, issued: callouts.CalloutIssued,
    status: str, *, message: str = "alert",
) -> Envelope[Any]:
    event = DeliveryStatusChanged(
        callout_id=issued.callout_id, incident_id=issued.incident_id,
        volunteer_id=issued.volunteer_id, channel="sms", message=message,  # type: ignore[arg-type]
        status=status, at=datetime.now(UTC),  # type: ignore[arg-type]
    )
    return await publish(producer, settings, deliveries.TOPIC, str(issued.callout_id), event)


async def reply(
    producer: AIOKafkaProducer, settings: CommonSettings, issued: callouts.CalloutIssued,
    action: str,
) -> Envelope[Any]:
    event = VolunteerReplied(
        callout_id=issued.callout_id, incident_id=issued.incident_id,
        volunteer_id=issued.volunteer_id, action=action, channel="sms",  # type: ignore[arg-type]
        received_at=datetime.now(UTC),
    )
    return await publish(producer, settings, replies.TOPIC, str(issued.callout_id), event)


@dataclass
class CalloutTap:
    """Everything the dispatcher put on dispatch.callouts.v1 and .bulk.v1, as (key, envelope)."""

    settings: CommonSettings
    seen: list[tuple[str, Envelope[Any]]] = field(default_factory=list)
    _consumer: AIOKafkaConsumer | None = None
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            self.settings.topic(callouts.TOPIC), self.settings.topic(callouts.BULK_TOPIC),
            bootstrap_servers=self.settings.kafka_bootstrap,
            auto_offset_reset="earliest", enable_auto_commit=False, group_id=None,
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self._consumer is not None
        async for record in self._consumer:
            assert record.key is not None and record.value is not None
            self.seen.append((record.key.decode(), decode(record.value)))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer:
            await self._consumer.stop()

    def of(self, kind: type[Any], incident_id: uuid.UUID | str) -> list[Any]:
        """Payloads of one type for one incident, in arrival order."""
        return [
            e.payload for _, e in self.seen
            if isinstance(e.payload, kind) and str(e.payload.incident_id) == str(incident_id)
        ]

    def issued(self, incident_id: uuid.UUID | str) -> list[callouts.CalloutIssued]:
        return self.of(callouts.CalloutIssued, incident_id)
