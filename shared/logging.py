"""structlog setup: JSON lines with incident, call-out and trace ids, phone numbers masked."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from baiying_shared.privacy import mask_phones_in_text

_PHONE_KEYS = frozenset({"phone", "to", "from_", "from", "To", "From", "number"})


def _mask_phones(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = mask_phones_in_text(value) if key not in _PHONE_KEYS else _mask(value)
    return event


def _mask(value: str) -> str:
    return mask_phones_in_text(value) if any(c.isdigit() for c in value) else value


def configure_logging(*, service: str, level: str = "INFO", json: bool = True) -> None:
    """Configure structlog and route stdlib logging (uvicorn, aiokafka) through it."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        _mask_phones,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def get_logger(name: str | None = None) -> Any:
    """A bound structlog logger."""
    return structlog.get_logger(name)


def current_trace_id() -> str | None:
    """The trace id bound to this request or consumed event, to carry into new events."""
    value = structlog.contextvars.get_contextvars().get("trace_id")
    return value if isinstance(value, str) else None
