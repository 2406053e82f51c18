-- 以案说防 campaigns on the notifier side (baiying_notifier.campaigns).

-- Residents who texted 订阅 / SUBSCRIBE: a population apart from volunteers, never called out.
-- One row per phone; district NULL = the whole city. 删除 / DELETE removes the row.
CREATE TABLE IF NOT EXISTS subscribers (
    subscriber_id  uuid PRIMARY KEY,
    phone          text NOT NULL UNIQUE,
    district       text,
    language       text NOT NULL,
    consent_at     timestamptz NOT NULL DEFAULT now(),
    consent_text   text NOT NULL,            -- exactly what the resident texted
    confirmation   text NOT NULL,            -- exactly what we answered
    ended_at       timestamptz,              -- 退订: the subscription ends, consent kept
    ended_text     text
);
CREATE INDEX IF NOT EXISTS subscribers_district ON subscribers (district) WHERE ended_at IS NULL;

-- One row per campaign SMS (a volunteer's or a resident's). The deliveries row for it has
-- callout_id = message_id, incident_id = campaign_id, volunteer_id = recipient id and
-- message = 'campaign'. The link token is stored only as its SHA-256.
CREATE TABLE IF NOT EXISTS campaign_messages (
    message_id    uuid PRIMARY KEY,
    campaign_id   uuid NOT NULL,
    run_id        uuid NOT NULL,
    case_id       uuid,
    audience      text NOT NULL,             -- volunteer | resident
    recipient_id  uuid NOT NULL,
    phone         text NOT NULL,
    language      text NOT NULL,
    district      text NOT NULL,
    team_type     text,
    title         text NOT NULL,
    advice        text NOT NULL,
    token_hash    bytea NOT NULL UNIQUE,
    not_after     timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS campaign_messages_phone ON campaign_messages (phone, created_at DESC);
CREATE INDEX IF NOT EXISTS campaign_messages_not_after ON campaign_messages (not_after);

-- Each (message, reach status) published once: the first time it is reached.
CREATE TABLE IF NOT EXISTS campaign_reach (
    message_id  uuid NOT NULL,
    status      text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, status)
);
