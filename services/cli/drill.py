"""`baiying drill`: raise a realistic incident in 章贡区 and play the volunteers answering."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

import httpx
import typer

from baiying_cli.drill_plan import arrival_delay, classify, code_of, decide
from baiying_shared.auth import mint_token
from baiying_shared.privacy import mask_phone
from baiying_shared.settings import CommonSettings

INCIDENT: dict[str, Any] = {
    "title": "商铺抢夺嫌疑人沿文清路逃窜",
    "description": "店主报称一名男子抢夺手机后向南逃窜，身穿灰色外套，请就近协助观察、劝阻并报告。",
    "category": "robbery",
    "kind": "callout",
    "location": {"lat": 25.8512, "lon": 114.9329},
    "address": "章贡区文清路 88 号（文清路与阳明路交叉口东北角）",
    "area": "文清路",
    "district": "360702",
    "radius_m": 600,
    "need": {"teams": {"patrol": 2, "information_officer": 1}},
    "escalation": {"rounds": 3, "widening": 2.0, "wait_s": 20},
}
FINAL = ("staffed", "unmet", "cancelled", "closed")


class Drill:
    """One drill run: raise, then answer every alert the sandbox's phones receive."""

    def __init__(
        self, *, dispatcher: str, sandbox: str, seed: int, wait_s: float, pace: float
    ) -> None:
        token = mint_token(CommonSettings(), sub="drill", role="duty_desk", districts=["360702"])
        self.api = httpx.AsyncClient(base_url=dispatcher, timeout=10,
                                     headers={"Authorization": f"Bearer {token}"})
        self.phones = httpx.AsyncClient(base_url=sandbox, timeout=10)
        self.rng = random.Random(seed)
        self.start = time.monotonic()
        self.seen: dict[str, int] = {}
        self.pending: set[asyncio.Task[None]] = set()
        self.incident: dict[str, Any] = {}
        self.request = {**INCIDENT, "escalation": {**INCIDENT["escalation"], "wait_s": wait_s}}
        self.replies = 0
        self.pace = pace  # < 1 makes the simulated people answer faster (tests)

    def say(self, text: str) -> None:
        typer.echo(f"[{time.monotonic() - self.start:6.1f}s] {text}")

    async def run(self, *, limit_s: float) -> dict[str, Any]:
        """Raise the incident and play answers until it is final or `limit_s` passes."""
        before = (await self.phones.get("/v1/phones")).json()
        self.seen = {p["number"]: p["received"] for p in before}
        raised = await self.api.post("/v1/incidents", json=self.request,
                                     headers={"Idempotency-Key": uuid.uuid4().hex})
        raised.raise_for_status()
        self.incident = raised.json()
        self.say(f"raised {self.incident['title']} — need 2 patrol + 1 information officer, "
                 f"radius {self.incident['radius_m']} m")
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline and self.incident["status"] not in FINAL:
            await self._tick()
            await asyncio.sleep(0.5)  # a drill paces itself like people reading their phones
        await asyncio.gather(*self.pending, return_exceptions=True)
        return self.incident

    async def _tick(self) -> None:
        before = self.incident
        self.incident = (await self.api.get(f"/v1/incidents/{before['id']}")).json()
        if self.incident["round"] != before["round"]:
            self.say(f"round {self.incident['round']}: widened to {self.incident['radius_m']} m")
        if self.incident["status"] != before["status"]:
            self.say(f"status → {self.incident['status']}")
        for phone in (await self.phones.get("/v1/phones")).json():
            number, count = phone["number"], phone["received"]
            if count > self.seen.get(number, 0):
                messages = (await self.phones.get(f"/v1/phones/{number}/messages")).json()
                for message in messages[self.seen.get(number, 0):]:
                    self._on_message(number, message["body"])
                self.seen[number] = count

    def _on_message(self, number: str, body: str) -> None:
        kind = classify(body)
        if kind == "alert":
            answer = decide(self.rng, round_no=self.incident["round"], code=code_of(body))
            self.say(f"alert → {mask_phone(number)} ({answer.action})")
            if answer.reply:
                self._later(answer.delay_s, number, answer.reply, answer.action)
        elif kind == "confirmation":
            delay = arrival_delay(self.rng)
            if delay >= 0:
                self._later(delay, number, f"3 {code_of(body) or ''}".strip(), "arrived")

    def _later(self, delay: float, number: str, text: str, action: str) -> None:
        async def reply() -> None:
            await asyncio.sleep(delay * self.pace)  # a person takes a while to answer
            r = await self.phones.post(f"/v1/phones/{number}/reply", json={"body": text})
            self.replies += r.status_code < 400
            self.say(f"{mask_phone(number)} replies {text!r} ({action})"
                     + ("" if r.status_code < 400 else f" — failed {r.status_code}"))

        task = asyncio.create_task(reply())
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def close(self) -> None:
        await self.api.aclose()
        await self.phones.aclose()


async def run_drill(
    *, dispatcher: str, sandbox: str, seed: int, limit_s: float, wait_s: float = 20.0,
    pace: float = 1.0,
) -> tuple[dict[str, Any], int]:
    """Run one drill, print its summary; return the final incident and the replies sent."""
    drill = Drill(dispatcher=dispatcher, sandbox=sandbox, seed=seed, wait_s=wait_s, pace=pace)
    try:
        final = await drill.run(limit_s=limit_s)
    finally:
        await drill.close()
    cover = final.get("coverage") or {}
    missing = ", ".join(f"{k} ×{n}" for k, n in (cover.get("missing") or {}).items()) or "none"
    typer.echo(
        f"\nincident {final['id']}: {final['status']} after round {final['round']} "
        f"(radius {final['radius_m']} m); called {final['called']}, accepted {final['accepted']}; "
        f"coverage {cover.get('filled')}/{cover.get('required')} (missing: {missing}); "
        f"first accept {final['time_to_first_accept_s']} s, staffed {final['time_to_staffed_s']} s"
    )
    return final, drill.replies


def register(app: typer.Typer) -> None:
    """Add `drill` to the CLI."""

    @app.command()
    def drill(
        dispatcher: str = "http://127.0.0.1:8002",
        sandbox: str = "http://127.0.0.1:8010",
        seed: int = 7,
        limit_s: float = 180.0,
        wait_s: float = 20.0,
    ) -> None:
        """Raise an incident in 章贡区 and play volunteers answering (run `baiying run` first)."""
        asyncio.run(run_drill(
            dispatcher=dispatcher, sandbox=sandbox, seed=seed, limit_s=limit_s, wait_s=wait_s))
