"""Revoking a volunteer closes the volunteer app's WebSocket on the real notifier and broker."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from baiying_notifier.config import NotifierSettings
from baiying_shared.auth import mint_token
from baiying_shared.events.envelope import encode, wrap
from baiying_shared.events.revocations import TOPIC, SessionRevoked
from baiying_shared.kafka.producer import make_producer
from tests.notifier.conftest import notifier_settings  # noqa: F401  (fixture)
from tests.notifier.harness import system


async def test_revocation_closes_the_app_socket_and_refuses_reconnects(
    notifier_settings: Callable[..., NotifierSettings],  # noqa: F811
) -> None:
    async with system(notifier_settings) as s:
        vid = uuid.uuid4()
        token = mint_token(s.settings, sub=f"volunteer-{vid}", role="volunteer", volunteer_id=vid)
        ws_url = s.notifier_url.replace("http", "ws") + f"/v1/app/ws?access_token={token}"
        producer = make_producer(s.settings, client_id="test-revoker")
        await producer.start()
        try:
            async with connect(ws_url, open_timeout=10) as ws:
                assert json.loads(await ws.recv())["type"] == "snapshot"
                started = time.monotonic()
                event = wrap(
                    SessionRevoked(
                        sub=f"volunteer-{vid}", session_id=None, at=datetime.now(UTC), by="admin"
                    ),
                    producer="test",
                )
                await producer.send_and_wait(
                    s.settings.topic(TOPIC), encode(event), key=str(vid).encode()
                )
                with pytest.raises(ConnectionClosed) as closed:
                    while True:  # snapshots may still arrive until the close
                        await ws.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
                assert time.monotonic() - started < 60
        finally:
            await producer.stop()
        with pytest.raises(InvalidStatus):  # a revoked token cannot open a new socket
            async with connect(ws_url, open_timeout=10):
                pass
