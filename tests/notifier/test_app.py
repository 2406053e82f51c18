"""The volunteer app end to end: page, WebSocket alerts, answers as app replies."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from baiying_notifier.config import NotifierSettings
from baiying_shared.auth import mint_token
from baiying_shared.events.callouts import CalloutConfirmed, CalloutIssued, CalloutStoodDown
from baiying_shared.events.deliveries import DeliveryStatusChanged
from baiying_shared.events.replies import VolunteerReplied
from tests.notifier.harness import issued, system
from tests.support import eventually

Factory = Callable[..., NotifierSettings]


def addressed(alert: CalloutIssued) -> dict[str, Any]:
    """The addressing fields a follow-up to `alert` repeats (same call-out, same person)."""
    return alert.model_dump(include={"callout_id", "incident_id", "volunteer_id", "phone",
                                     "channels"})


async def next_of(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next message of `kind` (others, e.g. snapshots, are skipped)."""
    while True:
        msg = json.loads(await ws.recv())
        if msg["type"] == kind:
            return msg  # type: ignore[no-any-return]


async def test_app_alert_accept_confirm_arrive(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        vid = uuid.uuid4()
        token = mint_token(s.settings, sub="v1", role="volunteer", volunteer_id=vid)
        ws_url = s.notifier_url.replace("http", "ws") + f"/v1/app/ws?access_token={token}"
        async with connect(ws_url, open_timeout=10) as ws:
            assert (await next_of(ws, "snapshot"))["alerts"] == []
            alert = issued(phone="+8613600000001", volunteer_id=vid, channels=("sms", "app"))
            await s.dispatcher.publish(alert)
            card = await next_of(ws, "alert")
            assert card["callout_id"] == str(alert.callout_id) and card["title"] == alert.title
            assert "address" not in json.dumps(card), "no exact address before accepting"
            await ws.send(json.dumps({"type": "ack", "callout_id": card["callout_id"]}))
            await ws.send(
                json.dumps({"type": "reply", "callout_id": card["callout_id"], "action": "accept"})
            )
            assert (await next_of(ws, "reply_ok"))["action"] == "accept"
            await s.dispatcher.publish(
                CalloutConfirmed(
                    **addressed(alert),
                    title=alert.title,
                    address="章贡区文清路88号",
                    lat=25.85,
                    lon=114.93,
                    contact="王警官 0797-1234567",
                )
            )
            confirmed = await next_of(ws, "confirmed")
            assert confirmed["address"] == "章贡区文清路88号"
            await ws.send(
                json.dumps({"type": "reply", "callout_id": card["callout_id"], "action": "arrived"})
            )
            await next_of(ws, "reply_ok")
        async with connect(ws_url, open_timeout=10) as again:  # a reload shows the address
            [snap] = (await next_of(again, "snapshot"))["alerts"]
            assert snap["confirmed"]["address"] == "章贡区文清路88号"
            assert snap["answer"] == "arrived", "the latest answer is kept on the app view"
            await s.dispatcher.publish(
                CalloutStoodDown(
                    **addressed(alert),
                    reason="closed",
                    title=alert.title,
                )
            )
            assert (await next_of(again, "stood_down"))["reason"] == "closed"

        async def replied() -> bool:
            return [(r.action, r.channel) for r in s.tap.of(VolunteerReplied)] == [
                ("accept", "app"),
                ("arrived", "app"),
            ]

        await eventually(replied, what="app replies published")
        await eventually(
            lambda: _now(s.tap.of(DeliveryStatusChanged, channel="app", status="delivered")),
            what="app delivered",
        )
        sms = s.received(alert.phone)  # both channels: the SMS side got alert + address + thanks
        await eventually(lambda: _now(len(s.received(alert.phone)) == 3), what="three SMS")
        assert "章贡区文清路88号" in s.received(alert.phone)[1] and "章贡区文清路88号" not in sms[0]


async def test_app_refuses_bad_tokens_and_foreign_callouts(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        base = s.notifier_url.replace("http", "ws") + "/v1/app/ws?access_token="
        for token in ("garbage", mint_token(s.settings, sub="d", role="duty_desk")):
            with pytest.raises(InvalidStatus) as refused:  # closed before accept: HTTP 403
                async with connect(base + token, open_timeout=10) as ws:
                    await ws.recv()
            assert refused.value.response.status_code == 403
        mine, theirs = uuid.uuid4(), issued(phone="+8613600000002", channels=("app",))
        await s.dispatcher.publish(theirs)
        token = mint_token(s.settings, sub="v2", role="volunteer", volunteer_id=mine)
        async with httpx.AsyncClient(base_url=s.notifier_url) as http:
            await eventually(lambda: _rows(s, theirs.callout_id), what="call-out recorded")
            r = await http.post(
                "/v1/app/replies",
                headers={"Authorization": f"Bearer {token}"},
                json={"callout_id": str(theirs.callout_id), "action": "accept"},
            )
            assert r.status_code == 409
            page = await http.get("/app")
            assert page.status_code == 200 and "WebSocket" in page.text
            assert not re.search(r"""(src|href)=["']https?://""", page.text), "no CDN"
        assert s.tap.of(VolunteerReplied) == []


async def _rows(s: Any, callout_id: uuid.UUID) -> bool:
    return bool(
        await s.pool.fetchval("SELECT count(*) FROM callouts WHERE callout_id = $1", callout_id)
    )


async def _now(value: Any) -> Any:
    return value
