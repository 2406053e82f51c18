"""The first ring's size (not timed): several walks share it, each with room for its spread.

A ring too small for the wanted count costs a second round trip (about as much as the first);
one far too big walks people nobody keeps. Both are results, not speed: the test checks sizes.
"""

from __future__ import annotations

import math

import pytest

from baiying_dispatcher.walk import _first_take, _merged, _Ring, _Walk


def _spread(limit: int, walks: int) -> float:
    # three standard deviations of a walk's count among the `limit` nearest (binomial)
    return 3 * math.sqrt(limit * (1 / walks) * (1 - 1 / walks))


@pytest.mark.parametrize("walks", [1, 2, 3, 4, 6, 18])
@pytest.mark.parametrize("limit", [1, 7, 60, 100, 250, 5000])
def test_the_walks_together_cover_a_quarter_more_than_wanted(limit: int, walks: int) -> None:
    take = _first_take(limit, walks)
    share = limit / walks
    assert take >= share * 1.25  # so the walks together hold a quarter more than wanted
    if walks > 1:  # and each has room for its share's spread, in steps of 8, no more
        room = share * 1.25 + _spread(limit, walks)
        assert take >= room and take % 8 == 0
        assert take <= max(16, room + 8)


def test_several_walks_do_not_each_take_a_power_of_two() -> None:
    """Three districts for 100 walk 3 x 56 (the power of two walked 3 x 64: 192 for 100), four
    4 x 48. One standard deviation of room (3 x 48, 4 x 40) needed a second ring in 5 and 4 of
    300 selections at 1,000,000 people; 4 x 32 one time in three."""
    assert _first_take(100, 1) == 128  # one walk as before
    assert _first_take(100, 2) == 80
    assert _first_take(100, 3) == 56
    assert _first_take(100, 4) == 48
    assert _first_take(10, 0) == 16  # an empty district list walks nothing, but must not fail


def test_a_person_two_walks_hold_is_kept_once() -> None:
    """Walks' keys are hashes (migration 0022): if two collided, both walks would return the
    same people. The merge keeps each once and still fills the limit from the others."""
    ring = _Ring(0, 16)
    a, b, c = ({"volunteer_id": n} for n in "abc")
    first = _Walk("district:1", ring, kept=[(10.0, a), (30.0, c)])
    second = _Walk("district:2", ring, kept=[(10.0, a), (20.0, b)])
    assert [r["volunteer_id"] for r in _merged([first, second], 3)] == ["a", "b", "c"]
    assert [r["volunteer_id"] for r in _merged([first, second], 2)] == ["a", "b"]
