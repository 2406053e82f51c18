-- Sender numbers shared by any number of notifier instances (leases.py, docs/notifier.md):
-- one holder per number at a time; epoch grows on every hand-over and fences the claim.
CREATE TABLE IF NOT EXISTS sender_leases (
    sender     text PRIMARY KEY,            -- a From number, or 'messaging-service'
    holder     uuid NOT NULL,
    epoch      bigint NOT NULL,
    expires_at timestamptz NOT NULL
);

-- Live instances (heartbeat), so each takes its fair share of the numbers.
CREATE TABLE IF NOT EXISTS notifier_instances (
    id      uuid PRIMARY KEY,
    seen_at timestamptz NOT NULL
);

-- A message cancelled while stuck in a sender's carrier queue is sent again through
-- another sender: the one to avoid, and the SIDs it had (so the carrier record stays).
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS avoid_sender text;
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS cancelled_sids text[] NOT NULL DEFAULT '{}';
