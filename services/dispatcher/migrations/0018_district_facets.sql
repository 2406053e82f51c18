-- Every selection the dispatcher runs keeps to the incident's draw_districts, so a skill is
-- almost always wanted inside districts: the skill facet walked with the district as a ring
-- filter reads seventeen strangers per match at an eighteenth of the people per district.
-- A district's skill keys let index.py walk one facet per district (merged by distance)
-- for every filter mix. Same keys as 0009, plus 'district:<d>/skill:<s>' and
-- 'district:<d>/type:<t>/skill:<s>'; the trigger calls this function, so it keeps them too.
CREATE OR REPLACE FUNCTION responder_facet_keys(skills text[], district text, team_type text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY['district:' || district, 'district:' || district || '/type:' || team_type]
        || ARRAY(SELECT DISTINCT 'skill:' || s FROM unnest(skills) s)
        || ARRAY(SELECT DISTINCT 'type:' || team_type || '/skill:' || s FROM unnest(skills) s)
        || ARRAY(SELECT DISTINCT 'district:' || district || '/skill:' || s FROM unnest(skills) s)
        || ARRAY(SELECT DISTINCT 'district:' || district || '/type:' || team_type || '/skill:' || s
                 FROM unnest(skills) s)
$$;

INSERT INTO responder_facets (facet, volunteer_id, location)
SELECT f, r.volunteer_id, r.location
FROM responders r, unnest(responder_facet_keys(r.skills, r.district, r.team_type)) f
WHERE r.callable AND cardinality(r.skills) > 0
ON CONFLICT (volunteer_id, facet) DO NOTHING;

ANALYZE responder_facets;
