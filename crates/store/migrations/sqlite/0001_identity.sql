-- Identity and access: sources, permissions, roles, groups, users, API tokens.
-- Times are integer microseconds since the Unix epoch.

CREATE TABLE sources (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    source_type     TEXT NOT NULL,
    reliability     TEXT,
    created_at      INTEGER NOT NULL,
    last_updated_at INTEGER NOT NULL
);
CREATE INDEX sources_by_update ON sources (last_updated_at, id);
CREATE INDEX sources_by_name ON sources (name);

CREATE TABLE permissions (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE roles (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL UNIQUE,
    description     TEXT,
    created_at      INTEGER NOT NULL,
    last_updated_at INTEGER NOT NULL
);

CREATE TABLE role_permissions (
    role_id       INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission_id INTEGER NOT NULL REFERENCES permissions (id),
    PRIMARY KEY (role_id, permission_id)
);

CREATE TABLE access_groups (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL UNIQUE,
    source_id       TEXT NOT NULL UNIQUE REFERENCES sources (id),
    max_tlp         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    last_updated_at INTEGER NOT NULL
);

CREATE TABLE access_group_sources (
    group_id  INTEGER NOT NULL REFERENCES access_groups (id) ON DELETE CASCADE,
    source_id TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, source_id)
);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    username        TEXT NOT NULL UNIQUE,
    email           TEXT,
    is_active       INTEGER NOT NULL,
    is_admin        INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    last_updated_at INTEGER NOT NULL
);

CREATE TABLE user_memberships (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES access_groups (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX user_memberships_by_group ON user_memberships (group_id);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_by_role ON user_roles (role_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);
