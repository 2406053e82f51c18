-- Every service gets the same outbox (events leave only after their transaction commits)
-- and inbox (an event id is processed once, however often Kafka redelivers it).
CREATE TABLE IF NOT EXISTS outbox (
    id           bigserial PRIMARY KEY,
    topic        text NOT NULL,
    key          text NOT NULL,
    value        bytea,            -- NULL is a tombstone on a compacted topic
    event_id     uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
-- lane: 0 urgent (the default), 1 bulk — one publisher per lane, each in id order, so an urgent
-- row never waits behind bulk ones (baiying_shared.db.outbox). Schemas made before lanes get the
-- column from their service's migration (dispatcher 0014, notifier 0015, registry 0016).
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS lane smallint NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS outbox_unpublished_lane ON outbox (lane, id) WHERE published_at IS NULL;

CREATE TABLE IF NOT EXISTS processed_events (
    event_id     uuid PRIMARY KEY,
    consumer     text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
