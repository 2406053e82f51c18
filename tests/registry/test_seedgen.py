"""Seed generation with plain values: exact counts, determinism, valid demo phones, places."""

from __future__ import annotations

from collections import Counter

import phonenumbers

from baiying_registry import seedgen
from baiying_registry.reference import ganzhou

REF = ganzhou()


def test_exact_counts_per_type_at_scale_1_and_3() -> None:
    for scale in (1, 3):
        teams = seedgen.plan_teams(REF, seed=1, scale=scale)
        people = list(seedgen.volunteers(REF, teams, seed=1))
        per_team = Counter(t.type for t in teams)
        members = Counter(t.type for t in teams for _ in range(t.size))
        for f in REF.five_teams:
            assert per_team[f.type.value] == f.teams * scale
            assert members[f.type.value] == f.members * scale
        assert (len(teams), len(people)) == (1612 * scale, 12179 * scale)
        assert Counter(p.team_id for p in people) == {t.id: t.size for t in teams}


def test_deterministic_for_a_seed_and_different_across_seeds() -> None:
    def run(seed: int) -> list[seedgen.SeedVolunteer]:
        return list(seedgen.volunteers(REF, seedgen.plan_teams(REF, seed=seed, scale=1), seed=seed))

    assert run(4) == run(4)
    assert run(4) != run(5)


def test_people_are_valid_unique_and_in_place() -> None:
    teams = seedgen.plan_teams(REF, seed=2, scale=1)
    people = list(seedgen.volunteers(REF, teams, seed=2))
    phones = [p.phone for p in people]
    assert len(set(phones)) == len(phones)
    assert all(p.startswith(seedgen.DEMO_BLOCK_PREFIX) and len(p) == 14 for p in phones)
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in phones[:500])
    assert all(REF.bbox.contains(p.lat, p.lon) for p in people)
    assert {p.district for p in people} == {d.code for d in REF.divisions}
    assert len({p.id for p in people}) == len(people)
    assert all(2 <= len(p.name) <= 3 for p in people)
    leaders = {t.leader_id for t in teams}
    assert sum(p.id in leaders for p in people) == len(teams)


def test_demo_phones_are_a_bijection_of_the_block() -> None:
    sample = {seedgen.demo_phone(i, seed=9) for i in range(0, seedgen.DEMO_BLOCK_SIZE, 997)}
    assert len(sample) == len(range(0, seedgen.DEMO_BLOCK_SIZE, 997))
