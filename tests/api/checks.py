"""What every answer to bad input must look like: never a 5xx, a 4xx that says why."""

from __future__ import annotations

import json
from typing import Any

from schemathesis import Case, CheckContext, CheckFunction, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure


def _reason(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value
            if isinstance(value, list) and value:
                return json.dumps(value, ensure_ascii=False)
    return ""


def readable_rejection(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A 4xx carries a JSON body naming the reason, not an empty or HTML page."""
    if not 400 <= response.status_code < 500 or response.status_code == 405:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    if not _reason(body):
        raise Failure(
            operation=case.operation.label,
            title="Rejection without a readable reason",
            message=f"{response.status_code}: {response.text[:200]!r}",
        )
    return None


CHECKS: list[CheckFunction] = [not_a_server_error, readable_rejection]
