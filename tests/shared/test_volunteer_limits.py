"""A skill the desk may ask for is one a volunteer can hold: one pattern for both services."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from baiying_dispatcher.schemas import SkillName
from baiying_registry.domain import SKILL
from baiying_shared.events.volunteers import SKILL_MAX

DESK = TypeAdapter(SkillName)


@pytest.mark.parametrize("skill", ["first_aid", "a" * SKILL_MAX, "boat2"])
def test_both_accept(skill: str) -> None:
    assert SKILL.match(skill) and DESK.validate_python(skill) == skill


@pytest.mark.parametrize("skill", ["a" * (SKILL_MAX + 1), "First_aid", "1aid", ""])
def test_both_refuse(skill: str) -> None:
    assert not SKILL.match(skill)
    with pytest.raises(ValidationError):
        DESK.validate_python(skill)
