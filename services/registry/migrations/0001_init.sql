-- Registry: teams and the people in them. Unqualified names: search_path is the schema.

-- Time-ordered ids for rows made in bulk, like baiying_shared.ids.new_id in Python:
-- a 48-bit millisecond timestamp over random bits, version 7.
CREATE FUNCTION uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING
    substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
    FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;
CREATE TABLE teams (
    id                  uuid PRIMARY KEY,
    name                text NOT NULL,
    type                text NOT NULL CHECK (type IN ('patrol', 'community_security',
                          'security_volunteer', 'building_watch', 'information_officer',
                          'unit_guard')),
    district            text NOT NULL CHECK (district ~ '^\d{6}$'),
    community           text,
    leader_volunteer_id uuid,   -- no FK: teams and members are created in either order
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX teams_district_type ON teams (district, type, id);
CREATE INDEX teams_type ON teams (type, id);

CREATE TABLE volunteers (
    id              uuid PRIMARY KEY,
    revision        bigint NOT NULL DEFAULT 1,  -- consumers drop snapshots not newer than theirs
    name            text NOT NULL,
    phone           text NOT NULL UNIQUE,       -- E.164
    -- No FK: it cost ~20% of a 1,000,000-row import. Teams are never deleted, and every
    -- write path (API, import, seed) checks the team in the same transaction.
    team_id         uuid NOT NULL,
    district        text NOT NULL CHECK (district ~ '^\d{6}$'),
    home            geography(Point, 4326) NOT NULL,
    skills          text[] NOT NULL DEFAULT '{}',
    channels        text[] NOT NULL DEFAULT '{sms}',
    language        text NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en')),
    on_duty         boolean NOT NULL DEFAULT true,
    available_until timestamptz,
    quiet_start     time,
    quiet_end       time,
    daily_alert_cap integer NOT NULL DEFAULT 10 CHECK (daily_alert_cap >= 0),
    sms_opt_out     boolean NOT NULL DEFAULT false,
    phone_flag      text,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);
CREATE INDEX volunteers_home ON volunteers USING gist (home);
CREATE INDEX volunteers_team ON volunteers (team_id);
CREATE INDEX volunteers_district ON volunteers (district, id);

-- What a seed put here, so seeding twice says so instead of doubling the people.
CREATE TABLE seed_runs (
    dataset    text PRIMARY KEY,
    seed       integer NOT NULL,
    scale      integer NOT NULL,
    teams      integer NOT NULL,
    volunteers integer NOT NULL,
    seeded_at  timestamptz NOT NULL DEFAULT now()
);

-- The volunteer as the API and the snapshot see it: plain lat/lon and the team's type.
CREATE VIEW volunteer_rows AS
SELECT v.id, v.revision, v.name, v.phone, v.team_id, t.type AS team_type, v.district,
       ST_Y(v.home::geometry) AS lat, ST_X(v.home::geometry) AS lon,
       v.skills, v.channels, v.language, v.on_duty, v.available_until,
       v.quiet_start, v.quiet_end, v.daily_alert_cap, v.sms_opt_out, v.phone_flag,
       v.status, v.created_at, v.updated_at, v.home
FROM volunteers v JOIN teams t ON t.id = v.team_id;
