-- Campaigns a supervisor cancelled (campaign.cancelled). A cancel and the campaign's messages
-- travel on different partitions, so a message may arrive after its cancel: the campaign SMS
-- insert (campaigns/intake.py) looks here and queues such a message as cancelled.
CREATE TABLE IF NOT EXISTS campaign_cancels (
    campaign_id   uuid PRIMARY KEY,
    cancelled_at  timestamptz NOT NULL,
    recalled      integer NOT NULL DEFAULT 0   -- pending SMS cancelled when it arrived
);
