-- Who read a volunteer's whole number, when, and why (issue 11: phones by need).
-- Desks and supervisors see masked numbers; every reveal is one row here, never deleted by the app.
CREATE TABLE phone_reveals (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    volunteer_id uuid NOT NULL,
    district     text NOT NULL,      -- the volunteer's district at the time of the reveal
    actor        text NOT NULL,      -- the token's sub
    role         text NOT NULL,
    reason       text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX phone_reveals_volunteer ON phone_reveals (volunteer_id, id);
