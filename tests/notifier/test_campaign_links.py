"""Link tokens: unguessable (128 random bits), hashed at rest, single-purpose; the public page."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable

import httpx

from baiying_notifier.campaigns import tokens
from baiying_notifier.config import NotifierSettings
from baiying_notifier.domain.pacing import PRIORITY
from baiying_shared.sms.links import TOKEN_LENGTH, link
from baiying_shared.sms.templates import OTHER_MAX_SEGMENTS, render
from tests.notifier.harness import System, system
from tests.notifier.test_campaign_kit import LINK, publish, reach, token_in, volunteer_message
from tests.support import eventually

Factory = Callable[..., NotifierSettings]


def test_tokens_carry_128_random_bits_and_only_their_hash_is_kept() -> None:
    made = [tokens.new_token() for _ in range(2000)]
    assert len(set(made)) == len(made)
    for t in made[:50]:
        assert tokens.well_formed(t) and len(t) == TOKEN_LENGTH
        assert len(base64.urlsafe_b64decode(t + "==")) * 8 >= 128
        assert tokens.digest(t) == hashlib.sha256(t.encode()).digest() != t.encode()
    # Every bit position varies across tokens: nothing fixed (a counter, a time) inside.
    bits = [int.from_bytes(base64.urlsafe_b64decode(t + "=="), "big") for t in made]
    for i in range(128):
        ones = sum(b >> i & 1 for b in bits)
        assert 800 < ones < 1200, f"bit {i} set in {ones} of 2000"
    assert not tokens.well_formed("../../etc/passwd") and not tokens.well_formed(made[0] + "x")


async def _two_messages(s: System) -> tuple[str, str, uuid.UUID]:
    run, campaign = uuid.uuid4(), uuid.uuid4()
    zh, en = "+8613800020001", "+8613800020002"
    await publish(
        s,
        volunteer_message(run_id=run, campaign_id=campaign, phone=zh),
        volunteer_message(run_id=run, campaign_id=campaign, phone=en, language="en",
                          title="Fake parcel texts", advice="Never click a link to pay duty."),
    )  # fmt: skip
    await s.wait_received([zh, en])
    return token_in(s.received(zh)[0]), token_in(s.received(en)[0]), campaign


async def test_the_page_opens_one_message_and_records_opened_once(
    notifier_settings: Factory,
) -> None:
    async with system(notifier_settings) as s, httpx.AsyncClient(base_url=s.notifier_url) as web:
        zh_token, en_token, campaign = await _two_messages(s)
        r = await web.get(f"/c/{zh_token}")
        assert r.status_code == 200 and 'lang="zh-CN"' in r.text
        assert "冒充客服退款诈骗" in r.text and "96110" in r.text
        assert "Fake parcel" not in r.text, "one token opens only its own message"
        assert "+86138" not in r.text and "13800020001" not in r.text, "no phone on the page"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["cache-control"] == "no-store"
        await web.get(f"/c/{zh_token}")  # opened again: still one event
        en_page = await web.get(f"/c/{en_token}")
        assert 'lang="en"' in en_page.text and "Never click a link" in en_page.text

        async def both_opened() -> bool:
            return len(reach(s, campaign_id=campaign, status="opened")) == 2

        await eventually(both_opened, what="opened for each message")
        opened = {e.message_id for e in reach(s, campaign_id=campaign, status="opened")}
        by_token = {
            r["message_id"]
            for t in (zh_token, en_token)
            for r in await s.pool.fetch(
                "SELECT message_id FROM campaign_messages WHERE token_hash = $1", tokens.digest(t)
            )
        }
        assert opened == by_token, "each token recorded its own message, nothing else"


async def test_unknown_or_garbled_tokens_get_one_404_without_a_hint(
    notifier_settings: Factory,
) -> None:
    async with system(notifier_settings) as s, httpx.AsyncClient(base_url=s.notifier_url) as web:
        real, _, _ = await _two_messages(s)
        near = real[:-1] + ("A" if real[-1] != "A" else "B")  # one character off
        answers = [await web.get(f"/c/{t}") for t in (tokens.new_token(), near, "x", real + "A")]
        assert {a.status_code for a in answers} == {404}
        assert len({a.text for a in answers}) == 1, "the same page whatever was wrong"
        assert "冒充" not in answers[0].text
        assert (await web.post(f"/c/{real}")).status_code == 405, "it only opens a page"
        assert (await web.get("/v1/app/devices", headers={"Authorization": f"Bearer {real}"})
                ).status_code == 401, "a link token is no credential"  # fmt: skip


async def test_at_rest_only_the_hash(notifier_settings: Factory) -> None:
    async with system(notifier_settings) as s:
        zh_token, en_token, campaign = await _two_messages(s)

        async def settled() -> bool:
            return len(reach(s, campaign_id=campaign, status="delivered")) == 2

        await eventually(settled, what="both delivered")
        for t in (zh_token, en_token):
            found = await s.pool.fetchval(
                "SELECT (SELECT count(*) FROM campaign_messages m WHERE m::text LIKE $1)"
                " + (SELECT count(*) FROM deliveries d WHERE d::text LIKE $1)", f"%{t}%")
            assert found == 0, "the plaintext token is nowhere in the notifier's tables"
        bodies = await s.pool.fetch("SELECT body FROM deliveries WHERE message = 'campaign'")
        assert all(not LINK.search(b["body"]) for b in bodies)


def test_the_link_survives_any_title_and_advice_within_the_budget() -> None:
    url = link("https://baiying.example.gov.cn", tokens.new_token())
    for lang in ("zh", "en"):
        text = render("campaign", lang, title="冒充客服退款诈骗" * 20,  # type: ignore[arg-type]
                      advice="一律挂断。" * 80, link=url)  # fmt: skip
        assert url in text.text and text.segments <= OTHER_MAX_SEGMENTS
        assert "收到" in text.text if lang == "zh" else "OK" in text.text


def test_campaigns_go_last() -> None:
    assert PRIORITY["campaign"] > max(v for k, v in PRIORITY.items() if k != "campaign")
