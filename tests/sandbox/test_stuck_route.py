"""The sandbox's stuck-route controls: a stalled sender's queue holds, a queued cancel, and a
message that waits past its ValidityPeriod fails (never sent) with its callback."""

from __future__ import annotations

from baiying_sandbox.config import DEV_SENDERS
from tests.sandbox.conftest import Opener, receiver
from tests.sandbox.test_conformance import _code
from tests.support import eventually, serving

A, B = DEV_SENDERS


async def test_a_stalled_sender_holds_its_queue_and_a_queued_cancel_is_twilios_choice(
    open_sandbox: Opener,
) -> None:
    async with open_sandbox(mps=20, stalled_senders=(A,)) as sb:
        held = await sb.client.messages.create_async(to="+8613800002001", from_=A, body="a")
        goes = await sb.client.messages.create_async(to="+8613800002002", from_=B, body="b")

        async def b_sent() -> bool:
            return sb.store.messages[str(goes.sid)].sent is not None

        await eventually(b_sent, what="the other sender drains")
        assert sb.store.messages[str(held.sid)].status == "queued", "the stalled one holds"
        # As Twilio: only a scheduled message can be cancelled.
        assert await _code(sb.client.messages(held.sid).update_async(status="canceled")) == 30409
        assert sb.store.counters["cancel_refused"] == 1
    async with open_sandbox(mps=20, stalled_senders=(A,), cancel_queued=True) as sb:
        first = await sb.client.messages.create_async(to="+8613800002003", from_=A, body="c")
        second = await sb.client.messages.create_async(to="+8613800002004", from_=A, body="d")
        cancelled = await sb.client.messages(first.sid).update_async(status="canceled")
        assert cancelled.status == "canceled"
        sb.store.behaviour = sb.store.behaviour.model_copy(update={"stalled_senders": ()})

        async def second_sent() -> bool:
            return sb.store.messages[str(second.sid)].sent is not None

        await eventually(second_sent, what="un-stalled, the queue drains")
        assert sb.store.messages[str(first.sid)].sent is None, "a withdrawn message never goes"
        assert sb.store.messages[str(first.sid)].status == "canceled"
        late = sb.client.messages(second.sid).update_async(status="canceled")
        assert await _code(late) == 30409, "once it left the queue it cannot be cancelled"


async def test_a_message_queued_past_its_validity_period_fails_30036_and_calls_back(
    open_sandbox: Opener,
) -> None:
    async with open_sandbox(mps=20, stalled_senders=(A,)) as sb:
        hook_app, seen = receiver()
        async with serving(hook_app) as hook:
            send = sb.client.messages.create_async
            head = await send(to="+8613800002101", from_=A, body="no validity")
            late = await send(
                to="+8613800002102",
                from_=A,
                body="1 s",
                validity_period=1,
                status_callback=f"{hook}/s",
            )

            async def failed_callback() -> bool:
                return any(f.get("MessageStatus") == "failed" for _, f, _ in seen)

            await eventually(failed_callback, what="the expired message's failed callback")
            _, form, signed = seen[-1]
            assert (form["MessageSid"], form["ErrorCode"], signed) == (late.sid, "30036", True)
            fetched = await sb.client.messages(late.sid).fetch_async()
            assert (fetched.status, fetched.error_code, fetched.date_sent) == (
                "failed",
                30036,
                None,
            )
            kept = sb.store.messages[str(late.sid)]
            assert kept.updated and (kept.updated - kept.created).total_seconds() >= 1.0
            # behind a head with no validity, it still failed on its own deadline
            assert sb.store.messages[str(head.sid)].status == "queued"
            assert sb.store.counters["expired_validity"] == 1
            sb.store.behaviour = sb.store.behaviour.model_copy(update={"stalled_senders": ()})

            async def head_delivered() -> bool:
                return sb.store.messages[str(head.sid)].status == "delivered"

            await eventually(head_delivered, what="un-stalled, the head goes")
            assert [s for _, s in sb.store.sent_at[A]] == [1], "the expired one is never sent"
            assert [f["MessageStatus"] for _, f, _ in seen] == ["failed"]
