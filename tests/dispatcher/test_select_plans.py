"""The selection's plans (not timed): every filter mix walks a KNN index, never the table.

20,000 synthetic responders (the benchmark's mix: seven team types, half first-aiders (below),
eighteen districts, 70 % on duty) are loaded and ANALYZEd inside a transaction that is rolled
back, so the planner sees representative statistics and the other tests never see the rows.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest

from baiying_dispatcher.domain import Component
from baiying_dispatcher.index import explain_nearest
from bench.dispatch_common import LAT, LON, load_volunteers
from tests.dispatcher.test_selection import CLOCK, pool  # noqa: F401  (the fixture)

CENTRE = {"lat": sum(LAT) / 2, "lon": sum(LON) / 2}
WALKED = {"responders", "responder_facets"}

# (component, districts, the index the walk must use): with districts, one walk per district.
MIXES = [
    (Component(), None, "responders_callable_knn"),
    (Component(team_type="patrol"), None, "responders_callable_knn_patrol"),
    (Component(team_type="information_officer"), None,
     "responders_callable_knn_information_officer"),
    (Component(skill="first_aid"), None, "responder_facets_knn"),
    (Component(team_type="information_officer", skill="first_aid"), None, "responder_facets_knn"),
    (Component(), ["360702"], "responder_facets_knn"),
    (Component(team_type="patrol"), ["360702"], "responder_facets_knn"),
    (Component(skill="first_aid"), ["360702"], "responder_facets_knn"),
    # (a team type's first-aiders in one district are ~50 here, fewer than a ring, so reading
    # them and sorting is rightly cheaper; at 1,000,000, ~320, bench/dispatch_select.py checks)
    (Component(skill="first_aid"), ["360702", "360703"], "responder_facets_knn"),
    (Component(), ["360702", "360703"], "responder_facets_knn"),
    (Component(team_type="patrol"), ["360702", "360703", "360704"], "responder_facets_knn"),
    # several walks each take a share of the first ring (walk._first_take), still a KNN walk
    (Component(), ["360702", "360704", "360781"], "responder_facets_knn"),
    (Component(), ["360702", "360703", "360704", "360781"], "responder_facets_knn"),
]


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def walk_problems(plan_json: Any, index: str) -> list[str]:
    """What is wrong with a selection plan: a scan of a walked table, or no KNN walk on `index`."""
    doc = json.loads(plan_json) if isinstance(plan_json, str) else plan_json
    nodes = list(_nodes(doc[0]["Plan"]))
    problems = [f"{n['Node Type']} on {n['Relation Name']}" for n in nodes
                if n.get("Relation Name") in WALKED and n["Node Type"] != "Index Scan"
                and not (n["Node Type"] == "Index Only Scan" and n.get("Index Name", "")
                         .endswith("pkey"))]
    knn = [n for n in nodes if n.get("Index Name") == index and "<->" in str(n.get("Order By"))]
    if not knn:
        problems.append(f"no KNN walk (Order By <->) on {index}")
    problems += [f"{n['Node Type']} ({n.get('Sort Key')})" for n in nodes
                 if n["Node Type"] in ("Sort", "Incremental Sort")]
    return problems


@pytest.fixture
async def loaded(pool: asyncpg.Pool[Any]) -> AsyncIterator[asyncpg.Connection[Any]]:  # noqa: F811
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            # At 1,000,000 a district's first-aiders (~2,200) are many rings; at 20,000 a tenth
            # would be fewer than one ring, where reading them all and sorting is rightly the
            # cheaper plan. Half of the people know first aid here, to keep the proportions.
            await load_volunteers(conn, 20_000, chunk=20_000, first_aid_every=2)
            await conn.execute("ANALYZE responder_facets")
            yield conn
        finally:
            await tx.rollback()


async def _plan(conn: asyncpg.Connection[Any], want: Component, districts: list[str] | None,
                *, analyze: bool = False) -> Any:
    return await explain_nearest(conn, **CENTRE, radius_m=20_000, clock=CLOCK, limit=100,
                                 want=want, districts=districts, json=True, analyze=analyze)


async def test_every_filter_mix_walks_an_index(loaded: asyncpg.Connection[Any]) -> None:
    problems = {}
    for want, districts, index in MIXES:
        found = walk_problems(await _plan(loaded, want, districts), index)
        if found:
            problems[f"{want.key} {want.skill} {districts}"] = found
    assert not problems, problems


async def test_several_districts_walk_one_facet_each(loaded: asyncpg.Connection[Any]) -> None:
    """Patrol first-aiders in three districts: three KNN walks of the facet index, each bound to
    its own district's key (the facet's hash, migration 0022), in one statement."""
    districts = ["360702", "360703", "360704"]
    plan = await _plan(loaded, Component(team_type="patrol", skill="first_aid"), districts)
    assert walk_problems(plan, "responder_facets_knn") == []
    conds = sorted(n["Index Cond"] for n in _nodes(plan[0]["Plan"])
                   if n.get("Index Name") == "responder_facets_knn")
    keys = await loaded.fetch("SELECT hashtextextended(f, 0) FROM unnest($1::text[]) f",
                              [f"district:{d}/type:patrol/skill:first_aid" for d in districts])
    assert conds == sorted(f"(key = '{k[0]}'::bigint)" for k in keys)


@pytest.mark.parametrize(("drop", "want", "districts"), [
    ("responders_callable_knn_patrol", Component(team_type="patrol"), None),
    ("responder_facets_knn", Component(skill="first_aid"), None),
    ("responders_callable_knn", Component(), None),
])
async def test_the_check_fails_without_the_index(
    loaded: asyncpg.Connection[Any], drop: str, want: Component, districts: list[str] | None
) -> None:
    """The plan check is not vacuous: drop the index (rolled back) and it reports the walk lost."""
    index = next(i for w, d, i in MIXES if w == want and d == districts)
    assert index == drop
    assert walk_problems(await _plan(loaded, want, districts), index) == []
    await loaded.execute(f"DROP INDEX {drop}")
    assert walk_problems(await _plan(loaded, want, districts), index) != []


async def test_the_facets_follow_the_responders(loaded: asyncpg.Connection[Any]) -> None:
    """The trigger keeps one facet row per key of every callable responder, and only theirs."""
    mismatch = await loaded.fetchval("""
        SELECT count(*) FROM (
            (SELECT f, r.volunteer_id FROM responders r,
                    unnest(responder_facet_keys(r.skills, r.district, r.team_type)) f
             WHERE r.callable
             EXCEPT SELECT facet, volunteer_id FROM responder_facets)
            UNION ALL
            (SELECT facet, volunteer_id FROM responder_facets
             EXCEPT SELECT f, r.volunteer_id FROM responders r,
                    unnest(responder_facet_keys(r.skills, r.district, r.team_type)) f
             WHERE r.callable)) d""")
    assert mismatch == 0
    some = await loaded.fetchval(
        "SELECT volunteer_id FROM responders WHERE callable AND 'first_aid' = ANY(skills) LIMIT 1")
    await loaded.execute("UPDATE responders SET skills = '{}', callable = true"
                         " WHERE volunteer_id = $1", some)
    keys = await loaded.fetchval(
        "SELECT array_agg(facet ORDER BY facet) FROM responder_facets WHERE volunteer_id = $1",
        some)
    assert keys and not any("skill" in k for k in keys)
    await loaded.execute("UPDATE responders SET callable = false WHERE volunteer_id = $1", some)
    assert not await loaded.fetchval(
        "SELECT count(*) FROM responder_facets WHERE volunteer_id = $1", some)
