"""Residents subscribe, unsubscribe and delete by SMS, in both languages; consent recorded;
a volunteer's 退订 and the carrier's STOP keep their opt-out meaning."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from baiying_notifier.campaigns import inbound, intake
from baiying_notifier.campaigns.keywords import parse
from baiying_notifier.config import NotifierSettings
from baiying_shared.events.contacts import SmsOptChanged
from tests.notifier.harness import System, issued, system
from tests.notifier.test_campaign_kit import LINK, residents_request
from tests.notifier.test_campaign_kit import reply as text
from tests.support import eventually

Factory = Callable[..., NotifierSettings]


@pytest.mark.parametrize(("body", "intent", "district", "lang"), [
    ("订阅", "subscribe", None, "zh"), ("订阅 章贡", "subscribe", "360702", "zh"),
    ("订阅章贡区", "subscribe", "360702", "zh"), ("订阅，南康", "subscribe", "360703", "zh"),
    ("subscribe", "subscribe", None, "en"), ("SUBSCRIBE Zhanggong", "subscribe", "360702", "en"),
    ("Subscribe nankang district", "subscribe", "360703", "en"),
    ("退订", "unsubscribe", None, "zh"), ("TD", "unsubscribe", None, "en"),
    ("unsubscribe", "unsubscribe", None, "en"), ("stop", "unsubscribe", None, "en"),
    ("删除", "delete", None, "zh"), ("delete", "delete", None, "en"),
    ("收到", "acknowledge", None, "zh"), ("OK", "acknowledge", None, "en"),
    ("received", "acknowledge", None, "en"),
])  # fmt: skip
def test_resident_words(body: str, intent: str, district: str | None, lang: str) -> None:
    word = parse(body)
    assert word is not None
    assert (word.intent, word.district, word.language) == (intent, district, lang)


@pytest.mark.parametrize("body", ["1", "好", "ok thanks", "订阅了吗", "delete me now", "STOPALL"])
def test_other_texts_are_left_to_the_volunteer_keywords(body: str) -> None:
    word = parse(body)
    assert word is None or word.unknown_district  # "订阅了吗": a district we cannot place


async def _row(s: System, phone: str) -> dict[str, object] | None:
    row = await s.pool.fetchrow("SELECT * FROM subscribers WHERE phone = $1", phone)
    return dict(row) if row else None


async def test_subscribe_unsubscribe_and_delete_in_chinese(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        phone = "+8613700010001"
        [answer] = await text(s, phone, "订阅 章贡")
        assert answer == (
            "【一呼百应】您已订阅章贡区的以案说防提醒。退订回复退订，删除信息回复删除。")
        row = await _row(s, phone)
        assert row and row["district"] == "360702" and row["language"] == "zh"
        assert row["consent_text"] == "订阅 章贡" and row["confirmation"] == answer
        assert row["consent_at"] is not None and row["ended_at"] is None
        assert s.received(phone) == [answer], "the exact wording recorded is what was sent"

        assert await text(s, phone, "订阅 火星") == [
            "【一呼百应】未找到“火星”。请回复“订阅 区县名”，如：订阅 章贡。"]  # fmt: skip
        assert (await _row(s, phone) or {})["district"] == "360702", "unchanged"

        assert await text(s, phone, "退订") == [
            "【一呼百应】您已退订以案说防提醒。回复订阅可重新订阅。"]  # fmt: skip
        row = await _row(s, phone)
        assert row and row["ended_at"] is not None and row["ended_text"] == "退订"
        # A resident is not a volunteer: no opt-out for the registry, no carrier block.
        assert not await s.pool.fetchval("SELECT count(*) FROM opt_outs WHERE phone = $1", phone)

        assert await text(s, phone, "删除") == ["【一呼百应】您的订阅信息已删除。"]
        assert await _row(s, phone) is None, "deleted, not flagged"
        assert await text(s, phone, "删除") == ["【一呼百应】我们没有保存您的订阅信息。"]


async def test_subscribe_unsubscribe_and_delete_in_english(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        phone = "+8613700010002"
        [answer] = await text(s, phone, "SUBSCRIBE")
        assert answer.startswith("[Baiying] You will get safety notices for the whole city.")
        row = await _row(s, phone)
        assert row and row["district"] is None and row["language"] == "en"
        [answer] = await text(s, phone, "subscribe Nankang")
        assert "Nankang District" in answer
        assert (await _row(s, phone) or {})["district"] == "360703"
        assert await text(s, phone, "UNSUBSCRIBE") != []
        row = await _row(s, phone)
        assert row and row["ended_at"] is not None
        # UNSUBSCRIBE is also the carrier's word: it blocks us until START, so we record it too.
        assert await s.pool.fetchval("SELECT opted_out FROM opt_outs WHERE phone = $1", phone)
        assert await text(s, phone, "DELETE") == [
            "[Baiying] Your subscription details have been deleted."]  # fmt: skip
        assert await _row(s, phone) is None


async def test_a_volunteers_stop_words_keep_their_meaning(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        # A volunteer (known from a call-out) who also subscribed as a resident.
        callout = issued(phone="+8613700010003", volunteer_id=uuid.uuid4())
        await s.dispatcher.publish(callout)
        await s.wait_received([callout.phone])
        await text(s, callout.phone, "订阅 章贡")
        [answer] = await text(s, callout.phone, "退订")
        assert answer == "您已退订一呼百应短信，回复START可恢复。", "today's volunteer opt-out"
        assert await s.pool.fetchval(
            "SELECT opted_out FROM opt_outs WHERE phone = $1", callout.phone)  # fmt: skip
        row = await _row(s, callout.phone)
        assert row and row["ended_at"] is not None, "and the subscription ended too"

        async def told_registry() -> bool:
            return bool(s.tap.of(SmsOptChanged, phone=callout.phone, opted_out=True))

        await eventually(told_registry, what="SmsOptChanged for the volunteer")
        [change] = s.tap.of(SmsOptChanged, phone=callout.phone)
        assert change.volunteer_id == callout.volunteer_id


async def test_unsubscribing_stops_what_still_waits_and_delete_forgets_it(
    notifier_settings: Factory,
) -> None:
    async with system(notifier_settings) as s:
        phone = "+8613700020001"
        await text(s, phone, "订阅 章贡")
        request = residents_request(run_id=uuid.uuid4(), campaign_id=uuid.uuid4())
        # Queued and answered in one transaction, never announced: no sender can take the SMS
        # meanwhile, so what 退订 does to a waiting message is seen deterministically.
        async with s.pool.acquire() as conn, conn.transaction():
            todo = await intake.residents(conn, request)
            assert [r.phone for r in todo] == [phone]
            assert await intake.queue(conn, todo, base_url=s.notifier_url), "one pending row"
            answer = await inbound.answer(conn, phone=phone, body="退订")
            assert answer == "【一呼百应】您已退订以案说防提醒。回复订阅可重新订阅。"
            assert await conn.fetchval(
                "SELECT state FROM deliveries WHERE message = 'campaign' AND phone = $1", phone
            ) == "cancelled", "退订 also stops the SMS not yet sent"
        assert await s.pool.fetchval(
            "SELECT count(*) FROM campaign_messages WHERE phone = $1", phone) == 1
        assert await text(s, phone, "删除") == ["【一呼百应】您的订阅信息已删除。"]
        assert not await s.pool.fetchval(
            "SELECT count(*) FROM campaign_messages WHERE phone = $1", phone), "forgotten"
        assert all(not LINK.search(b) for b in s.received(phone)), "it never got the SMS"
