-- The status sweep (reconcile.py): when the provider was last asked about a message whose
-- final status never arrived. Twilio does not retry status callbacks.
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS status_checked_at timestamptz;
CREATE INDEX IF NOT EXISTS deliveries_unsettled
    ON deliveries ((coalesce(status_checked_at, claimed_at, created_at)))
    WHERE state = 'submitted' AND channel = 'sms' AND provider_sid IS NOT NULL
      AND (status IS NULL OR status NOT IN ('delivered', 'undelivered', 'failed'));
