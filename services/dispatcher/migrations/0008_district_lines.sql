-- District lines (issue #11): the districts whose volunteers an incident may call. The
-- incident's own district, plus neighbours the desk asked for and holds, or an admin approved.
-- Their supervisors see the incident. NULL on rows raised before this: the own district only.
ALTER TABLE incidents ADD COLUMN draw_districts text[];
CREATE INDEX incidents_by_draw_district ON incidents USING gin (draw_districts);
