-- Attachments: metadata here, bytes stored once per SHA-256 (in this table on PostgreSQL,
-- under the data directory on SQLite).

CREATE TABLE attachment_blobs (
    sha256  TEXT PRIMARY KEY,
    size    INTEGER NOT NULL,
    content BLOB
);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL REFERENCES attachment_blobs (sha256),
    uploader_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE entity_attachments (
    entity_id     TEXT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    attachment_id INTEGER NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
    PRIMARY KEY (entity_id, attachment_id)
);
CREATE INDEX entity_attachments_by_attachment ON entity_attachments (attachment_id);
