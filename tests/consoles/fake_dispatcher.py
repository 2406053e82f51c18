"""A stand-in for the dispatcher API, for browser tests of the consoles alone.

It answers with the dispatcher's own response models (IncidentOut, CalloutOut, StatsOut) and
validates raises with its IncidentIn, so the pages are exercised against the real shapes; only
the mobilisation behind them is scripted (`answer()` moves a call-out and streams the change).
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import StreamingResponse

from baiying_consoles import router as consoles_router
from baiying_consoles.config import MapSettings
from baiying_dispatcher import stream_api
from baiying_dispatcher.coverage import coverage
from baiying_dispatcher.gazetteer.api import AddressOut
from baiying_dispatcher.nextsteps import StepIn
from baiying_dispatcher.schemas import CalloutOut, IncidentIn, IncidentOut, StatRow, StatsOut
from baiying_shared.auth import DutyDeskPrincipal, Principal, StaffPrincipal
from baiying_shared.errors import InvalidField
from baiying_shared.events.common import GeoPoint
from baiying_shared.reference import raw as reference
from baiying_shared.settings import CommonSettings
from baiying_shared.stream_tickets import StreamPrincipal
from baiying_shared.web import install_common

NAMES = ["刘伟", "陈静", "王强", "李娜", "张敏", "黄磊", "赵丽", "周杰", "吴芳", "徐斌"]
TEAMS = ["patrol", "information_officer", "community_security", "security_volunteer",
         "building_watch", "patrol", "unit_guard", "information_officer", "patrol", "patrol"]


@dataclass(frozen=True)
class _Mix:
    total: int
    teams: dict[str, int]
    skills: dict[str, int]


@dataclass(frozen=True)
class _Person:
    team_type: str
    skills: frozenset[str]


def _around(lat: float, lon: float, distance_m: float, bearing: float) -> tuple[float, float]:
    dlat = distance_m * math.cos(bearing) / 110_574
    dlon = distance_m * math.sin(bearing) / (111_320 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


class FakeDispatcher:
    def __init__(self) -> None:
        self.incidents: dict[uuid.UUID, dict[str, Any]] = {}
        self.callouts: dict[uuid.UUID, list[dict[str, Any]]] = {}
        self.subscribers: list[tuple[list[str] | None, asyncio.Queue[dict[str, Any]]]] = []
        self.keys: dict[str, uuid.UUID] = {}
        self.addresses: list[AddressOut] = []  # the standard-address gazetteer
        self.steps: list[tuple[uuid.UUID, dict[str, Any]]] = []  # next steps taken
        self.audits: dict[uuid.UUID, list[dict[str, Any]]] = {}

    def address(self, address: str, district: str, community: str, lat: float,
                lon: float) -> None:
        label = f"{district} {address}（{community}）"
        self.addresses.append(AddressOut(
            id=len(self.addresses) + 1, address=address, district=district,
            district_name=district, community=community, police_room="", area=community,
            label=label, lat=lat, lon=lon, score=1.0))

    def add(self, body: IncidentIn, *, ago_s: float = 0, called: int = 8) -> dict[str, Any]:
        """Store an incident with `called` call-outs around it, nearest first."""
        now = datetime.now(UTC) - timedelta(seconds=ago_s)
        need = body.need.model_dump() if body.need else {"total": None, "teams": {}, "skills": {}}
        inc = {
            "id": uuid.uuid4(), "kind": body.kind, "title": body.title,
            "description": body.description, "category": body.category, "district": body.district,
            "area": body.area or "", "address": body.address, "location": body.location,
            "status": "mobilising" if body.kind == "callout" else "issued", "round": 1,
            "rounds": 3, "radius_m": body.radius_m or 3000, "need": need,
            "escalation": {"rounds": 3, "widening": 2.0, "wait_s": 90}, "advice": body.advice,
            "created_by": "desk", "created_at": now, "next_round_at": None,
            "first_accept_at": None, "staffed_at": None,
        }
        self.incidents[inc["id"]] = inc
        self.callouts[inc["id"]] = [self._callout(inc, i, now) for i in range(called)]
        return inc

    def _callout(self, inc: dict[str, Any], i: int, at: datetime) -> dict[str, Any]:
        distance = 250 + i * inc["radius_m"] / 10
        lat, lon = _around(inc["location"].lat, inc["location"].lon, distance, i * 2.4)
        return {
            "id": uuid.uuid4(), "volunteer_id": uuid.uuid4(), "name": NAMES[i % len(NAMES)],
            "phone": "+86 138****0000", "team_type": TEAMS[i % len(TEAMS)], "skills": [],
            "distance_m": int(distance), "rank": i + 1, "round": 1 + i // 6, "state": "delivered",
            "delivery_status": "delivered", "lat": lat, "lon": lon,
            "created_at": at + timedelta(seconds=1 + 30 * (i // 6)), "delivered_at": at,
            "answered_at": None, "accepted_at": None, "arrived_at": None, "stood_down_at": None,
        }

    def answer(self, incident_id: uuid.UUID, rank: int, state: str, *, after_s: float = 0) -> None:
        """Move one call-out (and the incident's progress), then stream both changes."""
        inc, c = self.incidents[incident_id], self.callouts[incident_id][rank - 1]
        c["state"] = state
        at = inc["created_at"] + timedelta(seconds=after_s) if after_s else datetime.now(UTC)
        c["answered_at"] = at
        if state == "accepted":
            c["accepted_at"] = at
            inc["first_accept_at"] = inc["first_accept_at"] or at
        if self._accepted(incident_id) >= self._needed(inc) and inc["status"] == "mobilising":
            inc["status"], inc["staffed_at"] = "staffed", at
        base = {"incident_id": str(incident_id), "district": inc["district"]}
        self._publish({**base, "type": "callout", "callout_id": str(c["id"]), "state": state,
                       "name": c["name"], "lat": c["lat"], "lon": c["lon"]})
        self._publish({**base, "type": "incident", "status": inc["status"]})

    def _accepted(self, incident_id: uuid.UUID) -> int:
        return sum(c["state"] in ("accepted", "arrived") for c in self.callouts[incident_id])

    @staticmethod
    def _needed(inc: dict[str, Any]) -> int:
        need = inc["need"]
        return int(max(need.get("total") or 0, sum(need.get("teams", {}).values())))

    def _publish(self, notice: dict[str, Any]) -> None:
        for districts, queue in self.subscribers:
            if districts is None or notice["district"] in districts:
                queue.put_nowait(notice)

    def out(self, incident_id: uuid.UUID) -> IncidentOut:
        inc, calls = self.incidents[incident_id], self.callouts[incident_id]
        counts: dict[str, int] = {}
        for c in calls:
            counts[c["state"]] = counts.get(c["state"], 0) + 1

        def seconds(t: datetime | None) -> float | None:
            return (t - inc["created_at"]).total_seconds() if t else None

        missing = max(0, self._needed(inc) - self._accepted(incident_id))
        need = inc["need"]
        mix = _Mix(need.get("total") or 0, dict(need.get("teams") or {}),
                   dict(need.get("skills") or {}))
        people = {st: [_Person(c["team_type"], frozenset(c["skills"])) for c in calls
                       if c["state"] in sts]
                  for st, sts in (("yes", ("accepted", "arrived")), ("out", ("delivered",)))}
        cover = coverage(mix, people["yes"], people["out"]).as_dict()
        return IncidentOut(
            **inc, time_to_first_accept_s=seconds(inc["first_accept_at"]),
            time_to_staffed_s=seconds(inc["staffed_at"]), counts=counts,
            deliveries={"delivered": len(calls)}, accepted=self._accepted(incident_id),
            called=len(calls), missing={"any": missing} if missing else {},
            coverage=cover if inc["kind"] == "callout" else None,
        )

    def visible(self, principal: Principal, incident_id: uuid.UUID) -> dict[str, Any]:
        inc = self.incidents.get(incident_id)
        if inc is None or not principal.may_act_in(inc["district"]):
            raise HTTPException(404, f"no incident {incident_id}")
        return inc


def _n(v: object) -> int:
    return v if isinstance(v, int) else 0


def _stats(fake: FakeDispatcher, scope: list[str] | None) -> StatsOut:
    rows: dict[str, dict[str, list[float]]] = {"team": {}, "district": {}}
    for iid, calls in fake.callouts.items():
        inc = fake.incidents[iid]
        if scope is not None and inc["district"] not in scope:
            continue
        for c in calls:
            took = (c["accepted_at"] - c["created_at"]).total_seconds() if c["accepted_at"] else -1
            rows["team"].setdefault(c["team_type"], []).append(took)
            rows["district"].setdefault(inc["district"], []).append(took)

    def stat(key: str, took: list[float]) -> StatRow:
        ok = sorted(t for t in took if t >= 0)
        median = ok[len(ok) // 2] if ok else None
        return StatRow(key=key, called=len(took), accepted=len(ok),
                       acceptance_rate=len(ok) / len(took), median_accept_s=median)

    every = [t for v in rows["team"].values() for t in v]
    covers = [fake.out(i).coverage for i, inc in fake.incidents.items()
              if inc["kind"] == "callout" and (scope is None or inc["district"] in scope)]
    totals = {"incidents": len(covers), "complete": sum(bool(c and c["complete"]) for c in covers),
              "filled": sum(_n(c["filled"]) for c in covers if c),
              "required": sum(_n(c["required"]) for c in covers if c)}
    return StatsOut(overall=stat("all", every or [-1]), coverage=totals,
                    by_team_type=[stat(k, v) for k, v in sorted(rows["team"].items())],
                    by_district=[stat(k, v) for k, v in sorted(rows["district"].items())])


def api(fake: FakeDispatcher) -> APIRouter:
    r = APIRouter(prefix="/v1")

    @r.get("/reference")
    async def reference_() -> dict[str, object]:
        return reference()

    @r.post("/incidents", status_code=201)
    async def raise_(body: IncidentIn, p: DutyDeskPrincipal) -> IncidentOut:
        p.ensure_district(body.district)
        if body.location.lat < 24.6:  # stands in for the dispatcher's service-area check
            raise InvalidField("location", "35.2 km outside the districts you hold")
        inc = fake.add(body)
        return fake.out(inc["id"])

    @r.get("/incidents")
    async def list_(p: StaffPrincipal, limit: int = 100,
                    status: str | None = None) -> list[IncidentOut]:
        scope = p.district_filter()
        found = [i for i in fake.incidents.values() if (scope is None or i["district"] in scope)
                 and status in (None, i["status"])]
        found.sort(key=lambda i: i["created_at"], reverse=True)
        return [fake.out(i["id"]) for i in found[:limit]]

    @r.get("/incidents/{incident_id}")
    async def get(incident_id: uuid.UUID, p: StaffPrincipal) -> IncidentOut:
        return fake.out(fake.visible(p, incident_id)["id"])

    @r.get("/incidents/{incident_id}/callouts")
    async def callouts(incident_id: uuid.UUID, p: StaffPrincipal) -> list[CalloutOut]:
        fake.visible(p, incident_id)
        return [CalloutOut(**c) for c in fake.callouts[incident_id]]

    @r.get("/incidents/{incident_id}/audit")
    async def audit(incident_id: uuid.UUID, p: StaffPrincipal) -> list[dict[str, Any]]:
        inc = fake.visible(p, incident_id)
        return [{"at": inc["created_at"], "actor": "desk", "role": "duty_desk", "action": "raise",
                 "detail": {}}, *fake.audits.get(incident_id, [])]

    @r.get("/incidents/{incident_id}/next-steps")
    async def offered(incident_id: uuid.UUID, p: DutyDeskPrincipal) -> dict[str, Any]:
        inc = fake.visible(p, incident_id)
        live = inc["status"] in ("mobilising", "unmet")
        steps = ["another_round", "widen", "change_need", "extend", "phoned_reply", "advisory"]
        return {"status": inc["status"], "offered": steps if live else []}

    @r.post("/incidents/{incident_id}/next-steps")
    async def take(incident_id: uuid.UUID, step: StepIn, p: DutyDeskPrincipal) -> dict[str, Any]:
        inc = fake.visible(p, incident_id)
        body = step.model_dump(mode="json")
        fake.steps.append((incident_id, body))
        if body["action"] == "widen":
            inc["radius_m"] = body["radius_m"]
        fake.audits.setdefault(incident_id, []).append(
            {"at": datetime.now(UTC), "actor": p.sub, "role": p.role,
             "action": f"next_step:{body['action']}", "detail": body})
        fake._publish({"type": "incident", "incident_id": str(incident_id),
                       "district": inc["district"], "status": inc["status"]})
        return {"action": body["action"], "detail": body,
                "incident": fake.out(incident_id).model_dump(mode="json")}

    @r.post("/incidents/{incident_id}/{verb}")
    async def end(incident_id: uuid.UUID, verb: str, p: StaffPrincipal) -> IncidentOut:
        inc = fake.visible(p, incident_id)
        inc["status"] = {"cancel": "cancelled", "close": "closed"}[verb]
        fake._publish({"type": "incident", "incident_id": str(incident_id),
                       "district": inc["district"], "status": inc["status"]})
        return fake.out(incident_id)

    @r.get("/gazetteer/search")
    async def search(q: str, p: StaffPrincipal, limit: int = 10) -> list[AddressOut]:
        scope = p.district_filter()
        return [a for a in fake.addresses if q in a.address
                and (scope is None or a.district in scope)][:limit]

    @r.get("/stats")
    async def stats(p: StaffPrincipal) -> StatsOut:
        return _stats(fake, p.district_filter())

    r.add_api_route("/stream/tickets", stream_api.ticket, methods=["POST"])  # the real one

    @r.get("/stream")
    async def stream(p: StreamPrincipal) -> StreamingResponse:  # the real ticket check
        return StreamingResponse(_sse(fake, p.district_filter()), media_type="text/event-stream")

    return r


async def _sse(fake: FakeDispatcher, scope: list[str] | None) -> AsyncIterator[bytes]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    entry = (scope, queue)
    fake.subscribers.append(entry)
    try:
        yield b": connected\n\n"
        while True:
            try:
                notice = await asyncio.wait_for(queue.get(), 1.0)
            except TimeoutError:
                yield b": keepalive\n\n"
                continue
            yield f"event: {notice['type']}\ndata: {json.dumps(notice)}\n\n".encode()
    finally:
        fake.subscribers.remove(entry)


def app_with(fake: FakeDispatcher, map_settings: MapSettings | None = None) -> FastAPI:
    """The consoles router beside the fake API, as the dispatcher will mount it."""
    app = FastAPI()
    app.state.settings = CommonSettings()
    install_common(app, service="fake-dispatcher")
    app.include_router(api(fake))
    app.include_router(consoles_router(map_settings or MapSettings(tiles="")))
    return app


def sample(fake: FakeDispatcher) -> dict[str, uuid.UUID]:
    """A realistic board: one staffed, one mobilising, one unmet in 章贡区; one in 南康区."""
    def body(title: str, district: str, lat: float, lon: float, need: dict[str, Any]) -> IncidentIn:
        return IncidentIn(title=title, category="theft", location=GeoPoint(lat=lat, lon=lon),
                          address="红旗大道 18 号", area="东外街道", district=district, need=need)

    staffed = fake.add(body("商场走失儿童协查", "360702", 25.829, 114.933, {"total": 3}), ago_s=900)
    for rank, after in ((1, 38), (2, 52), (4, 95)):
        fake.answer(staffed["id"], rank, "accepted", after_s=after)
    fake.answer(staffed["id"], 3, "declined", after_s=40)
    unmet = fake.add(body("夜间仓库异响", "360702", 25.80, 114.95, {"teams": {"patrol": 4}}),
                     ago_s=3600, called=5)
    fake.answer(unmet["id"], 1, "accepted", after_s=120)
    unmet["status"] = "unmet"
    nankang = fake.add(body("南康家具城纠纷", "360703", 25.66, 114.77, {"total": 2}), ago_s=600)
    return {"staffed": staffed["id"], "unmet": unmet["id"], "nankang": nankang["id"]}
