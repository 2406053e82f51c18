-- The dispatcher's own copy of the registry's volunteers, shaped for nearest-N selection.
CREATE TABLE responders (
    volunteer_id    uuid PRIMARY KEY,
    revision        bigint NOT NULL,
    name            text NOT NULL,
    phone           text NOT NULL,
    team_id         uuid NOT NULL,
    team_type       text NOT NULL,
    district        text NOT NULL,
    location        geography(Point, 4326) NOT NULL,
    skills          text[] NOT NULL DEFAULT '{}',
    channels        text[] NOT NULL,           -- what the volunteer accepts
    reachable       text[] NOT NULL,           -- minus opted-out / flagged SMS
    language        text NOT NULL,
    active          boolean NOT NULL,
    on_duty         boolean NOT NULL,
    available_until timestamptz,
    quiet_start     time,
    quiet_end       time,
    daily_alert_cap integer NOT NULL,
    -- active, on duty and reachable by some channel: the only rows worth indexing for KNN
    callable        boolean NOT NULL,
    alerts_day      date,                      -- local day of alerts_today
    alerts_today    integer NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL
);
-- Partial: off-duty, suspended and unreachable people never enter the KNN walk.
CREATE INDEX responders_callable_knn ON responders USING gist (location) WHERE callable;
CREATE INDEX responders_advisory ON responders (district) WHERE active AND cardinality(reachable) > 0;
CREATE INDEX responders_advisory_geo ON responders USING gist (location)
    WHERE active AND cardinality(reachable) > 0;

CREATE TABLE incidents (
    id               uuid PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('callout', 'advisory')),
    title            text NOT NULL,
    description      text NOT NULL DEFAULT '',
    category         text NOT NULL,
    address          text NOT NULL,
    area             text NOT NULL,
    district         text NOT NULL,
    location         geography(Point, 4326) NOT NULL,
    lat              double precision NOT NULL,
    lon              double precision NOT NULL,
    base_radius_m    integer NOT NULL,
    radius_m         integer NOT NULL,
    need             jsonb NOT NULL,
    policy           jsonb NOT NULL,
    advice           text,
    target_districts text[],
    status           text NOT NULL,
    round            integer NOT NULL DEFAULT 1,
    next_round_at    timestamptz,
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    first_callout_at timestamptz,
    first_accept_at  timestamptz,
    staffed_at       timestamptz,
    unmet_at         timestamptz,
    ended_at         timestamptz,
    idempotency_key  text,
    request_hash     text,
    UNIQUE (created_by, idempotency_key)
);
CREATE INDEX incidents_due ON incidents (next_round_at) WHERE status = 'mobilising';
CREATE INDEX incidents_by_district ON incidents (district, created_at DESC);
CREATE INDEX incidents_by_status ON incidents (status, created_at DESC);

CREATE TABLE callouts (
    id              uuid PRIMARY KEY,
    incident_id     uuid NOT NULL REFERENCES incidents (id),
    volunteer_id    uuid NOT NULL,
    name            text NOT NULL,
    phone           text NOT NULL,
    team_type       text NOT NULL,
    skills          text[] NOT NULL DEFAULT '{}',
    district        text NOT NULL,
    channels        text[] NOT NULL,
    language        text NOT NULL,
    lat             double precision NOT NULL,
    lon             double precision NOT NULL,
    distance_m      integer NOT NULL,
    rank            integer NOT NULL,
    round           integer NOT NULL,
    state           text NOT NULL,
    delivery_status text,
    delivery_error  integer,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    answered_at     timestamptz,
    accepted_at     timestamptz,
    arrived_at      timestamptz,
    stood_down_at   timestamptz,
    UNIQUE (incident_id, volunteer_id)
);
CREATE INDEX callouts_committed ON callouts (volunteer_id) WHERE state IN ('accepted', 'arrived');
CREATE INDEX callouts_by_incident ON callouts (incident_id, rank);
CREATE INDEX callouts_for_stats ON callouts (created_at);

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    role        text NOT NULL,
    action      text NOT NULL,
    incident_id uuid,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_incident ON audit_log (incident_id, at);
