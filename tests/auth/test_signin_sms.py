"""Volunteer sign-in by SMS code on the real notifier, broker, database and sandbox."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from baiying_notifier.config import NotifierSettings
from baiying_notifier.signin.domain import START_ANSWER, Limits
from baiying_shared.auth import mint_token
from tests.notifier.conftest import notifier_settings  # noqa: F401  (fixture)
from tests.notifier.harness import System, issued, system
from tests.support import eventually

Factory = Callable[..., NotifierSettings]


def _phone() -> str:
    return f"+86137{random.randrange(10**8):08d}"


async def _known(s: System, language: str = "zh") -> tuple[str, str]:
    """A phone the notifier knows from a call-out it received; (phone, volunteer id)."""
    phone = _phone()
    alert = issued(phone=phone, language=language)
    await s.dispatcher.publish(alert)
    await s.wait_received([phone])
    return phone, str(alert.volunteer_id)


async def _code(s: System, phone: str, *, nth: int = 1) -> str:
    async def arrived() -> list[str]:
        return [m for m in s.received(phone) if "验证码" in m or "sign-in code" in m]

    codes = await eventually(
        lambda: _at_least(arrived, nth), timeout=30, what=f"sign-in SMS #{nth} to {phone}"
    )
    found = re.search(r"\d{6}", codes[nth - 1])
    assert found, codes
    return found.group(0)


async def _at_least(probe: Callable[[], object], n: int) -> list[str] | None:
    got: list[str] = await probe()  # type: ignore[misc]
    return got if len(got) >= n else None


async def test_code_signs_in_a_known_volunteer_and_unknown_numbers_get_the_same_answer(
    notifier_settings: Factory,  # noqa: F811
) -> None:
    async with system(notifier_settings) as s, httpx.AsyncClient(base_url=s.notifier_url) as http:
        phone, _ = await _known(s)
        stranger = _phone()
        known_r = await http.post("/v1/app/signin/code", json={"phone": phone})
        unknown_r = await http.post("/v1/app/signin/code", json={"phone": stranger})
        assert (known_r.status_code, known_r.json()) == (202, {"detail": START_ANSWER})
        assert (unknown_r.status_code, unknown_r.json()) == (known_r.status_code, known_r.json())
        code = await _code(s, phone)
        assert s.received(stranger) == []  # nobody off the roster gets an SMS
        bad = await http.post("/v1/app/signin/verify", json={"phone": phone, "code": "12345"})
        assert bad.status_code == 422 and "code" in bad.text
        ok = await http.post("/v1/app/signin/verify", json={"phone": phone, "code": code})
        assert ok.status_code == 200, ok.text
        token = ok.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        [device] = (await http.get("/v1/app/devices", headers=auth)).json()
        assert device["device_id"] == ok.json()["device_id"] and device["current"] is True
        replay = await http.post("/v1/app/signin/verify", json={"phone": phone, "code": code})
        assert replay.status_code == 401  # a code works once
        stranger_guess = await http.post(
            "/v1/app/signin/verify", json={"phone": stranger, "code": code}
        )
        assert stranger_guess.json() == replay.json()


async def test_expiry_attempts_and_rate_limits(notifier_settings: Factory) -> None:  # noqa: F811
    async with system(notifier_settings) as s, httpx.AsyncClient(base_url=s.notifier_url) as http:
        base = s.notifier.state.signin
        s.notifier.state.signin = replace(base, limits=Limits(max_attempts=3, per_address=6))
        expiring, _ = await _known(s)
        await http.post("/v1/app/signin/code", json={"phone": expiring})
        code = await _code(s, expiring)
        s.notifier.state.signin = replace(s.notifier.state.signin, clock=lambda: time.time() + 301)
        late = await http.post("/v1/app/signin/verify", json={"phone": expiring, "code": code})
        assert late.status_code == 401
        s.notifier.state.signin = replace(s.notifier.state.signin, clock=time.time)

        guessed, _ = await _known(s)
        await http.post("/v1/app/signin/code", json={"phone": guessed})
        code = await _code(s, guessed)
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(3):
            r = await http.post("/v1/app/signin/verify", json={"phone": guessed, "code": wrong})
            assert r.status_code == 401
        dead = await http.post("/v1/app/signin/verify", json={"phone": guessed, "code": code})
        assert dead.status_code == 401  # three misses killed the code

        again = await http.post("/v1/app/signin/code", json={"phone": guessed})
        assert again.status_code == 202  # within a minute of the last code: same answer, no SMS
        # Address limit (6 per window here): this client has asked 3 times; 3 more use it up.
        for _ in range(3):
            await http.post("/v1/app/signin/code", json={"phone": _phone()})
        blocked, _ = await _known(s)
        r = await http.post("/v1/app/signin/code", json={"phone": blocked})
        assert (r.status_code, r.json()) == (202, {"detail": START_ANSWER})
        # Proof that nothing was sent: a later code request from elsewhere is the first to arrive.
        s.notifier.state.signin = replace(s.notifier.state.signin, limits=Limits())
        await http.post("/v1/app/signin/code", json={"phone": blocked})
        await _code(s, blocked)
        assert len([m for m in s.received(blocked) if "验证码" in m]) == 1
        assert len([m for m in s.received(guessed) if "验证码" in m]) == 1


async def test_revoking_a_device_closes_its_app_socket(notifier_settings: Factory) -> None:  # noqa: F811
    async with system(notifier_settings) as s, httpx.AsyncClient(base_url=s.notifier_url) as http:
        phone, _ = await _known(s, language="en")
        await http.post("/v1/app/signin/code", json={"phone": phone})
        code = await _code(s, phone)
        assert any("sign-in code" in m for m in s.received(phone))  # in the volunteer's language
        first = (
            await http.post("/v1/app/signin/verify", json={"phone": phone, "code": code})
        ).json()
        ws_url = (
            s.notifier_url.replace("http", "ws")
            + f"/v1/app/ws?access_token={first['access_token']}"
        )
        admin = mint_token(s.settings, sub="admin-1", role="admin", districts=["*"])
        async with connect(ws_url, open_timeout=10) as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"
            r = await http.delete(
                f"/v1/app/admin/devices/{first['device_id']}",
                headers={"Authorization": f"Bearer {admin}"},
            )
            assert r.status_code == 204, r.text
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        mine = await http.get(
            "/v1/app/devices", headers={"Authorization": f"Bearer {first['access_token']}"}
        )
        assert mine.status_code == 401
