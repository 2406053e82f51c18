"""Campaign SMS on the real broker, database and sandbox: each once, a link per recipient,
reach events matching what the sandbox's carrier recorded, not_after honoured."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable

import httpx

from baiying_notifier.config import NotifierSettings
from baiying_sandbox.config import SandboxSettings
from baiying_shared.events.deliveries import DeliveryStatusChanged
from baiying_shared.events.replies import VolunteerReplied
from tests.notifier.harness import issued, system
from tests.notifier.test_campaign_kit import (
    LINK,
    publish,
    reach,
    reach_counts,
    residents_request,
    soon,
    token_in,
    volunteer_message,
)
from tests.notifier.test_campaign_kit import reply as text
from tests.support import eventually

Factory = Callable[..., NotifierSettings]
FAILING = "+8613655500099"


def _phones(n: int, base: int) -> list[str]:
    return [f"+86136{base:04d}{i:04d}" for i in range(n)]


async def test_each_recipient_once_and_reach_matches_the_carrier(
    notifier_settings: Factory,
) -> None:
    sandbox = SandboxSettings(mps=0, callback_delay_ms=5, failing_numbers={FAILING: 30003})
    async with system(notifier_settings, sandbox=sandbox) as s:
        residents = _phones(3, 2)
        for phone in residents:
            assert (await text(s, phone, "订阅 章贡"))[0].startswith("【一呼百应】您已订阅章贡区")
        run, campaign = uuid.uuid4(), uuid.uuid4()
        volunteers = [*_phones(8, 1), FAILING]
        msgs = [volunteer_message(run_id=run, campaign_id=campaign, phone=p) for p in volunteers]
        request = residents_request(run_id=run, campaign_id=campaign)
        await publish(s, *msgs, request, copies=2)  # a redelivered copy of every event
        await publish(s, *msgs, request)  # the same run issued again: same message ids
        everyone = volunteers + residents
        await s.wait_received(everyone)

        async def settled() -> bool:
            c = reach_counts(s, campaign)
            return c["delivered"] + c["failed"] == len(everyone)

        await eventually(settled, timeout=30, what="every message delivered or failed")
        # (a resident's phone also holds our answer to its 订阅)
        campaign_sms = {p: [b for b in s.received(p) if LINK.search(b)] for p in everyone}
        assert all(len(b) == 1 for b in campaign_sms.values()), "never a second SMS"
        bodies = {p: b[0] for p, b in campaign_sms.items()}
        assert len({token_in(b) for b in bodies.values()}) == len(everyone), "a token each"
        assert "冒充客服退款诈骗" in bodies[residents[0]]

        # Reach counts are what the carrier recorded: its clock of sent messages, its statuses.
        async with httpx.AsyncClient(base_url=s.sandbox_url) as http:
            carrier = (await http.get("/v1/admin/sent")).json()
        statuses = Counter(m.status for p in everyone for m in s.sandbox.received(p)
                           if LINK.search(m.body))  # fmt: skip
        counts = reach_counts(s, campaign)
        answers = len(residents)  # the TwiML answers to 订阅 went through the carrier too
        assert counts["sent"] == sum(len(v) for v in carrier.values()) - answers == len(everyone)
        assert counts["delivered"] == statuses["delivered"] == len(everyone) - 1
        assert counts["failed"] == statuses["undelivered"] == 1
        [failed] = reach(s, campaign_id=campaign, status="failed")
        assert failed.error_code == 30003 and failed.audience == "volunteer"
        assert Counter(e.audience for e in reach(s, campaign_id=campaign, status="sent")) == {
            "volunteer": len(volunteers), "resident": len(residents)}  # fmt: skip
        # Each (message, status) once; and nothing of it reached the dispatcher's call-out topic.
        keys = [(e.message_id, e.status) for e in reach(s, campaign_id=campaign)]
        assert len(keys) == len(set(keys))
        assert not s.tap.of(DeliveryStatusChanged, incident_id=campaign)


async def test_acknowledged_by_reply_and_a_callout_reply_still_wins(
    notifier_settings: Factory,
) -> None:
    async with system(notifier_settings) as s:
        run, campaign = uuid.uuid4(), uuid.uuid4()
        zh, en = _phones(2, 3)
        await publish(
            s,
            volunteer_message(run_id=run, campaign_id=campaign, phone=zh),
            volunteer_message(run_id=run, campaign_id=campaign, phone=en, language="en",
                              title="Fake refund calls", advice="Hang up."),
        )
        await s.wait_received([zh, en])
        assert await text(s, zh, "收到") == ["【一呼百应】谢谢，已确认您收到提醒。"]
        assert await text(s, en, "ok") == ["[Baiying] Thank you, your receipt is recorded."]
        await text(s, en, "RECEIVED")  # again: still one event

        async def both() -> bool:
            return len(reach(s, campaign_id=campaign, status="acknowledged")) == 2

        await eventually(both, what="two acknowledgements")
        assert reach_counts(s, campaign)["acknowledged"] == 2

        # A volunteer with a campaign SMS and a live call-out: 收到 accepts the call-out.
        busy = "+8613600039999"
        await publish(s, volunteer_message(run_id=run, campaign_id=campaign, phone=busy))
        await s.wait_received([busy])
        callout = issued(phone=busy)
        await s.dispatcher.publish(callout)

        async def alerted() -> bool:
            return len(s.received(busy)) == 2

        await eventually(alerted, what="the call-out alert as well")
        [answer] = await text(s, busy, "收到")
        assert answer.startswith("已收到：您愿意接受召集"), answer

        async def accepted() -> bool:
            return bool(s.tap.of(VolunteerReplied, callout_id=callout.callout_id))

        await eventually(accepted, what="the call-out accepted")
        assert not await s.pool.fetchval(
            "SELECT count(*) FROM campaign_reach r JOIN campaign_messages m USING (message_id)"
            " WHERE m.phone = $1 AND r.status = 'acknowledged'", busy,
        ), "not taken as a campaign receipt"  # fmt: skip


async def test_nothing_sent_after_not_after(notifier_settings: Factory) -> None:
    # A slow carrier: most of the run is still waiting when its not_after comes.
    async with system(notifier_settings, sender_mps=2.0, pacing_tolerance_s=0.0) as s:
        run, campaign = uuid.uuid4(), uuid.uuid4()
        late = volunteer_message(run_id=run, campaign_id=campaign, phone="+8613600040000",
                                 not_after=soon(-1))  # fmt: skip
        crowd = _phones(40, 5)
        deadline = soon(4 / 60)  # 4 s: at 2 segments/s per sender, not all 40 can go
        await publish(s, late, *(volunteer_message(run_id=run, campaign_id=campaign, phone=p,
                                                   not_after=deadline) for p in crowd))

        async def expired() -> bool:
            states = dict(await s.pool.fetch(
                "SELECT state, count(*) FROM deliveries WHERE message = 'campaign'"
                " GROUP BY state"))  # fmt: skip
            over = sum(states.values()) == len(crowd) + 1
            return over and not states.get("pending") and not states.get("claimed")

        await eventually(expired, timeout=30, what="the run over: sent or cancelled")
        sent = [m for p in crowd for m in s.sandbox.received(p)]
        assert 0 < len(sent) < len(crowd), "some went in time, the rest were cancelled"
        assert all(m.created <= deadline for m in sent), "none handed over after not_after"
        assert not s.sandbox.received(late.phone), "already past not_after: never sent"


async def test_an_opted_out_phone_is_never_texted_and_counts_as_failed(
    notifier_settings: Factory,
) -> None:
    async with system(notifier_settings) as s:
        phone = "+8613600060001"
        await text(s, phone, "STOP")  # the carrier's word: the phone is opted out everywhere
        run, campaign = uuid.uuid4(), uuid.uuid4()
        await publish(s, volunteer_message(run_id=run, campaign_id=campaign, phone=phone))

        async def reported() -> bool:
            return bool(reach(s, campaign_id=campaign, status="failed"))

        await eventually(reported, what="the suppressed message reported")
        [failed] = reach(s, campaign_id=campaign)
        assert failed.error_code == 21610
        assert not [b for b in s.received(phone) if LINK.search(b)], "never texted"


async def test_residents_by_district_and_a_request_naming_none(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        zhanggong, nankang, city = "+8613600070001", "+8613600070002", "+8613600070003"
        await text(s, zhanggong, "订阅 章贡")
        await text(s, nankang, "SUBSCRIBE Nankang")
        await text(s, city, "订阅")
        first = uuid.uuid4()
        await publish(s, residents_request(run_id=uuid.uuid4(), campaign_id=first))
        await s.wait_received([zhanggong, city])
        assert not [b for b in s.received(nankang) if LINK.search(b)], "not Nankang's notice"
        assert [b for b in s.received(nankang) if b.startswith("[Baiying] You will get")]
        everyone = uuid.uuid4()
        await publish(s, residents_request(run_id=uuid.uuid4(), campaign_id=everyone,
                                           districts=()))  # fmt: skip

        async def all_three() -> bool:
            return len(reach(s, campaign_id=everyone, status="sent")) == 3

        await eventually(all_three, what="a request naming no district reaches every subscriber")
        assert {e.district for e in reach(s, campaign_id=everyone, status="sent")} == {
            "360702", "360703", "360700"}  # fmt: skip
        [nankang_sms] = [b for b in s.received(nankang) if LINK.search(b)]
        assert nankang_sms.startswith("[Baiying] Safety notice: Fake refund calls"), "in English"
