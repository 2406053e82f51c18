"""Coverage, one definition: who of the accepted fits which part of the need. No I/O here.

A need is a set of slots: `skills[s]` slots that want skill s, `teams[t]` slots that want
team type t, and enough "any" slots to reach `total`. A person fills at most one slot, and
only one they match (a patrol member with first aid may fill a first-aid slot or a patrol
slot, never both). Which slot is a bipartite assignment, solved as a max-flow so the count
is the best possible; components are filled in priority order (skills, then teams, then any
— scarcest first), so a person counts against the component that needs them most.

The same assignment, run over the call-outs still out for the slots left empty, says how
many of the missing could still be filled by people already asked, and how many the
dispatcher must still call for.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class Person(Protocol):
    @property
    def team_type(self) -> str: ...

    @property
    def skills(self) -> frozenset[str]: ...


class Mix(Protocol):
    @property
    def total(self) -> int: ...

    @property
    def teams(self) -> Mapping[str, int]: ...

    @property
    def skills(self) -> Mapping[str, int]: ...


@dataclass(frozen=True)
class Slot:
    """One kind of slot: a skill, a team type, or (both None) anybody."""

    team_type: str | None = None
    skill: str | None = None

    def fits(self, p: Person) -> bool:
        if self.skill is not None:
            return self.skill in p.skills
        return self.team_type is None or p.team_type == self.team_type

    @property
    def key(self) -> str:
        if self.skill is not None:
            return f"skill:{self.skill}"
        return f"team:{self.team_type}" if self.team_type else "any"


def slots(mix: Mix) -> list[tuple[Slot, int]]:
    """The need's components in priority order (skills, teams, any), zero counts dropped."""
    out = [(Slot(skill=s), n) for s, n in sorted(mix.skills.items()) if n > 0]
    out += [(Slot(team_type=t), n) for t, n in sorted(mix.teams.items()) if n > 0]
    labelled = sum(n for _, n in out)
    if (rest := (mix.total or 0) - labelled) > 0:
        out.append((Slot(), rest))
    return out


def headcount(mix: Mix) -> int:
    """People the need asks for: the total, or the sum of its components if that is more."""
    return sum(n for _, n in slots(mix))


@dataclass(frozen=True)
class Line:
    """One component: required = filled + missing; outstanding ≤ missing."""

    key: str
    required: int
    filled: int
    outstanding: int

    @property
    def missing(self) -> int:
        return self.required - self.filled

    @property
    def uncovered(self) -> int:
        """Missing slots that no call-out still out could fill."""
        return self.missing - self.outstanding


@dataclass(frozen=True)
class Coverage:
    lines: tuple[Line, ...]
    accepted: int  # people who accepted, whether or not they fit a slot

    @property
    def required(self) -> int:
        return sum(ln.required for ln in self.lines)

    @property
    def filled(self) -> int:
        return sum(ln.filled for ln in self.lines)

    @property
    def outstanding(self) -> int:
        return sum(ln.outstanding for ln in self.lines)

    @property
    def complete(self) -> bool:
        return self.required > 0 and self.filled == self.required

    @property
    def missing(self) -> dict[str, int]:
        return {ln.key: ln.missing for ln in self.lines if ln.missing > 0}

    def as_dict(self) -> dict[str, object]:
        """The wire form carried on IncidentOut, SSE events and stats."""
        return {
            "required": self.required, "filled": self.filled, "accepted": self.accepted,
            "outstanding": self.outstanding, "complete": self.complete,
            "missing": self.missing,
            "lines": [
                {"key": ln.key, "required": ln.required, "filled": ln.filled,
                 "missing": ln.missing, "outstanding": ln.outstanding}
                for ln in self.lines
            ],
        }


def assign(caps: Sequence[tuple[Slot, int]], people: Iterable[Person]) -> list[int]:
    """How many of `people` fill each slot kind (capacity `caps[i][1]`), best count, in order.

    People are grouped by which slots they fit, so the flow network stays tiny however
    many people there are. Augmenting paths are pushed one slot kind at a time in
    priority order; a path never lowers a sink edge already used, so earlier (scarcer)
    kinds keep what they got and the final flow is still a maximum.
    """
    groups = Counter(tuple(i for i, (s, _) in enumerate(caps) if s.fits(p)) for p in people)
    sigs = [g for g in groups if g]
    left = [groups[g] for g in sigs]  # people of each group not yet placed
    room = [n for _, n in caps]
    flow: dict[tuple[int, int], int] = {}  # (group, slot) -> people
    for target in range(len(caps)):
        while room[target] > 0 and _augment(target, sigs, left, room, flow):
            pass
    filled = [0] * len(caps)
    for (_, j), n in flow.items():
        filled[j] += n
    return filled


def _augment(
    target: int, sigs: list[tuple[int, ...]], left: list[int], room: list[int],
    flow: dict[tuple[int, int], int],
) -> bool:
    """Move one more person into slot kind `target` along a residual path (BFS over kinds)."""
    # Walk backwards from the target: which group could enter slot j (directly, or by
    # moving someone from j on to another kind)? parent[j] = (group, slot it leaves for).
    parent: dict[int, tuple[int, int | None]] = {}
    seen_slots, queue = {target}, [target]
    while queue:
        j = queue.pop(0)
        for g, sig in enumerate(sigs):
            if j not in sig:
                continue
            if left[g] > 0:
                _apply(j, g, parent, left, room, flow, target)
                return True
            # Someone of group g sits in another kind k; they could move to j, freeing k.
            for k in sig:
                if k not in seen_slots and flow.get((g, k), 0) > 0:
                    seen_slots.add(k)
                    parent[k] = (g, j)
                    queue.append(k)
    return False


def _apply(
    j: int, g: int, parent: dict[int, tuple[int, int | None]], left: list[int],
    room: list[int], flow: dict[tuple[int, int], int], target: int,
) -> None:
    left[g] -= 1
    flow[(g, j)] = flow.get((g, j), 0) + 1
    while j != target:  # each freed kind is refilled by a move of someone into the next
        mover, into = parent[j]
        assert into is not None
        flow[(mover, j)] -= 1
        flow[(mover, into)] = flow.get((mover, into), 0) + 1
        j = into
    room[target] -= 1


def coverage(mix: Mix, accepted: Iterable[Person], outstanding: Iterable[Person] = ()) -> Coverage:
    """Coverage of `mix` by the accepted, and how much of the rest the outstanding could fill."""
    acc = list(accepted)
    caps = slots(mix)
    filled = assign(caps, acc)
    gaps = [(s, n - f) for (s, n), f in zip(caps, filled, strict=True)]
    could = assign(gaps, outstanding)
    lines = tuple(
        Line(s.key, n, f, o) for (s, n), f, o in zip(caps, filled, could, strict=True)
    )
    return Coverage(lines, len(acc))


def to_call(
    mix: Mix, accepted: Iterable[Person], in_flight: Iterable[Person], *, over_call: float,
) -> list[tuple[Slot, int]]:
    """Who else to call: per missing component, enough to keep missing × over_call in flight.

    In-flight people are assigned to the wanted places like the accepted are to slots, so
    one person in flight counts once. The caller picks people for the first entry, adds
    them to `in_flight` and asks again.
    """
    caps = slots(mix)
    filled = assign(caps, accepted)
    wanted = [(s, math.ceil((n - f) * over_call)) for (s, n), f in zip(caps, filled, strict=True)]
    flying = assign(wanted, in_flight)
    return [(s, w - fl) for (s, w), fl in zip(wanted, flying, strict=True) if w - fl > 0]
