"""One row per headline figure: the value, the limit measured beside it, and their ratio."""

from __future__ import annotations

from typing import Any

Row = dict[str, Any]


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def _row(figure: str, value: Any, limit_name: str, limit: Any, unit: str) -> Row:
    ratio = round(value / limit, 2) if isinstance(value, int | float) and limit else None
    return {"figure": figure, "value": value, "unit": unit, "limit": limit_name,
            "limit_value": limit, "ratio": ratio}


def _latency_rows(r: dict[str, Any]) -> list[Row]:
    rtt, raise_ = r.get("broker_rtt", {}), r.get("raise_to_sms", {})
    rows = []
    for p in ("p50_ms", "p99_ms"):
        rows.append(_row(f"raise-to-first-SMS {p[:3]}", _get(raise_, "raise_to_first_sms", p),
                         f"broker produce->consume {p[:3]}", _get(rtt, "produce_to_consume", p),
                         "ms"))
    for p in ("p50_ms", "p99_ms"):  # the issue's own target beside the broker's floor
        rows[-2 if p == "p50_ms" else -1]["target_ms"] = _get(raise_, "limit_ms", p[:3])
    for step, t in (raise_.get("stage_steps") or {}).items():  # where the time goes
        rows.append(_row(f"raise-to-SMS step {step} p50", _get(t, "p50_ms"),
                         "raise-to-first-SMS p50", _get(raise_, "raise_to_first_sms", "p50_ms"),
                         "ms"))
    rows += _urgent_rows(r.get("urgent_during_advisory", {}))
    rows += _selection_rows(r.get("dispatch_select", {}))
    hop = r.get("outbox_hop", {})
    for p in ("p50_ms", "p99_ms"):
        rows.append(_row(f"outbox commit->consumer handler {p[:3]}",
                         _get(hop, "commit_to_handler", p),
                         f"broker produce->consume {p[:3]}", _get(rtt, "produce_to_consume", p),
                         "ms"))
    replies = r.get("replies", {})
    rows.append(_row("reply-to-staffed p50", _get(replies, "reply_to_staffed", "p50_ms"),
                     "raise-to-first-SMS p50", _get(raise_, "raise_to_first_sms", "p50_ms"),
                     "ms"))
    during = replies.get("during_advisory", {})
    for p in ("p50_ms", "p99_ms"):
        row = _row(f"reply-to-staffed during an advisory {p[:3]}",
                   _get(during, "reply_to_staffed", p), "target p99", 200, "ms")
        row["advisory_still_sending"] = during.get("advisory_still_sending")
        rows.append(row)
    rows.append(_row("alerts not out within 30 s during the advisory",
                     during.get("alerts_not_out_in_30s"), "target", 0, "count"))
    return rows


def _urgent_rows(u: dict[str, Any]) -> list[Row]:
    """An urgent call-out raised into a 10,000-person advisory, beside the same one idle."""
    rows = [_row(f"urgent call-out during an advisory, raise -> sent {p[:3]}",
                 _get(u, "during_advisory", p), f"same, idle {p[:3]}", _get(u, "idle", p), "ms")
            for p in ("p50_ms", "p99_ms")]
    rows[-1]["target"] = "p99 within 300 ms of idle"
    rows[-1]["during_minus_idle_ms"] = u.get("p99_during_minus_p99_idle_ms")
    return rows


def _selection_rows(select: dict[str, Any]) -> list[Row]:
    """Every filter mix the benchmark timed, p50 and p99 beside the bare KNN's."""
    rows = []
    for key in sorted(k for k in select if k.startswith("filtered_") and "p99_ms" in
                      (select[k] if isinstance(select[k], dict) else {})):
        for p in ("p50_ms", "p99_ms"):
            row = _row(f"selection nearest-100 {key.removeprefix('filtered_')} {p[:3]}",
                       _get(select, key, p), f"bare PostGIS KNN {p[:3]}",
                       _get(select, "bare_knn", p), "ms")
            row["target_p99_ms"] = 10
            rows.append(row)
    return rows


def _rate_rows(r: dict[str, Any]) -> list[Row]:
    fan, paced = r.get("notify_fanout", {}), r.get("paced_fanout", {})
    replies, imp = r.get("replies", {}), r.get("registry_import", {})
    return [
        _fanout_row(fan),
        _row("twilio-library raw rate into the sandbox", _get(fan, "raw_http", "per_second"),
             "the sandbox's create ceiling by wrk", _get(fan, "sandbox_ceiling", "per_s"),
             "msg/s") | {"client_ceiling": _get(fan, "client_ceiling", "per_s")},
        _row("paced fan-out (carrier clock)", paced.get("achieved_segments_per_s"),
             "carrier limit (3 senders x mps)", paced.get("limit_segments_per_s"), "segments/s"),
        _row("paced fan-out 20429s", paced.get("rejected_20429"), "target", 0, "count"),
        _row("paced fan-out 21611s", paced.get("rejected_21611"), "target", 0, "count"),
        _row("paced fan-out 30001s", paced.get("failed_30001"), "target", 0, "count"),
        *_wrk_rows(replies.get("wrk", {})),
        _row("CSV import", imp.get("total_s"), "target", imp.get("target_s"), "s"),
    ]


def _fanout_row(fan: dict[str, Any]) -> Row:
    row = _row("fan-out, unthrottled sandbox", _get(fan, "fanout", "per_second"),
               "raw twilio-library POST rate, one process", _get(fan, "raw_http", "per_second"),
               "msg/s")
    row["target_ratio"] = 0.8
    if fan.get("refused"):  # the sandbox, not the client library, set the raw rate
        row.update(ratio=None, refused=fan["refused"])
    return row


def _wrk_rows(w: dict[str, Any]) -> list[Row]:
    """Replies by wrk beside bare /healthz, and /healthz beside wrk's own ceiling."""
    ceiling = _get(w, "client_ceiling", "per_s")
    replies = _row("signed webhook replies (wrk)", _get(w, "signed_replies", "per_s"),
                   "bare GET /healthz by wrk, same process", _get(w, "bare_healthz", "per_s"),
                   "req/s")
    if w.get("refused"):  # the client, not the server, set the bare rate
        replies.update(ratio=None, refused=w["refused"])
    bare = _row("bare GET /healthz (wrk)", _get(w, "bare_healthz", "per_s"),
                "wrk's own ceiling (bare responder)", ceiling, "req/s")
    replies["target_per_s"] = 1000
    for row in (replies, bare):
        row["client_ceiling"] = ceiling
    return [replies, bare]


def ratios(results: dict[str, Any]) -> list[Row]:
    return _latency_rows(results) + _rate_rows(results)
