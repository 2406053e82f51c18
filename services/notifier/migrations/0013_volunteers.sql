-- The registry's volunteers (registry.volunteers.v1, compacted, revision-guarded), as much as
-- the notifier needs: SMS sign-in for someone never called out, and telling a volunteer's
-- 退订 from a resident subscriber's.
CREATE TABLE IF NOT EXISTS volunteers (
    volunteer_id  uuid PRIMARY KEY,
    revision      bigint NOT NULL,
    phone         text NOT NULL,
    language      text NOT NULL,
    district      text NOT NULL,
    team_type     text NOT NULL,
    status        text NOT NULL
);
CREATE INDEX IF NOT EXISTS volunteers_phone ON volunteers (phone);

-- A resident's 退订/删除 finds their campaign messages by subscriber id.
CREATE INDEX IF NOT EXISTS campaign_messages_recipient ON campaign_messages (recipient_id);
