"""Two registries, two dispatchers and three notifiers; one of each SIGKILLed under load.

Consumer groups share the partitions, one outbox relay per schema publishes and another
takes over when its holder dies, callbacks and replies reach whichever notifier is alive,
and a supervisor connected to the surviving dispatcher sees the whole story on the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.faults.conftest import FAULTS_ENV
from tests.faults.crowd import (
    add_crowd,
    advisory,
    callout,
    incident,
    indexed,
    raise_incident,
    received,
    sent_count,
    wait_served,
)
from tests.faults.infra import PrivateInfra
from tests.faults.instances import Instances, relay_holder
from tests.faults.scenes import fanout_under_way, served_once
from tests.support import eventually
from tests.system.harness import running_system

pytestmark = pytest.mark.faults

# Inside 章贡区, far enough apart that no call reaches the other group.
CROWD_PLACE = (25.86, 114.90)
SQUAD_PLACE = (25.80, 114.97)
NEED = 3


@pytest.fixture
async def many(private_infra: PrivateInfra) -> AsyncIterator[Instances]:
    private_infra.ensure_up()
    infra = private_infra.infra
    async with running_system(infra.admin_database_url, infra.kafka_bootstrap, make=Instances,
                              env_extra=dict(FAULTS_ENV),
                              counts={"registry": 2, "dispatcher": 2, "notifier": 3}) as system:
        assert isinstance(system, Instances)
        yield system


class Stream:
    """A supervisor's SSE connection to one dispatcher instance, collecting every notice."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.notices: list[dict[str, Any]] = []
        self.connected = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(timeout=None) as http, http.stream(
            "GET", f"{self.url}/v1/stream", headers=headers
        ) as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                self.connected.set()
                if line.startswith("data: "):
                    self.notices.append(json.loads(line[6:]))

    async def __aenter__(self) -> Stream:
        self.task = asyncio.create_task(self._read())
        await asyncio.wait_for(self.connected.wait(), 10)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.task is not None
        self.task.cancel()
        # The stream of a killed instance ended with a broken connection: that is expected.
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await self.task

    def about(self, incident_id: str) -> list[dict[str, Any]]:
        return [n for n in self.notices if n.get("incident_id") == incident_id]


async def reply(system: Instances, phone: str, body: str) -> None:
    await system.sandbox("POST", f"/v1/phones/{phone}/reply", json={"body": body})


async def test_one_of_each_killed_during_a_mobilisation(many: Instances) -> None:
    system = many
    crowd = await add_crowd(system, 300, near=CROWD_PLACE)
    squad = await add_crowd(system, 12, near=SQUAD_PLACE)
    await eventually(lambda: indexed(system, crowd + squad), timeout=60, what="people indexed")
    supervisor = system.token("supervisor", ["360702"])
    # The supervisor watches one dispatcher; which one survives is known only at the kill,
    # so watch both and read the survivor's.
    streams = {n: Stream(system.url(n), supervisor) for n in system.instances("dispatcher")}
    async with streams["dispatcher"], streams["dispatcher#2"]:
        load = await raise_incident(system, advisory(CROWD_PLACE))
        call = await raise_incident(system, callout(SQUAD_PLACE, need=NEED))

        async def under_way() -> bool:
            return await sent_count(system, crowd) >= 30 and await sent_count(system, squad) > 0

        await eventually(under_way, timeout=60, what="advisory and call-out under way")
        # SIGKILL one of each; the dispatcher killed is the one whose relay publishes.
        holder = await eventually(lambda: relay_holder(system, "dispatcher"), timeout=10,
                                  what="a dispatcher relay holding the lock")
        assert holder is not None
        survivor = next(n for n in system.instances("dispatcher") if n != holder)
        for name in ("registry", holder, "notifier"):
            await system.kill(name)
        assert await sent_count(system, crowd) < len(crowd), "killed while still sending"

        # Everyone in the squad answers yes, through whichever notifier is left.
        alerted = await wait_served(system, squad, 2 * NEED, within=60, what="squad alerted")
        for phone in [p for p, n in alerted.items() if n]:
            await reply(system, phone, "1")

        async def settled() -> dict[str, Any] | None:
            seen = await incident(system, call["id"])
            counts: dict[str, int] = seen["counts"]
            open_ = sum(counts.get(s, 0) for s in ("pending", "sent", "delivered"))
            return seen if seen["status"] == "staffed" and not open_ else None

        final = await eventually(settled, timeout=90, what="call-out staffed, the rest stood down")
        assert final is not None
        states: dict[str, int] = final["counts"]
        assert states.get("accepted") == NEED, states
        assert states.get("stood_down") == sum(states.values()) - NEED, states

        await served_once(system, crowd, within=120, what="advisory served")

        # Registry#2 takes new people and dispatcher#2 indexes them; a call-out raised now
        # leaves through the relay that took over from the killed dispatcher.
        late_people = await add_crowd(system, 4, near=(25.84, 115.00))
        await eventually(lambda: indexed(system, late_people), timeout=60,
                         what="new people indexed by the surviving dispatcher")
        late = await raise_incident(system, callout((25.84, 115.00), need=1))
        await wait_served(system, late_people, 2, within=60, what="late call-out sent")
        taken = await eventually(lambda: relay_holder(system, "dispatcher"), timeout=10,
                                 what="the surviving dispatcher's relay took the lock")
        assert taken == survivor
        stream = streams[survivor]

        async def story_seen() -> bool:
            mine = stream.about(call["id"])
            statuses = {n["status"] for n in mine if n["type"] == "incident"}
            accepted = {n["callout_id"] for n in mine
                        if n["type"] == "callout" and n["state"] == "accepted"}
            return "staffed" in statuses and len(accepted) == NEED and bool(
                stream.about(late["id"]))

        await eventually(story_seen, timeout=30, what="the whole story on the survivor's stream")
        assert stream.about(load["id"]), "the advisory appears on the stream too"

    # No SMS twice: per phone, no message body repeats (alert, confirmation, stand-down).
    for phone in squad:
        bodies = [m["body"] for m in await system.sandbox("GET", f"/v1/phones/{phone}/messages")]
        assert len(bodies) == len(set(bodies)), (phone, bodies)
    assert sum((await received(system, squad)).values()) >= 2 * NEED + NEED


async def test_rebalance_storm_during_a_fanout(many: Instances) -> None:
    system = many
    # 1,400 at 2 senders x 60 segments/s is tens of seconds of sending: long enough for several
    # stop/start steps of seconds each now that the pacer keeps to its full rate (900 were out
    # after two steps on a quiet CI box); each step costs the fan-out its lease moves, hence the
    # longer wait for every recipient below.
    crowd = (await fanout_under_way(system, crowd=1400, near=CROWD_PLACE, sent=1)).crowd
    notifiers = system.instances("notifier")
    # Stop (SIGTERM or SIGKILL) and start notifiers in turn while the advisory goes out,
    # keeping at least one running: each change makes the group rebalance. Each step takes
    # seconds by itself (a process exits, or starts and becomes ready).
    changes_mid_fanout = 0
    for step in range(8):
        if await sent_count(system, crowd) == len(crowd):
            break
        victim = notifiers[step % len(notifiers)]
        running = [n for n in notifiers if n in system.procs]
        if victim in system.procs and len(running) > 1:
            await system.kill(victim, signal.SIGTERM if step % 2 else signal.SIGKILL)
        else:
            await system.restart(victim)
        changes_mid_fanout += 1
    assert changes_mid_fanout >= 3, "the storm must happen while the advisory is going out"
    for name in notifiers:
        if name not in system.procs:
            await system.restart(name)
    await served_once(system, crowd, within=240, what="every recipient served")


async def test_the_app_works_through_any_notifier(many: Instances) -> None:
    """A volunteer's app on each notifier gets the alert whichever instance consumed it,
    and an accept sent through one instance staffs the incident."""
    system = many
    place = (25.83, 115.02)
    admin = {"Authorization": f"Bearer {system.token('admin')}"}
    async with httpx.AsyncClient(base_url=system.registry_url, headers=admin) as http:
        team = await http.post("/v1/teams", json={"name": "多实例看楼队", "type": "building_watch",
                                                  "district": "360702"})
        assert team.status_code == 201, team.text
        person = await http.post("/v1/volunteers", json={
            "name": "多实例队员", "phone": "+8617355500001", "team_id": team.json()["id"],
            "channels": ["app"], "home": {"lat": place[0], "lon": place[1]}})
        assert person.status_code == 201, person.text
    vid = uuid.UUID(person.json()["id"])
    await eventually(lambda: indexed(system, ["+8617355500001"]), timeout=30, what="indexed")
    token = system.token("volunteer", volunteer_id=vid)
    urls = [system.url(n).replace("http", "ws") + f"/v1/app/ws?access_token={token}"
            for n in system.instances("notifier")]
    async with contextlib.AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(connect(u, open_timeout=10)) for u in urls]
        call = await raise_incident(system, callout(place, need=1))
        cards = [await asyncio.wait_for(next_of(ws, "alert"), 30) for ws in sockets]
        assert {c["callout_id"] for c in cards} == {cards[0]["callout_id"]}
        await sockets[-1].send(json.dumps(
            {"type": "reply", "callout_id": cards[0]["callout_id"], "action": "accept"}))
        assert (await asyncio.wait_for(next_of(sockets[-1], "reply_ok"), 30))["action"] == "accept"

    async def staffed() -> bool:
        return (await incident(system, call["id"]))["status"] == "staffed"

    await eventually(staffed, timeout=30, what="staffed by the app's accept")


async def next_of(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        msg = json.loads(await ws.recv())
        if msg["type"] == kind:
            return dict(msg)
