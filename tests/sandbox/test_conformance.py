"""Conformance: each Twilio behaviour the notifier depends on, pinned with the twilio library."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from baiying_sandbox.config import (
    DEV_ACCOUNT_SID,
    DEV_API_KEY_SECRET,
    DEV_API_KEY_SID,
    DEV_MESSAGING_SERVICE_SID,
    DEV_SENDERS,
)
from tests.sandbox.conftest import Opener, receiver
from tests.support import eventually, serving

A, B = DEV_SENDERS
ZH_TWO = "请" * 71  # 71 UCS-2 units: two segments
MSGS = f"/2010-04-01/Accounts/{DEV_ACCOUNT_SID}/Messages"


async def _code(call: object) -> int | None:
    try:
        await call  # type: ignore[misc]
    except TwilioRestException as exc:
        return int(exc.code) if exc.code is not None else None
    return None


async def test_from_queue_drains_at_its_segment_rate(open_sandbox: Opener) -> None:
    rate = 20.0
    async with open_sandbox(mps=rate) as sb:
        bodies = ["one", ZH_TWO, "two", ZH_TWO, "three"]
        made = [
            await sb.client.messages.create_async(to=f"+86138000001{i:02d}", from_=A, body=b)
            for i, b in enumerate(bodies)
        ]
        assert all(m.status == "queued" and m.date_sent is None for m in made)
        assert [m.num_segments for m in made] == ["1", "2", "1", "2", "1"]

        async def all_delivered() -> bool:
            return all(sb.store.messages[m.sid].status == "delivered" for m in made)

        await eventually(all_delivered, what="five delivered")
        stamps = sb.store.sent_at[A]
        assert [s for _, s in stamps] == [1, 2, 1, 2, 1], "first in, first out"
        t0, ahead = stamps[0][0], 0
        for t, segs in stamps:  # never before its slot: the segments ahead of it, at the rate
            assert t - t0 >= ahead / rate - 0.002, "left before the segments ahead of it"
            ahead += segs
        span = stamps[-1][0] - stamps[0][0]
        assert span < (7 - 1) / rate + 0.25, "and the queue does not dawdle"
        done = await sb.client.messages(made[0].sid).fetch_async()
        assert done.date_sent is not None and done.date_sent >= done.date_created


async def test_statuses_pass_through_sending_and_date_sent_when_leaving(
    open_sandbox: Opener,
) -> None:
    async with open_sandbox(mps=2, callback_statuses=("sending", "sent", "delivered")) as sb:
        hook_app, seen = receiver()
        async with serving(hook_app) as hook:
            first = await sb.client.messages.create_async(to="+8613800000201", from_=A, body="a")
            second = await sb.client.messages.create_async(
                to="+8613800000202", from_=A, body="b", status_callback=f"{hook}/s"
            )
            assert sb.store.messages[second.sid].status == "queued", "waits behind the first"
            assert sb.store.messages[second.sid].sent is None

            async def three() -> bool:
                return len(seen) == 3

            await eventually(three, what="sending, sent, delivered")
            assert [f["MessageStatus"] for _, f, _ in seen] == ["sending", "sent", "delivered"]
            one, two = sb.store.messages[first.sid], sb.store.messages[second.sid]
            assert one.sent and two.sent and (two.sent - one.sent).total_seconds() >= 0.45


async def test_21611_when_the_from_queue_is_full_and_validity_shortens_it(
    open_sandbox: Opener,
) -> None:
    async with open_sandbox(mps=1, queue_limit_s=3) as sb:
        send = sb.client.messages.create_async
        codes = [await _code(send(to="+8613800000301", from_=A, body="x")) for _ in range(6)]
        # the first leaves at once; the queue then holds 3 s at 1 segment/s
        assert codes == [None, None, None, None, 21611, 21611]
        to = "+8613800000302"
        assert await _code(send(to=to, from_=B, body="x")) is None
        assert await _code(send(to=to, from_=B, body="x", validity_period=1)) is None
        short = await _code(send(to=to, from_=B, body=ZH_TWO, validity_period=1))
        assert short == 21611, "a 1 s validity leaves room for one queued segment only"
        assert await _code(send(to=to, from_=B, body=ZH_TWO)) is None, "3 s without it"
        assert sb.store.counters["rejected_21611"] == 3


async def test_service_pool_overload_fails_30001_after_creation(open_sandbox: Opener) -> None:
    async with open_sandbox(mps=1, queue_limit_s=1) as sb:
        hook_app, seen = receiver()
        async with serving(hook_app) as hook:
            made = [
                await sb.client.messages.create_async(
                    to=f"+86138000004{i:02d}",
                    messaging_service_sid=DEV_MESSAGING_SERVICE_SID,
                    body="x",
                    status_callback=f"{hook}/s",
                )
                for i in range(5)
            ]
            assert [m.status for m in made] == ["accepted"] * 5, "created, not refused"
            assert all(m.from_ is None for m in made), "no pool number picked yet"

            async def settled() -> bool:
                statuses = [sb.store.messages[m.sid].status for m in made]
                return statuses.count("delivered") == 4 and "failed" in statuses

            # two numbers at 1 segment/s and 1 s of queue: two leave at once, two wait
            await eventually(settled, what="four delivered from the pool, one overflowed")
            failed = next(m for m in made if sb.store.messages[m.sid].status == "failed")
            fetched = await sb.client.messages(failed.sid).fetch_async()
            assert fetched.error_code == 30001
            froms = {sb.store.messages[m.sid].from_ for m in made if m.sid != failed.sid}
            assert froms == {A, B}, "spread over the pool"

            async def failed_callback() -> bool:
                return any(f.get("ErrorCode") == "30001" for _, f, _ in seen)

            await eventually(failed_callback, what="failed callback")
            firsts = {f["MessageSid"]: f["MessageStatus"] for _, f, _ in reversed(seen)}
            assert firsts[made[0].sid] == "queued", "service sends call back for queued"


async def test_20429_only_above_the_concurrent_request_limit(open_sandbox: Opener) -> None:
    async with open_sandbox(mps=1, concurrency_limit=2, latency_ms=300) as sb:
        send = sb.client.messages.create_async
        many = await asyncio.gather(
            *(_code(send(to=f"+86138000005{i:02d}", from_=A, body="x")) for i in range(5))
        )
        assert many.count(None) == 2 and many.count(20429) == 3
        one_by_one = [await _code(send(to="+8613800000599", from_=B, body="x")) for _ in range(4)]
        assert one_by_one == [None] * 4, "over the rate is queued, not refused"


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"to": "13800000001", "from_": A, "body": "x"}, 21211),
        ({"to": "+86abc", "from_": A, "body": "x"}, 21211),
        ({"to": "+8613800000601", "from_": A, "body": "x" * 1601}, 21617),
        ({"to": "+8613800000601", "from_": "+15005550006", "body": "x"}, 21606),
        ({"to": "+8613800000601", "messaging_service_sid": "MG123", "body": "x"}, 21659),
        ({"to": "+8613800000601", "body": "x"}, 21603),
        ({"to": "+8613800000601", "from_": A, "body": ""}, 21602),
    ],
)
async def test_create_validation(open_sandbox: Opener, form: dict[str, str], code: int) -> None:
    async with open_sandbox() as sb:
        with pytest.raises(TwilioRestException) as err:
            await sb.client.messages.create_async(**form)
        assert (err.value.status, err.value.code) == (400, code)
        longest = sb.client.messages.create_async(to="+8613800000601", from_=A, body="x" * 1600)
        assert await _code(longest) is None, "1,600 characters is still fine"


async def test_shapes_sid_dates_and_error_bodies(open_sandbox: Opener) -> None:
    assert re.fullmatch(r"AC[0-9a-f]{32}", DEV_ACCOUNT_SID)
    async with open_sandbox() as sb:
        m = await sb.client.messages.create_async(to="+8613800000701", from_=A, body="x")
        raw = (await sb.http.get(f"{MSGS}/{m.sid}.json")).json()
        assert raw["date_created"].endswith(" +0000") and m.date_created.tzinfo is not None
        for method, path, status, code in (
            ("GET", f"{MSGS}/SM{'0' * 32}.json", 404, 20404),
            ("POST", f"{MSGS}/SM{'0' * 32}.json", 404, 20404),
            ("DELETE", f"{MSGS}/SM{'0' * 32}.json", 404, 20404),
            ("GET", f"{MSGS}/SM{'0' * 32}/Media.json", 404, 20404),
            ("PUT", f"{MSGS}.json", 405, 20004),
            ("GET", f"{MSGS}/{m.sid}/Nothing.json", 404, 20404),
        ):
            r = await sb.http.request(method, path)
            assert r.status_code == status, (method, path)
            assert set(r.json()) == {"code", "message", "more_info", "status"}
            assert r.json()["code"] == code
        media = await sb.client.messages(m.sid).media.list_async()
        assert media == []


async def test_page_walk_never_repeats_when_messages_arrive_mid_walk(
    open_sandbox: Opener,
) -> None:
    async with open_sandbox() as sb:
        send = sb.client.messages.create_async
        first = [(await send(to="+8613800000801", from_=A, body=f"{i}")).sid for i in range(5)]
        page = await sb.client.messages.page_async(to="+8613800000801", page_size=2)
        seen = [m.sid for m in page]
        for i in range(3):  # arrive mid-walk, newest first: an offset would shift by three
            await send(to="+8613800000801", from_=A, body=f"late {i}")
        while page.next_page_url:
            page = await page.next_page_async()
            seen += [m.sid for m in page]
        assert seen == first[::-1]


async def test_scheduled_send_and_cancel(open_sandbox: Opener) -> None:
    async with open_sandbox() as strict:
        soon = datetime.now(UTC) + timedelta(minutes=5)
        with pytest.raises(TwilioRestException) as err:
            await strict.client.messages.create_async(
                to="+8613800000901",
                messaging_service_sid=DEV_MESSAGING_SERVICE_SID,
                body="x",
                schedule_type="fixed",
                send_at=soon,
            )
        assert err.value.code == 35114, "Twilio wants SendAt at least 15 minutes out"
    async with open_sandbox(schedule_min_lead_s=0) as sb:
        now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)  # SendAt has seconds

        async def schedule(to: str, after_s: float) -> str:
            m = await sb.client.messages.create_async(
                to=to,
                messaging_service_sid=DEV_MESSAGING_SERVICE_SID,
                body="定时",
                schedule_type="fixed",
                send_at=now + timedelta(seconds=after_s),
            )
            assert m.status == "scheduled"
            return str(m.sid)

        goes, stays = await schedule("+8613800000902", 0), await schedule("+8613800000903", 1)
        canceled = await sb.client.messages(stays).update_async(status="canceled")
        assert canceled.status == "canceled"
        assert sb.store.messages[goes].status == "scheduled"

        async def delivered() -> bool:
            return sb.store.messages[goes].status == "delivered"

        await eventually(delivered, what="the scheduled message sent at SendAt")
        went = sb.store.messages[goes]
        assert went.sent and went.send_at and went.sent >= went.send_at
        assert sb.store.messages[stays].status == "canceled"
        again = await _code(sb.client.messages(goes).update_async(status="canceled"))
        assert again == 30409, "only a scheduled message can be canceled"


async def test_api_key_auth(open_sandbox: Opener) -> None:
    async with open_sandbox() as sb:
        http = AsyncTwilioHttpClient()
        try:
            keyed = Client(
                DEV_API_KEY_SID,
                DEV_API_KEY_SECRET,
                DEV_ACCOUNT_SID,
                http_client=http,
                environment={},
            )
            keyed.api.base_url = sb.url
            m = await keyed.messages.create_async(to="+8613800001001", from_=A, body="key")
            assert m.account_sid == DEV_ACCOUNT_SID
            wrong = Client(
                DEV_API_KEY_SID, "wrong", DEV_ACCOUNT_SID, http_client=http, environment={}
            )
            wrong.api.base_url = sb.url
            refused = wrong.messages.create_async(to="+8613800001001", from_=A, body="x")
            assert await _code(refused) == 20003
        finally:
            await http.close()


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("{" * 80, "1"),  # extension characters: two septets each, 160 fit
        ("{" * 81, "2"),
        ("€" * 81, "2"),
        ("£" * 160, "1"),  # £ is in GSM-7's basic table
        ("a" * 160, "1"),
        ("a" * 161, "2"),
        ("请" * 70, "1"),
        ("请" * 71, "2"),
    ],
)
async def test_segment_counting(open_sandbox: Opener, body: str, segments: str) -> None:
    async with open_sandbox() as sb:
        m = await sb.client.messages.create_async(to="+8613800001101", from_=A, body=body)
        assert m.num_segments == segments
