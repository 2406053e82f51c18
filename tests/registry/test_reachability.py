"""Issue 11 (1): reachability is a state per channel, and START brings a volunteer back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from baiying_shared.events import contacts, volunteers
from baiying_shared.events.envelope import wrap
from tests.registry.conftest import Registry
from tests.registry.test_events import _published, _rebuild, _record, _send
from tests.support import eventually


def _opt(phone: str, *, out: bool, keyword: str) -> Any:
    return wrap(contacts.SmsOptChanged(phone=phone, opted_out=out, keyword=keyword,
                                       at=datetime.now(UTC)), producer="notifier")


def _flag(phone: str, code: int) -> Any:
    return wrap(contacts.ContactFlagged(phone=phone, error_code=code, reason="delivery failed",
                                        at=datetime.now(UTC)), producer="notifier")


async def _reach(registry: Registry, volunteer_id: str) -> dict[str, Any]:
    async with registry.client() as c:
        r = await c.get(f"/v1/volunteers/{volunteer_id}/reachability")
    assert r.status_code == 200, r.text
    return {x["channel"]: x for x in r.json()["channels"]}


async def _until(registry: Registry, volunteer_id: str, state: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        sms = (await _reach(registry, volunteer_id))["sms"]
        return sms if sms["state"] == state else None

    return await eventually(probe, timeout=30, what=f"sms {state}")  # type: ignore[no-any-return]


async def test_cancel_then_21610_then_start_makes_the_volunteer_callable_again(
    registry: Registry,
) -> None:
    """The reported loss: CANCEL, an alert fails 21610, START — and the flag used to stay."""
    v = await registry.volunteer(await registry.team())
    phone = v["phone"]
    await _send(registry, _opt(phone, out=True, keyword="CANCEL"), phone)
    sms = await _until(registry, v["id"], "opted_out")
    assert (sms["set_by"], sms["keyword"]) == ("volunteer", "CANCEL")
    await _send(registry, _flag(phone, 21610), phone)  # the queued alert the opt-out raced
    await _send(registry, _opt(phone, out=False, keyword="START"), phone)
    await _until(registry, v["id"], "ok")
    record = await _record(registry, v["id"])
    assert (record["sms_opt_out"], record["phone_flag"]) == (False, None)
    await eventually(lambda: _published(registry), timeout=30, what="outbox drained")
    latest = (await _rebuild(registry, volunteers.TOPIC))[v["id"]]
    assert (latest.sms_opt_out, latest.phone_flag) == (False, None), "dispatcher still blocked"


async def test_a_21610_before_the_opt_out_word_ends_in_the_same_state(registry: Registry) -> None:
    v = await registry.volunteer(await registry.team())
    phone = v["phone"]
    await _send(registry, _flag(phone, 21610), phone)
    sms = await _until(registry, v["id"], "carrier_blocked")
    assert (sms["set_by"], sms["error_code"]) == ("carrier", 21610)
    await _send(registry, _opt(phone, out=True, keyword="退订"), phone)
    await _until(registry, v["id"], "opted_out")
    await _send(registry, _opt(phone, out=False, keyword="UNSTOP"), phone)
    await _until(registry, v["id"], "ok")
    assert (await _record(registry, v["id"]))["phone_flag"] is None


async def _failures(registry: Registry, volunteer_id: str, n: int) -> bool:
    sms = (await _reach(registry, volunteer_id))["sms"]
    return bool(sms["failures"] == n and sms["state"] == "ok")


async def test_unreachable_only_after_repeated_failures(registry: Registry) -> None:
    v = await registry.volunteer(await registry.team())
    phone = v["phone"]
    for _ in range(2):
        await _send(registry, _flag(phone, 30003), phone)
    await eventually(lambda: _failures(registry, v["id"], 2), timeout=30, what="2 failures")
    assert (await _record(registry, v["id"]))["phone_flag"] is None, "one bad day is not a ban"
    await _send(registry, _flag(phone, 30003), phone)
    sms = await _until(registry, v["id"], "unreachable")
    assert sms["failures"] == 3
    assert (await _record(registry, v["id"]))["phone_flag"].startswith("30003")


async def test_an_admin_clears_a_block_with_a_reason_and_it_is_audited(registry: Registry) -> None:
    v = await registry.volunteer(await registry.team("360702"))
    phone = v["phone"]
    await _send(registry, _flag(phone, 30004), phone)
    await _until(registry, v["id"], "carrier_blocked")
    await _send(registry, _opt(phone, out=False, keyword="START"), phone)
    await eventually(lambda: _published(registry), timeout=30, what="outbox drained")
    path = f"/v1/volunteers/{v['id']}/reachability/sms/clear"
    async with registry.client("supervisor", "360702") as c:
        assert (await c.post(path, json={"reason": "号码已核实"})).status_code == 403
    async with registry.client() as c:
        bad = await c.post(path, json={})
        assert bad.status_code == 422 and "reason" in bad.text
        r = await c.post(path, json={"reason": "号码已核实，用户来电确认"})
        assert r.status_code == 200, r.text
    sms = (await _reach(registry, v["id"]))["sms"]
    assert (sms["state"], sms["set_by"]) == ("ok", "admin:admin-test")
    audit = await registry.pool.fetch(
        "SELECT from_state, to_state, actor, reason FROM reachability_audit"
        " WHERE volunteer_id = $1::uuid ORDER BY id", v["id"])
    assert [tuple(a) for a in audit][-1] == (
        "carrier_blocked", "ok", "admin:admin-test", "号码已核实，用户来电确认")
    assert (await _record(registry, v["id"]))["phone_flag"] is None
