-- Reachability per volunteer and channel: why a channel cannot be used, not only that it cannot.
-- No row means 'ok'. volunteers.sms_opt_out / phone_flag stay as the snapshot's derived view.
CREATE TABLE reachability (
    volunteer_id uuid NOT NULL,
    channel      text NOT NULL CHECK (channel IN ('sms', 'app')),
    state        text NOT NULL CHECK (state IN ('ok', 'opted_out', 'carrier_blocked', 'invalid',
                                                'unreachable')),
    set_by       text,               -- volunteer | carrier | admin:<sub>
    keyword      text,               -- the word that opted out (STOP, 退订 …)
    error_code   integer,            -- the gateway's code (21610, 30003 …)
    failures     integer NOT NULL DEFAULT 0,  -- transient delivery failures since the last reset
    since        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (volunteer_id, channel)
);

-- Every change of state: who, why (an admin's clear must name a reason).
CREATE TABLE reachability_audit (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    volunteer_id uuid NOT NULL,
    channel      text NOT NULL,
    from_state   text NOT NULL,
    to_state     text NOT NULL,
    actor        text NOT NULL,
    reason       text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reachability_audit_volunteer ON reachability_audit (volunteer_id, id);

-- The flags of before become states.
INSERT INTO reachability (volunteer_id, channel, state, set_by, error_code)
SELECT id, 'sms',
       CASE WHEN sms_opt_out THEN 'opted_out'
            WHEN phone_flag LIKE '21610%' OR phone_flag LIKE '30004%' THEN 'carrier_blocked'
            ELSE 'invalid' END,
       CASE WHEN sms_opt_out THEN 'volunteer' ELSE 'carrier' END,
       CASE WHEN substring(phone_flag FROM '^(\d+)') IS NOT NULL
            THEN substring(phone_flag FROM '^(\d+)')::integer END
FROM volunteers WHERE sms_opt_out OR phone_flag IS NOT NULL;
