-- The facet walk's GiST led with the facet's text (btree_gist): its text ranges and prefix
-- penalty cluster an insertion-built tree poorly by facet, so a walk of a small facet (a team
-- type and skill in one district: ~600 of 1,600,000 rows) read ~275 index pages for 72 rows.
-- At 1,000,000 people, 72 nearest of 'district:360702/type:patrol/skill:first_aid' took
-- 2.1 ms at p50; a bigint key (the facet's 64-bit hash, exact numeric ranges and penalty)
-- in the same insertion-built GiST takes 0.43 ms; a whole district's facet 0.62 -> 0.53 ms.
-- The walk matches the key only (a second condition on the text made the planner sort whole
-- facets): a colliding facet's rows still fail the ring's own district, type and skill
-- filters, and walks are merged by volunteer id, so a collision could cost speed, never a
-- wrong or repeated row. The column is generated: every writer (the trigger) gets it.
ALTER TABLE responder_facets
    ADD COLUMN key bigint GENERATED ALWAYS AS (hashtextextended(facet, 0)) STORED;

DROP INDEX responder_facets_knn;
CREATE INDEX responder_facets_knn ON responder_facets USING gist (key, location);

ANALYZE responder_facets;
