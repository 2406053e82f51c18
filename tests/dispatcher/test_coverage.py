"""Coverage, one definition: the assignment against brute force, and numbers that add up."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from baiying_dispatcher.coverage import assign, coverage, headcount, slots, to_call
from baiying_dispatcher.domain import Need as N  # the production values, short names
from baiying_dispatcher.domain import Profile as P

TEAMS = ("patrol", "community_security", "information_officer")
SKILLS = ("first_aid", "swimming")

people = st.builds(
    P, st.sampled_from(TEAMS), st.frozensets(st.sampled_from(SKILLS), max_size=2)
)
needs = st.builds(
    N,
    st.integers(0, 5),
    st.dictionaries(st.sampled_from(TEAMS), st.integers(1, 3), max_size=2),
    st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 2), max_size=2),
).filter(lambda n: headcount(n) > 0)


def brute_force(need: N, crowd: list[P]) -> list[int]:
    """The lexicographically best fill (scarcest kind first) over every assignment."""
    caps = slots(need)
    best = [0] * len(caps)
    choices = [[None] + [i for i, (s, _) in enumerate(caps) if s.fits(p)] for p in crowd]
    for pick in itertools.product(*choices):
        got = [0] * len(caps)
        for i in pick:
            if i is not None:
                got[i] += 1
        if all(g <= n for g, (_, n) in zip(got, caps, strict=True)) and got > best:
            best = got
    return best


@settings(max_examples=300, deadline=None)
@given(needs, st.lists(people, max_size=6))
def test_assignment_is_the_best_one(need: N, crowd: list[P]) -> None:
    assert assign(slots(need), crowd) == brute_force(need, crowd)


@settings(max_examples=300, deadline=None)
@given(needs, st.lists(people, max_size=8), st.lists(people, max_size=8))
def test_numbers_add_up(need: N, accepted: list[P], out: list[P]) -> None:
    cov = coverage(need, accepted, out)
    assert cov.required == headcount(need)
    assert cov.filled == sum(ln.filled for ln in cov.lines) <= min(cov.accepted, cov.required)
    assert cov.accepted == len(accepted)
    assert sum(cov.missing.values()) == cov.required - cov.filled
    for ln in cov.lines:
        assert ln.filled + ln.missing == ln.required
        assert 0 <= ln.outstanding <= ln.missing
        assert ln.uncovered >= 0
    assert cov.outstanding <= len(out)
    wire = cov.as_dict()
    assert wire["filled"] == sum(x["filled"] for x in wire["lines"])


@settings(max_examples=300, deadline=None)
@given(needs, st.lists(people, max_size=6))
def test_complete_exactly_when_some_assignment_staffs_it(need: N, accepted: list[P]) -> None:
    cov = coverage(need, accepted)
    staffable = sum(brute_force(need, accepted)) == headcount(need)
    assert cov.complete is staffable
    assert cov.complete is (not cov.missing)


@settings(max_examples=200, deadline=None)
@given(needs, st.lists(people, max_size=6), st.lists(people, max_size=10),
       st.sampled_from([1.0, 1.5, 2.0]))
def test_to_call_stops_once_enough_are_in_flight(
    need: N, accepted: list[P], flying: list[P], over_call: float
) -> None:
    cov = coverage(need, accepted)
    asked = to_call(need, accepted, flying, over_call=over_call)
    assert sum(n for _, n in asked) <= sum(math.ceil(m * over_call) for m in cov.missing.values())
    if cov.complete:
        assert asked == []
    # Calling one person who fits the first want lowers what is still asked for.
    if asked:
        slot, _ = asked[0]
        fit = P(slot.team_type or "patrol", frozenset({slot.skill}) if slot.skill else frozenset())
        again = to_call(need, accepted, [*flying, fit], over_call=over_call)
        assert sum(n for _, n in again) == sum(n for _, n in asked) - 1


def test_one_person_counts_once_against_the_scarcest_component() -> None:
    need = N(teams={"patrol": 1}, skills={"first_aid": 1})
    medic_patrol = P("patrol", frozenset({"first_aid"}))
    cov = coverage(need, [medic_patrol])
    assert cov.required == 2 and cov.filled == 1
    assert cov.missing == {"team:patrol": 1}  # they went to first aid, the scarcer part
    # A plain patrol arriving later takes the patrol slot; the medic stays on first aid.
    assert coverage(need, [medic_patrol, P("patrol")]).complete


def test_the_drill_that_read_seven_of_three() -> None:
    need = N(total=3, teams={"patrol": 1})
    guards = [P("community_security")] * 7
    cov = coverage(need, guards)
    assert (cov.filled, cov.required, cov.accepted) == (2, 3, 7)
    assert cov.missing == {"team:patrol": 1}
    patrol_asked = coverage(need, guards, [P("patrol"), P("patrol")])
    assert patrol_asked.lines[0].outstanding == 1  # one of the two could fill it
