CREATE TABLE things (id bigserial PRIMARY KEY, name text NOT NULL, place geography(Point, 4326));
CREATE INDEX things_place ON things USING gist (place);
