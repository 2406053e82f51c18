"""A notifier SIGKILLed in the middle of a 5,000-recipient call, then restarted: one SMS each."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from baiying_notifier.config import NotifierSettings
from baiying_sandbox.app import create_app as create_sandbox
from baiying_sandbox.config import SandboxSettings
from baiying_sandbox.store import Store
from baiying_shared.kafka.admin import ensure_topics
from baiying_shared.kafka.producer import make_producer
from tests.notifier.harness import Dispatcher, issued, reset_schema
from tests.support import eventually, free_port, serving

RECIPIENTS = 5000
KILL_AFTER = 1500


def _notifier(settings: NotifierSettings, port: int, kill_after: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BAIYING_DATABASE_URL": settings.database_url.get_secret_value(),
        "BAIYING_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "BAIYING_TOPIC_PREFIX": settings.topic_prefix,
        "BAIYING_KAFKA_MAX_PARTITIONS": "3",
        "BAIYING_TWILIO_API_BASE_URL": settings.twilio_api_base_url,
        "BAIYING_PUBLIC_URL": settings.public_url,
        "BAIYING_CLAIM_LEASE_S": str(settings.claim_lease_s),
        "BAIYING_TWILIO_TIMEOUT_S": str(settings.twilio_timeout_s),
        "BAIYING_RECONCILE_INTERVAL_S": "0.5",
        "BAIYING_SENDER_MPS": "100000",
        "BAIYING_LOG_LEVEL": "WARNING",
        "BAIYING_PROFILE": "test",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.notifier.notifier_proc", str(port), str(kill_after)], env=env
    )


async def _publish(settings: NotifierSettings) -> list[str]:
    producer: AIOKafkaProducer = make_producer(settings, client_id="test-dispatcher")
    await producer.start()
    try:
        phones = [f"+86135{i:08d}" for i in range(RECIPIENTS)]
        await Dispatcher(settings, producer).publish(
            *(issued(phone=p, rank=i) for i, p in enumerate(phones))
        )
        return phones
    finally:
        await producer.stop()


@pytest.mark.faults
async def test_sigkill_mid_call_leaves_exactly_one_sms_each(
    notifier_settings: Callable[..., NotifierSettings],
) -> None:
    sandbox_app = create_sandbox(SandboxSettings(mps=0, latency_ms=3, callback_statuses=()))
    store: Store = sandbox_app.state.store
    port = free_port()
    async with serving(sandbox_app) as sandbox_url:
        settings = notifier_settings(
            twilio_api_base_url=sandbox_url, public_url=f"http://127.0.0.1:{port}"
        )
        dsn = settings.database_url.get_secret_value()
        await reset_schema(dsn)
        await ensure_topics(settings)
        phones = await _publish(settings)

        first = _notifier(settings, port, KILL_AFTER)
        assert await asyncio.to_thread(first.wait, 120) == -signal.SIGKILL
        conn = await asyncpg.connect(dsn, server_settings={"search_path": "notifier"})
        try:
            open_claims = await conn.fetch(
                "SELECT phone FROM deliveries WHERE state = 'claimed' AND provider_sid IS NULL"
            )
            sent_but_unrecorded = [r["phone"] for r in open_claims if store.by_to.get(r["phone"])]
            assert sent_but_unrecorded, "the kill must leave messages sent but not recorded"
            print(
                f"at the kill: {len(store.messages)} sent, {len(open_claims)} open claims,"
                f" {len(sent_but_unrecorded)} sent but unrecorded"
            )
            assert len(store.messages) < RECIPIENTS, "killed mid-call"

            second = _notifier(settings, port, 0)
            try:

                async def finished() -> bool:
                    left = await conn.fetchval(
                        "SELECT count(*) FROM deliveries WHERE state IN ('pending', 'claimed')"
                    )
                    return left == 0 and len(store.by_to) == RECIPIENTS

                await eventually(finished, timeout=240, interval=0.5, what="every recipient served")
            finally:
                second.kill()
                second.wait(30)
            counts = {p: len(store.by_to.get(p, [])) for p in phones}
            assert sorted(set(counts.values())) == [1], {p: c for p, c in counts.items() if c != 1}
            assert len(store.messages) == RECIPIENTS
            recorded = await conn.fetch(
                "SELECT phone, provider_sid FROM deliveries WHERE phone = ANY($1::text[])",
                sent_but_unrecorded,
            )
            assert all(r["provider_sid"] == store.by_to[r["phone"]][0] for r in recorded), (
                "reconciliation adopted the provider's message instead of resending"
            )
        finally:
            await conn.close()
