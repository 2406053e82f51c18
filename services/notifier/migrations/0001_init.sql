-- Call-outs this notifier has heard of: what the app shows and what SMS replies apply to.
CREATE TABLE IF NOT EXISTS callouts (
    callout_id   uuid PRIMARY KEY,
    incident_id  uuid NOT NULL,
    volunteer_id uuid NOT NULL,
    phone        text NOT NULL,
    kind         text NOT NULL,              -- callout | advisory
    code         text NOT NULL,              -- reference printed in the SMS ("编号 K7Q2")
    language     text NOT NULL,
    channels     text[] NOT NULL,
    alert        jsonb NOT NULL,             -- what/where-roughly/how far; never the address
    confirmed    jsonb,                      -- address and contact, after CalloutConfirmed
    state        text NOT NULL DEFAULT 'live',  -- live | confirmed | stood_down
    issued_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS callouts_phone_live ON callouts (phone, issued_at DESC)
    WHERE state <> 'stood_down';
CREATE INDEX IF NOT EXISTS callouts_volunteer ON callouts (volunteer_id, issued_at DESC);

-- One row per (call-out, message kind, channel): the claim that makes a second SMS impossible.
CREATE TABLE IF NOT EXISTS deliveries (
    id              uuid PRIMARY KEY,
    seq             bigserial UNIQUE,
    callout_id      uuid NOT NULL,
    incident_id     uuid NOT NULL,
    volunteer_id    uuid NOT NULL,
    channel         text NOT NULL,           -- sms | app
    message         text NOT NULL,           -- alert | confirmation | stand_down
    priority        smallint NOT NULL,       -- 0 confirmation … 3 advisory
    rank            int NOT NULL DEFAULT 0,
    phone           text NOT NULL,
    body            text NOT NULL,           -- rendered once, so a lookup can recognise it
    segments        int NOT NULL DEFAULT 1,
    -- pending -> claimed -> submitted; or failed | cancelled | suppressed | unknown; app: sent
    state           text NOT NULL,
    status          text,                    -- best provider status seen (queued … delivered)
    sender          text,
    provider_sid    text UNIQUE,
    attempts        int NOT NULL DEFAULT 0,
    error_code      int,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (callout_id, message, channel)
);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (seq) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_claimed ON deliveries (claimed_at) WHERE state = 'claimed';

-- Webhook replay guard: "status:<sid>:<status>" and "inbound:<sid>".
CREATE TABLE IF NOT EXISTS webhook_seen (
    key text PRIMARY KEY,
    at  timestamptz NOT NULL DEFAULT now()
);

-- Local opt-out list: checked before anything is queued (the registry keeps its own copy).
CREATE TABLE IF NOT EXISTS opt_outs (
    phone     text PRIMARY KEY,
    opted_out boolean NOT NULL,
    keyword   text NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);
