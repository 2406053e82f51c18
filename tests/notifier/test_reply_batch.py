"""Inbound SMS by group commit: concurrent signed replies are each answered 200 only once their
transaction has committed; a reply whose commit fails is answered 5xx (Twilio retries) without
failing the others; a replayed MessageSid acts once; opt-out words still act."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import httpx

from baiying_notifier.config import NotifierSettings
from baiying_shared.events.contacts import SmsOptChanged
from baiying_shared.events.replies import VolunteerReplied
from tests.notifier.harness import System, issued, system
from tests.notifier.test_replies import INBOUND, signed
from tests.support import eventually

Factory = Callable[..., NotifierSettings]

# Fails COMMIT itself (a deferred constraint trigger) for the one MessageSid named 'SMpoison…'.
_POISON = """
CREATE FUNCTION notifier.refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.key LIKE 'inbound:SMpoison%' THEN RAISE EXCEPTION 'commit refused'; END IF;
  RETURN NEW;
END $$;
CREATE CONSTRAINT TRIGGER poison_at_commit AFTER INSERT ON notifier.webhook_seen
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION notifier.refuse_poison();
"""
_CURE = "DROP TRIGGER poison_at_commit ON notifier.webhook_seen;" \
        " DROP FUNCTION notifier.refuse_poison();"


def _form(phone: str, body: str, sid: str | None = None) -> dict[str, str]:
    return {"MessageSid": sid or "SM" + uuid.uuid4().hex, "From": phone,
            "To": "+8610655590001", "Body": body}


async def _post(s: System, http: httpx.AsyncClient, form: dict[str, str]
                ) -> tuple[int, bool, str]:
    """Status, whether the reply's replay-guard row was committed when the answer came, body."""
    r = await http.post(INBOUND, data=form, headers=signed(s, INBOUND, form))
    committed = await s.pool.fetchval(  # another session: sees committed rows only
        "SELECT EXISTS (SELECT 1 FROM webhook_seen WHERE key = $1)",
        f"inbound:{form['MessageSid']}")
    return r.status_code, bool(committed), r.text


async def test_concurrent_replies_commit_before_200_and_a_failed_commit_is_5xx(
    notifier_settings: Factory,
) -> None:
    async with system(notifier_settings) as s:
        alerts = [issued(phone=f"+86137100{i:05d}") for i in range(14)]
        await s.dispatcher.publish(*alerts)
        await s.wait_received([a.phone for a in alerts])
        *good, poisoned, stopping = alerts
        forms = [_form(a.phone, "1") for a in good]
        poison = _form(poisoned.phone, "1", sid="SMpoison" + uuid.uuid4().hex)
        stop = _form(stopping.phone, "STOP")
        await s.pool.execute(_POISON)
        try:
            async with httpx.AsyncClient(base_url=s.notifier_url, timeout=30) as http:
                answers = await asyncio.gather(
                    *(_post(s, http, f) for f in [*forms, forms[0], stop, poison]))
        finally:
            await s.pool.execute(_CURE)
        *accepted, replayed, stopped, failed = answers
        assert all(a[:2] == (200, True) for a in [*accepted, replayed, stopped]), answers
        assert sum("<Message>" in a[2] for a in [*accepted, replayed]) == len(good)  # one acted
        assert failed[0] >= 500 and not failed[1], failed  # Twilio retries a 5xx

        async def replies_out() -> bool:
            return len(s.tap.of(VolunteerReplied)) >= len(good)

        await eventually(replies_out, what="one reply event per good reply")
        assert sorted(str(e.callout_id) for e in s.tap.of(VolunteerReplied)) == sorted(
            str(a.callout_id) for a in good)  # the replay acted once, the poisoned not at all
        assert await s.pool.fetchval(
            "SELECT opted_out FROM opt_outs WHERE phone = $1", stopping.phone) is True

        async def opted_out() -> bool:  # another topic than the replies': no order between them
            return any(e.phone == stopping.phone and e.opted_out for e in s.tap.of(SmsOptChanged))

        await eventually(opted_out, what="the opt-out event")

        async with httpx.AsyncClient(base_url=s.notifier_url, timeout=30) as http:
            retried = await _post(s, http, poison)  # Twilio's retry, the commit now allowed
        assert retried[:2] == (200, True) and "<Message>" in retried[2]

        async def poisoned_replied() -> bool:
            return bool(s.tap.of(VolunteerReplied, callout_id=poisoned.callout_id))

        await eventually(poisoned_replied, what="the retried reply's event")
