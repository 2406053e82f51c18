"""registry.volunteers.v1 on the real broker into the notifier's volunteers table: SMS sign-in
for a volunteer never called out; revision-guarded; tombstones and suspension end it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from baiying_notifier.config import NotifierSettings
from baiying_shared.events import volunteers
from baiying_shared.events.common import GeoPoint, TeamType
from baiying_shared.events.envelope import encode, wrap
from baiying_shared.kafka.producer import make_producer
from tests.notifier.harness import System, system
from tests.support import eventually

Factory = Callable[..., NotifierSettings]


def snapshot(vid: uuid.UUID, revision: int, phone: str, **extra: object) -> bytes:
    s = volunteers.VolunteerSnapshot(
        volunteer_id=vid, revision=revision, name="王芳", phone=phone, team_id=uuid.uuid4(),
        team_type=TeamType.building_watch, district="360702",
        home=GeoPoint(lat=25.82, lon=114.93), updated_at=datetime.now(UTC), **extra,
    )  # fmt: skip
    return encode(wrap(s, producer="registry"))


async def publish(s: System, vid: uuid.UUID, *values: bytes | None) -> None:
    """Records on the volunteer's key, in order (None: a tombstone)."""
    producer = make_producer(s.settings, client_id="test-registry")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(
                s.settings.topic(volunteers.TOPIC), key=str(vid).encode(), value=value
            )
    finally:
        await producer.stop()


async def row(s: System, vid: uuid.UUID) -> dict[str, object] | None:
    found = await s.pool.fetchrow("SELECT * FROM volunteers WHERE volunteer_id = $1", vid)
    return dict(found) if found else None


async def ask_code(s: System, phone: str) -> bool:
    """Ask for a sign-in code (same answer either way); whether one was sent to `phone`."""
    async with httpx.AsyncClient(base_url=s.notifier_url) as http:
        r = await http.post("/v1/app/signin/code", json={"phone": phone})
        assert r.status_code == 202
    return bool(await s.pool.fetchval(
        "SELECT sent FROM signin_requests WHERE phone = $1 ORDER BY id DESC LIMIT 1", phone))


async def test_a_volunteer_never_called_out_signs_in(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        vid, old, new = uuid.uuid4(), "+8613900040001", "+8613900040002"
        # Revision 2 (new phone), a stale revision 1 (old phone), then revision 3: one key, one
        # partition, in order — once 3 is in, 1 was seen and must have changed nothing.
        await publish(s, vid, snapshot(vid, 2, new), snapshot(vid, 1, old),
                      snapshot(vid, 3, new, language="en"))  # fmt: skip

        async def known() -> bool:
            return (await row(s, vid) or {}).get("revision") == 3

        await eventually(known, what="the snapshots applied")
        assert (await row(s, vid) or {})["phone"] == new, "the stale snapshot changed nothing"
        assert not await ask_code(s, old)
        assert await ask_code(s, new), "never called out, and still a code"
        await s.wait_received([new])
        assert re.search(r"\b\d{6}\b", s.received(new)[0]), s.received(new)[0]

        await publish(s, vid, snapshot(vid, 4, new, status="suspended"))

        async def suspended() -> bool:
            return (await row(s, vid) or {}).get("status") == "suspended"

        await eventually(suspended, what="the suspension applied")
        assert not await ask_code(s, new), "a suspended volunteer gets no code"


async def test_a_tombstone_removes_the_volunteer(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        vid, phone = uuid.uuid4(), "+8613900040003"
        await publish(s, vid, snapshot(vid, 1, phone))

        async def there() -> bool:
            return await row(s, vid) is not None

        await eventually(there, what="the snapshot applied")
        await publish(s, vid, None)

        async def gone() -> bool:
            return await row(s, vid) is None

        await eventually(gone, what="the tombstone applied")
        assert not await ask_code(s, phone)
