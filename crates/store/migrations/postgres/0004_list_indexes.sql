-- Entity lists filter by type and page newest first: serve both from one index, with the id
-- as the tiebreaker so that no page needs a sort.
CREATE INDEX entities_by_type_update_id ON entities (entity_type, last_updated_at, id);
DROP INDEX entities_by_type;
CREATE INDEX observables_by_type_value ON observables (type, value, id);
