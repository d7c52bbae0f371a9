-- Relationships between entities; they go when either end goes.

CREATE TABLE relationships (
    id                          TEXT PRIMARY KEY,
    source_id                   TEXT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    target_id                   TEXT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    key                         TEXT NOT NULL,
    subtype                     TEXT,
    description                 TEXT,
    stix_id                     TEXT NOT NULL UNIQUE,
    tlp_color                   TEXT,
    tlp_rank                    INTEGER,
    estimated_threat_start_time INTEGER,
    estimated_threat_end_time   INTEGER,
    created_at                  INTEGER NOT NULL,
    last_updated_at             INTEGER NOT NULL,
    UNIQUE (source_id, key, target_id)
);
CREATE INDEX relationships_by_target ON relationships (target_id);
CREATE INDEX relationships_by_update ON relationships (last_updated_at, id);

CREATE TABLE relationship_sources (
    relationship_id TEXT NOT NULL REFERENCES relationships (id) ON DELETE CASCADE,
    source_id       TEXT NOT NULL REFERENCES sources (id),
    PRIMARY KEY (relationship_id, source_id)
);
CREATE INDEX relationship_sources_by_source ON relationship_sources (source_id);
