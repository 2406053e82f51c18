"""Prometheus metrics shared by all services (one process may host several services)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

CONSUMED = Counter("baiying_events_consumed_total", "Events handled", ["topic"])
DEAD_LETTERED = Counter("baiying_events_dead_lettered_total", "Events sent to the DLQ", ["topic"])
HANDLER_ERRORS = Counter("baiying_handler_errors_total", "Handler failures (retried)", ["topic"])
OUTBOX_PUBLISHED = Counter("baiying_outbox_published_total", "Outbox rows published", ["schema"])
HTTP_LATENCY = Histogram(
    "baiying_http_request_seconds", "HTTP latency", ["service", "method", "route", "status"]
)
