-- 以案说防 campaigns: a case (or a free notice) sent to an audience now, once, or on a schedule.
-- Texts are copied in at creation, so a run sends what the desk saw in the dry run.
CREATE TABLE campaigns (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    case_id     uuid REFERENCES cases (id),
    title_zh    text NOT NULL,
    advice_zh   text NOT NULL,
    title_en    text NOT NULL,
    advice_en   text NOT NULL,
    audience    jsonb NOT NULL,
    schedule    jsonb NOT NULL,
    -- The districts the campaign is scoped to (who may see it); empty = every district (admin).
    districts   text[] NOT NULL,
    status      text NOT NULL DEFAULT 'active',  -- active | done | cancelled
    next_run_at timestamptz,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- The scheduler's only question: which active campaigns are due.
CREATE INDEX campaigns_due ON campaigns (next_run_at) WHERE status = 'active';

CREATE TABLE campaign_runs (
    id            uuid PRIMARY KEY,
    campaign_id   uuid NOT NULL REFERENCES campaigns (id),
    due_at        timestamptz NOT NULL,
    started_at    timestamptz NOT NULL,
    outcome       text NOT NULL,  -- sent | stale (found too late, nothing sent)
    volunteers    integer NOT NULL,
    quiet_skipped integer NOT NULL,
    residents     boolean NOT NULL,
    -- A due time fires once however many instances look at it.
    UNIQUE (campaign_id, due_at)
);

CREATE TABLE campaign_messages (
    message_id   uuid PRIMARY KEY,
    run_id       uuid NOT NULL REFERENCES campaign_runs (id),
    campaign_id  uuid NOT NULL,
    volunteer_id uuid NOT NULL,
    district     text NOT NULL,
    team_type    text NOT NULL,
    language     text NOT NULL
);
CREATE INDEX campaign_messages_by_run ON campaign_messages (run_id);

-- The notifier's reach events, once per message and status (replays change nothing).
CREATE TABLE campaign_reach (
    message_id  uuid NOT NULL,
    status      text NOT NULL,
    campaign_id uuid NOT NULL,
    run_id      uuid NOT NULL,
    audience    text NOT NULL,
    district    text NOT NULL,
    team_type   text,
    error_code  integer,
    at          timestamptz NOT NULL,
    PRIMARY KEY (message_id, status)
);
CREATE INDEX campaign_reach_by_campaign ON campaign_reach (campaign_id);
