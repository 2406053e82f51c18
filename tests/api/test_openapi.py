"""Generated good and bad input against every operation of the three services' OpenAPI.

No answer may be a 5xx; every rejection is a 4xx with a readable reason (tests/api/checks.py).
Hypothesis drives schemathesis' strategies directly: the services only exist once the session's
`system` fixture runs, and schemathesis' lazy pytest loader does not work with pytest 9.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import BaseSchema, Case, GenerationMode
from schemathesis.core.result import Ok

from tests.api.checks import CHECKS

# Bounded and repeatable: a fixed seed sequence, no shrinking, EXAMPLES per operation and mode.
EXAMPLES = 25
BOUNDED = settings(
    max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
)
# Server-sent event streams never end by design; tests/dispatcher covers the stream.
ENDLESS = frozenset({"/v1/stream"})


def _exercise(
    operation: Any, mode: GenerationMode, headers: dict[str, str], seen: Counter[int]
) -> str | None:
    """Run the examples of one operation in one mode; the first failure as text, or None."""

    @BOUNDED
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Case[Any]) -> None:
        response = case.call_and_validate(
            headers={**dict(case.headers or {}), **headers}, checks=CHECKS, timeout=15)
        seen[response.status_code // 100 * 100] += 1

    try:
        run()
    except Unsatisfiable:  # nothing to get wrong: an operation without parameters or body
        return None
    except Exception as exc:  # collect every operation's failure, then report them together
        return f"{operation.label} [{mode.value}]: {exc}"[:1500]
    return None


def _failures(schema: BaseSchema, headers: dict[str, str], seen: Counter[int]) -> list[str]:
    found = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            found.append(f"an operation schemathesis cannot load: {result.err()}")
            continue
        operation = result.ok()
        if operation.path in ENDLESS:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failure = _exercise(operation, mode, headers, seen)
            if failure:
                found.append(failure)
    return found


@pytest.mark.parametrize("service", ["registry", "dispatcher", "notifier"])
def test_no_5xx_and_readable_rejections(
    service: str, request: pytest.FixtureRequest, auth_headers: dict[str, dict[str, str]]
) -> None:
    schema: BaseSchema = request.getfixturevalue(f"{service}_schema")
    seen: Counter[int] = Counter()
    failures = _failures(schema, auth_headers[service], seen)
    print(f"{service}: responses by class {dict(seen)}")  # shown with -s or on failure
    assert not failures, "\n\n".join(failures)
    # The tokens were good (2xx happened) and bad input was generated (4xx happened).
    assert seen[200] > 0 and seen[400] > 0, seen
