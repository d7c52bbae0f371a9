-- Attachments: metadata here, bytes stored once per SHA-256 (in this table on PostgreSQL,
-- under the data directory on SQLite).

CREATE TABLE attachment_blobs (
    sha256  TEXT PRIMARY KEY,
    size    BIGINT NOT NULL,
    content BYTEA
);

CREATE TABLE attachments (
    id           BIGSERIAL PRIMARY KEY,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL REFERENCES attachment_blobs (sha256),
    uploader_id  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE entity_attachments (
    entity_id     TEXT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    attachment_id BIGINT NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
    PRIMARY KEY (entity_id, attachment_id)
);
CREATE INDEX entity_attachments_by_attachment ON entity_attachments (attachment_id);
