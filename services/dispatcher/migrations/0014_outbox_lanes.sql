-- Outbox lanes for a schema whose outbox predates them (new schemas get them from the shared
-- 0000_outbox_inbox): the relay reads each lane's head by (lane, id).
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS lane smallint NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS outbox_unpublished_lane ON outbox (lane, id) WHERE published_at IS NULL;
DROP INDEX IF EXISTS outbox_unpublished;
