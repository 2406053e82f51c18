-- A team-type filter walks only that type's callable people: one partial GiST per team type
-- (index.py splices the type as a literal, so the planner can match the predicate). A
-- composite btree_gist (team_type, location) was measured first and dropped: at 1,000,000
-- people its walk took 7-36 ms to the first row against 0.3-1 ms for these, because the tree
-- is split by type before place. The types are the registry's (TeamType); a type without an
-- index here is still found, by the callable walk and the ring's filter.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['patrol', 'community_security', 'security_volunteer',
                             'building_watch', 'information_officer', 'unit_guard'] LOOP
        EXECUTE format('CREATE INDEX %I ON responders USING gist (location)'
                       ' WHERE callable AND team_type = %L', 'responders_callable_knn_' || t, t);
    END LOOP;
END $$;

-- Skills and districts cannot lead a GiST on responders (an array; a list of codes), and a
-- walk that filters them reads ten to eighteen callable strangers per match. Facets put each
-- callable person into a narrow table once per key below, whose GiST starts with the key, so
-- `facet = 'skill:first_aid' ORDER BY location <-> $p` walks only first-aiders. A trigger
-- keeps it equal to responders on every path (snapshots, tombstones, bulk loads), so no
-- writer can forget it. index.py's _Shape._walk builds the same keys.
CREATE FUNCTION responder_facet_keys(skills text[], district text, team_type text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY['district:' || district, 'district:' || district || '/type:' || team_type]
        || ARRAY(SELECT DISTINCT 'skill:' || s FROM unnest(skills) s)
        || ARRAY(SELECT DISTINCT 'type:' || team_type || '/skill:' || s FROM unnest(skills) s)
$$;

CREATE TABLE responder_facets (
    facet        text NOT NULL,
    volunteer_id uuid NOT NULL REFERENCES responders (volunteer_id) ON DELETE CASCADE,
    location     geography(Point, 4326) NOT NULL,
    PRIMARY KEY (volunteer_id, facet)
);

CREATE FUNCTION responder_facets_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM responder_facets WHERE volunteer_id = OLD.volunteer_id;
    END IF;
    IF NEW.callable THEN
        INSERT INTO responder_facets (facet, volunteer_id, location)
        SELECT f, NEW.volunteer_id, NEW.location
        FROM unnest(responder_facet_keys(NEW.skills, NEW.district, NEW.team_type)) f;
    END IF;
    RETURN NULL;
END $$;

-- Deletes cascade by the foreign key; alert counters (the hottest update) change no facet.
CREATE TRIGGER responder_facets_sync AFTER INSERT OR UPDATE OF callable, skills, district,
    team_type, location ON responders FOR EACH ROW EXECUTE FUNCTION responder_facets_sync();

INSERT INTO responder_facets (facet, volunteer_id, location)
SELECT f, r.volunteer_id, r.location
FROM responders r, unnest(responder_facet_keys(r.skills, r.district, r.team_type)) f
WHERE r.callable;

CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;  -- a text column in a GiST
CREATE INDEX responder_facets_knn ON responder_facets USING gist (facet, location);
