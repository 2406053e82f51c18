-- 以案说防: cases for prevention, made from closed incidents. Texts are stored only after
-- personal data was removed (baiying_dispatcher.prevention.pii); the originals never are.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE TABLE cases (
    id          uuid PRIMARY KEY,
    incident_id uuid UNIQUE REFERENCES incidents (id),
    district    text NOT NULL,
    category    text NOT NULL,
    title_zh    text NOT NULL,
    account_zh  text NOT NULL,
    advice_zh   text NOT NULL,
    title_en    text,
    account_en  text,
    advice_en   text,
    -- What was removed, by kind and count ({"phone": 1, "name": 2}); never the values.
    removed     jsonb NOT NULL DEFAULT '{}',
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_by_district ON cases (district, category, created_at DESC);
CREATE INDEX cases_text_trgm ON cases
    USING gin ((title_zh || ' ' || account_zh || ' ' || advice_zh) public.gin_trgm_ops);
