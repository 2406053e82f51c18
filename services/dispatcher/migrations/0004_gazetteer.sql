-- Standard addresses (标准地址) a desk can find by typing: search-as-you-type in Chinese
-- through trigrams (pg_trgm splits CJK text into trigrams under a UTF-8 ctype).
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;

CREATE TABLE gazetteer (
    id          bigserial PRIMARY KEY,
    address     text NOT NULL,
    district    text NOT NULL,
    community   text NOT NULL DEFAULT '',   -- 社区 / 村: the 片区 an alert names
    police_room text NOT NULL DEFAULT '',   -- 警务室 responsible for the address
    location    geography(Point, 4326) NOT NULL,
    -- What a query is matched against: the district's name, then the address and its community.
    search      text NOT NULL,
    source      text NOT NULL DEFAULT 'import',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (district, address)
);
CREATE INDEX gazetteer_search_trgm ON gazetteer USING gin (search public.gin_trgm_ops);
CREATE INDEX gazetteer_district ON gazetteer (district);
