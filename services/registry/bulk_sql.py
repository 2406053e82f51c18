"""Snapshot envelopes built inside PostgreSQL, for the bulk paths (seed, CSV import).

A million `wrap(VolunteerSnapshot(...))` calls in Python, or jsonb_build_object in SQL, cost
more than the rest of a 60 s import; string concatenation in SQL costs ~5 µs a row. The
result is the same JSON the Python path produces, decoded and compared in tests/registry
(test_seed: every seeded row; test_events: imports in the topic rebuild).
"""

from __future__ import annotations

RETURNING = (
    "v.id, v.revision, v.name, v.phone, v.team_id, v.district,"
    " ST_Y(v.home::geometry) AS lat, ST_X(v.home::geometry) AS lon, v.skills, v.channels,"
    " v.language, v.on_duty, v.available_until, v.quiet_start, v.quiet_end,"
    " v.daily_alert_cap, v.sms_opt_out, v.phone_flag, v.status, v.updated_at"
)


def _head(event_type: str, event_id: str, trace_id: str) -> str:
    # Strings that may need escaping go through to_json; ids, codes and enums never do.
    return (
        f"'{{\"event_id\":\"', {event_id}, '\",\"type\":\"{event_type}\",\"schema_version\":1,"
        f"\"occurred_at\":', to_json(now()), ',\"producer\":\"registry\",\"trace_id\":',"
        f" to_json({trace_id}::text), ',\"payload\":{{"
    )


def volunteer_envelope(r: str, *, team_type: str, event_id: str, trace_id: str) -> str:
    """SQL text (bytea) of a volunteer.snapshot envelope from row alias `r` (RETURNING columns)."""
    return (
        "convert_to(concat(" + _head("volunteer.snapshot", event_id, trace_id)
        + f"\"volunteer_id\":\"', {r}.id, '\",\"revision\":', {r}.revision,"
        f" ',\"name\":', to_json({r}.name), ',\"phone\":', to_json({r}.phone),"
        f" ',\"team_id\":\"', {r}.team_id, '\",\"team_type\":\"', {team_type},"
        f" '\",\"district\":\"', {r}.district, '\",\"home\":{{\"lat\":', {r}.lat,"
        f" ',\"lon\":', {r}.lon, '}},\"skills\":', to_json({r}.skills),"
        f" ',\"channels\":', to_json({r}.channels), ',\"language\":\"', {r}.language,"
        f" '\",\"on_duty\":', to_json({r}.on_duty),"
        f" ',\"available_until\":', coalesce(to_json({r}.available_until)::text, 'null'),"
        f" ',\"quiet_hours\":', CASE WHEN {r}.quiet_start IS NULL THEN 'null' ELSE"
        f" concat('{{\"start\":\"', {r}.quiet_start, '\",\"end\":\"', {r}.quiet_end, '\"}}') END,"
        f" ',\"daily_alert_cap\":', {r}.daily_alert_cap,"
        f" ',\"sms_opt_out\":', to_json({r}.sms_opt_out),"
        f" ',\"phone_flag\":', coalesce(to_json({r}.phone_flag)::text, 'null'),"
        f" ',\"status\":\"', {r}.status, '\",\"updated_at\":', to_json({r}.updated_at),"
        " '}}'), 'UTF8')"
    )


def team_envelope(t: str, *, event_id: str, trace_id: str) -> str:
    """SQL text (bytea) of a team.snapshot envelope from teams row alias `t`."""
    return (
        "convert_to(concat(" + _head("team.snapshot", event_id, trace_id)
        + f"\"team_id\":\"', {t}.id, '\",\"name\":', to_json({t}.name),"
        f" ',\"type\":\"', {t}.type, '\",\"district\":\"', {t}.district,"
        f" '\",\"community\":', coalesce(to_json({t}.community)::text, 'null'),"
        f" ',\"leader_volunteer_id\":', coalesce(to_json({t}.leader_volunteer_id)::text, 'null'),"
        " '}}'), 'UTF8')"
    )
