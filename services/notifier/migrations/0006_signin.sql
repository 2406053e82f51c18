-- Volunteer sign-in by SMS code (baiying_notifier.signin). Codes are stored only as HMACs.
CREATE TABLE IF NOT EXISTS signin_codes (
    phone      text PRIMARY KEY,
    digest     text NOT NULL,
    issued_at  double precision NOT NULL,   -- epoch seconds (the domain's clock)
    attempts   integer NOT NULL DEFAULT 0
);

-- Every "send me a code" request, for the per-phone and per-address windows.
CREATE TABLE IF NOT EXISTS signin_requests (
    id       bigserial PRIMARY KEY,
    phone    text NOT NULL,
    address  text NOT NULL,
    sent     boolean NOT NULL,
    at       double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS signin_requests_phone ON signin_requests (phone, at) WHERE sent;
CREATE INDEX IF NOT EXISTS signin_requests_address ON signin_requests (address, at);

-- A signed-in device: the session a volunteer token names (its session_id).
CREATE TABLE IF NOT EXISTS devices (
    device_id     uuid PRIMARY KEY,
    volunteer_id  uuid NOT NULL,
    label         text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
CREATE INDEX IF NOT EXISTS devices_volunteer ON devices (volunteer_id, created_at DESC);
