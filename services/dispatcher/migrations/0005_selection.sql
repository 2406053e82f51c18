-- Live commitments are looked up per walked responder with the committed states passed as a
-- parameter (they come from domain.COMMITTED), which a partial index on literal states cannot
-- serve; this one can, whatever the set.
CREATE INDEX callouts_by_volunteer_state ON callouts (volunteer_id, state);
