"""Inbound replies and status callbacks: signatures, replays, every keyword, STOP/START."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from twilio.request_validator import RequestValidator

from baiying_notifier.config import NotifierSettings
from baiying_shared.events.contacts import SmsOptChanged
from baiying_shared.events.deliveries import DeliveryStatusChanged
from baiying_shared.events.replies import VolunteerReplied
from tests.notifier.harness import System, issued, system
from tests.support import eventually

Factory = Callable[..., NotifierSettings]
INBOUND = "/v1/webhooks/twilio/inbound"

KEYWORDS = {
    "1": "accept",
    "Y": "accept",
    "yes": "accept",
    "YES": "accept",
    "是": "accept",
    "好": "accept",
    "收到": "accept",
    "2": "decline",
    "N": "decline",
    "no": "decline",
    "否": "decline",
    "不": "decline",
    "3": "arrived",
    "到": "arrived",
    "到达": "arrived",
}


async def reply(s: System, phone: str, body: str) -> list[str]:
    async with httpx.AsyncClient(base_url=s.sandbox_url) as http:
        r = await http.post(f"/v1/phones/{phone}/reply", json={"body": body})
        r.raise_for_status()
        return r.json()["answers"]  # type: ignore[no-any-return]


def signed(
    s: System,
    path: str,
    params: dict[str, str],
    *,
    token: str | None = None,
    url: str | None = None,
) -> dict[str, str]:
    secret = token or s.settings.twilio_auth_token.get_secret_value()
    return {
        "X-Twilio-Signature": RequestValidator(secret).compute_signature(
            url or s.settings.public_url + path, params
        )
    }


async def test_every_keyword_in_both_languages(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        alerts = {
            word: issued(phone=f"+86137000{i:05d}", language="en" if i % 2 else "zh")
            for i, word in enumerate(KEYWORDS)
        }
        await s.dispatcher.publish(*alerts.values())
        await s.wait_received([a.phone for a in alerts.values()])
        answers = await asyncio.gather(*(reply(s, a.phone, w) for w, a in alerts.items()))

        async def all_replied() -> bool:
            return len(s.tap.of(VolunteerReplied)) == len(KEYWORDS)

        await eventually(all_replied, what="a reply event per keyword")
        got = {r.callout_id: (r.action, r.channel) for r in s.tap.of(VolunteerReplied)}
        for (word, alert), answer in zip(alerts.items(), answers, strict=True):
            assert got[alert.callout_id] == (KEYWORDS[word], "sms"), word
            expect = {"zh": "已收到", "en": "Got it"}[alert.language]
            assert answer and answer[0].startswith(expect), (word, answer)


async def test_unknown_text_gets_help_and_no_event(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        zh, en = issued(phone="+8613700100001"), issued(phone="+8613700100002", language="en")
        await s.dispatcher.publish(zh, en)
        await s.wait_received([zh.phone, en.phone])
        assert "回复1接受" in (await reply(s, zh.phone, "我在开会"))[0]
        assert "Reply 1 accept" in (await reply(s, en.phone, "what is this?"))[0]
        assert "Reply 1 accept" in (await reply(s, en.phone, "1 2"))[0]  # ambiguous: help
        assert s.tap.of(VolunteerReplied) == []


async def test_newest_live_callout_unless_one_is_named(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        phone = "+8613700200001"
        older = issued(phone=phone, title="老人走失")
        await s.dispatcher.publish(older)
        await s.wait_received([phone])
        newer = issued(phone=phone, volunteer_id=older.volunteer_id, title="火情巡查")
        await s.dispatcher.publish(newer)
        await eventually(lambda: _now(len(s.received(phone)) == 2), what="second alert")
        code = s.received(phone)[0].rsplit("编号", 1)[1]
        await reply(s, phone, "1")
        await reply(s, phone, f"2 {code}")
        await eventually(lambda: _now(len(s.tap.of(VolunteerReplied)) == 2), what="two replies")
        by_id = {r.callout_id: r.action for r in s.tap.of(VolunteerReplied)}
        assert by_id == {newer.callout_id: "accept", older.callout_id: "decline"}


@pytest.mark.parametrize(("stop", "start"), [("STOP", "START"), ("退订", "START"), ("TD", "start")])
async def test_stop_and_start_reach_the_contacts_topic(
    notifier_settings: Factory, stop: str, start: str
) -> None:
    async with system(notifier_settings) as s:
        alert = issued(phone="+8613700300001")
        await s.dispatcher.publish(alert)
        await s.wait_received([alert.phone])
        await reply(s, alert.phone, stop)
        await reply(s, alert.phone, start)
        await eventually(lambda: _now(len(s.tap.of(SmsOptChanged)) == 2), what="opt events")
        out, back = s.tap.of(SmsOptChanged)
        assert (out.phone, out.opted_out, out.keyword, out.volunteer_id) == (
            alert.phone,
            True,
            stop,
            alert.volunteer_id,
        )
        assert (back.opted_out, back.keyword) == (False, start)


async def test_opted_out_phone_gets_no_alert(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        first = issued(phone="+8613700400001")
        await s.dispatcher.publish(first)
        await s.wait_received([first.phone])
        await reply(s, first.phone, "退订")
        second = issued(phone=first.phone, volunteer_id=first.volunteer_id)
        await s.dispatcher.publish(second)
        [status] = await eventually(
            lambda: _now(s.tap.of(DeliveryStatusChanged, callout_id=second.callout_id)),
            what="suppressed alert reported",
        )
        assert (status.status, status.error_code) == ("failed", 21610)
        assert all("走失" not in b for b in s.received(first.phone)[1:])


async def test_forged_and_replayed_webhooks_are_rejected(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        alert = issued(phone="+8613700500001")
        await s.dispatcher.publish(alert)
        await s.wait_received([alert.phone])
        params = {
            "MessageSid": "SM" + "f" * 32,
            "From": alert.phone,
            "To": "+8610655590001",
            "Body": "1",
            "AccountSid": s.settings.twilio_account_sid,
        }
        async with httpx.AsyncClient(base_url=s.notifier_url) as http:
            for headers in (
                {},
                {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
                signed(s, INBOUND, params, token="wrong-token"),
                signed(s, INBOUND, params, url="http://evil.example" + INBOUND),
                signed(s, INBOUND, {**params, "Body": "2"}),
            ):
                r = await http.post(INBOUND, data=params, headers=headers)
                assert r.status_code == 403, headers
            good = signed(s, INBOUND, params)
            first = await http.post(INBOUND, data=params, headers=good)
            replay = await http.post(INBOUND, data=params, headers=good)
            assert first.status_code == replay.status_code == 200
            assert "<Message>" in first.text and "<Message>" not in replay.text
            sid = s.sandbox.received(alert.phone)[0].sid
            status = {"MessageSid": sid, "MessageStatus": "delivered", "To": alert.phone}
            path = "/v1/webhooks/twilio/status"
            for _ in range(2):
                assert (
                    await http.post(path, data=status, headers=signed(s, path, status))
                ).status_code == 204
            assert (await http.post(path, data=status, headers={})).status_code == 403
        await eventually(lambda: _now(s.tap.of(VolunteerReplied)), what="the one reply")
        await eventually(
            lambda: _now(s.tap.of(DeliveryStatusChanged, status="delivered")), what="delivered"
        )
        assert len(s.tap.of(VolunteerReplied)) == 1
        assert len(s.tap.of(DeliveryStatusChanged, status="delivered")) == 1


async def _now(value: Any) -> Any:
    return value
