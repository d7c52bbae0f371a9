-- Entities, the observables they mention, taxonomies and tags.

CREATE TABLE entities (
    id              TEXT PRIMARY KEY,
    stix_id         TEXT NOT NULL UNIQUE,
    entity_type     TEXT NOT NULL,
    title           TEXT NOT NULL,
    tlp_color       TEXT,
    tlp_rank        INTEGER,
    observed_at     INTEGER NOT NULL,
    half_life       INTEGER NOT NULL,
    data            TEXT NOT NULL,
    meta            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    last_updated_at INTEGER NOT NULL
);
CREATE INDEX entities_by_update ON entities (last_updated_at, id);
CREATE INDEX entities_by_type ON entities (entity_type, last_updated_at);
CREATE INDEX entities_by_created ON entities (created_at);
CREATE INDEX entities_by_title ON entities (title);

CREATE TABLE entity_sources (
    entity_id TEXT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    source_id TEXT NOT NULL REFERENCES sources (id),
    PRIMARY KEY (entity_id, source_id)
);
CREATE INDEX entity_sources_by_source ON entity_sources (source_id);

CREATE TABLE entity_tags (
    entity_id TEXT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    PRIMARY KEY (entity_id, tag)
);
CREATE INDEX entity_tags_by_tag ON entity_tags (tag);

CREATE TABLE taxonomies (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL,
    path            TEXT NOT NULL UNIQUE,
    parent_id       INTEGER REFERENCES taxonomies (id),
    description     TEXT,
    created_at      INTEGER NOT NULL,
    last_updated_at INTEGER NOT NULL
);
CREATE INDEX taxonomies_by_parent ON taxonomies (parent_id);

CREATE TABLE entity_taxonomies (
    entity_id   TEXT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    taxonomy_id INTEGER NOT NULL REFERENCES taxonomies (id) ON DELETE CASCADE,
    PRIMARY KEY (entity_id, taxonomy_id)
);
CREATE INDEX entity_taxonomies_by_taxonomy ON entity_taxonomies (taxonomy_id);

CREATE TABLE observables (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    type            TEXT NOT NULL,
    value           TEXT NOT NULL,
    maliciousness   TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    last_updated_at INTEGER NOT NULL,
    UNIQUE (type, value)
);
CREATE INDEX observables_by_value ON observables (value);
CREATE INDEX observables_by_update ON observables (last_updated_at, id);

CREATE TABLE entity_observables (
    entity_id     TEXT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    observable_id INTEGER NOT NULL REFERENCES observables (id) ON DELETE CASCADE,
    link_type     TEXT,
    PRIMARY KEY (entity_id, observable_id)
);
CREATE INDEX entity_observables_by_observable ON entity_observables (observable_id);

CREATE TABLE observable_sources (
    observable_id INTEGER NOT NULL REFERENCES observables (id) ON DELETE CASCADE,
    source_id     TEXT NOT NULL REFERENCES sources (id),
    PRIMARY KEY (observable_id, source_id)
);
CREATE INDEX observable_sources_by_source ON observable_sources (source_id);
