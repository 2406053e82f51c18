"""Text PostgreSQL cannot store (NUL) is a 422 with a reason, not a 500 (found by schemathesis)."""

from __future__ import annotations

import httpx

from tests.system.harness import System


async def test_nul_in_text_is_422(system: System) -> None:
    admin = {"Authorization": f"Bearer {system.token('admin')}"}
    async with httpx.AsyncClient(headers=admin) as http:
        team = await http.post(f"{system.registry_url}/v1/teams", json={
            "name": "巡防\x00队", "type": "patrol", "district": "360702"})
        incident = await http.post(f"{system.dispatcher_url}/v1/incidents", json={
            "title": "可疑\x00人员", "category": "suspicious", "address": "章贡区",
            "location": {"lat": 25.70, "lon": 114.20}, "district": "360702",
            "need": {"total": 1}})
    for answer in (team, incident):
        assert answer.status_code == 422, answer.text
        assert "NUL" in answer.json()["error"]
