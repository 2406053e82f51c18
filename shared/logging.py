"""structlog setup: JSON lines with incident, call-out and trace ids, phone numbers masked."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from contextlib import AbstractContextManager
from typing import Any

import structlog

from baiying_shared.privacy import mask_phones_in_text

_PHONE_KEYS = frozenset({"phone", "to", "from_", "from", "To", "From", "number"})

# Libraries that log each request at INFO (twilio prints every SMS's request headers, httpx
# every call): WARNING and above only, unless BAIYING_LOG_LEVEL is DEBUG.
_NOISY = ("aiokafka", "kafka", "uvicorn.access", "twilio", "httpx", "httpcore")

# The process's own name (`registry`, or `registry+dispatcher+...` under `serve all`), for lines
# logged outside any service's context: uvicorn start-up, the CLI. Lines inside a service carry
# the name `service_context` bound; never bind it process-wide, or the last app built wins.
_process_service = "baiying"


def _mask_phones(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = mask_phones_in_text(value) if key not in _PHONE_KEYS else _mask(value)
    return event


def _mask(value: str) -> str:
    return mask_phones_in_text(value) if any(c.isdigit() for c in value) else value


def _default_service(
    _: Any, __: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    event.setdefault("service", _process_service)
    return event


def service_context(service: str) -> AbstractContextManager[None]:
    """Label every line logged inside (and in tasks started inside) with `service`."""
    return structlog.contextvars.bound_contextvars(service=service)


def configure_logging(*, service: str, level: str = "INFO", json: bool = True) -> None:
    """Configure structlog and route stdlib logging (uvicorn, aiokafka) through it.

    `service` labels lines logged outside any `service_context` (the process's own lines).
    """
    global _process_service
    _process_service = service
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _default_service,
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
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet = logging.DEBUG if logging.getLevelName(level) <= logging.DEBUG else logging.WARNING
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(quiet)


def get_logger(name: str | None = None) -> Any:
    """A bound structlog logger."""
    return structlog.get_logger(name)


def current_trace_id() -> str | None:
    """The trace id bound to this request or consumed event, to carry into new events."""
    value = structlog.contextvars.get_contextvars().get("trace_id")
    return value if isinstance(value, str) else None
