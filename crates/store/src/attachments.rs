//! Attachments: metadata in a table, contents stored once per SHA-256 — as files under the
//! data directory on SQLite, in the database on PostgreSQL (so every `cairn` process sharing
//! it sees them). Paths are built from the hash only, never from anything a user sent.

use crate::sql::{Arg, Sql};
use crate::{entities, Pools, Store};
use cairn_domain::attachment::Attachment;
use cairn_domain::identity::UserId;
use cairn_domain::token::hex;
use cairn_domain::visibility::VisibilityScope;
use cairn_domain::{StoreError, Timestamp};
use sha2::{Digest, Sha256};

type AttachmentRow = (i64, String, String, i64, String, Option<i64>, i64);
const SELECT: &str = "a.id, a.filename, a.content_type, a.size, a.sha256, a.uploader_id, a.created_at";

fn decode((id, filename, content_type, size, sha256, uploader, created_at): AttachmentRow) -> Attachment {
    Attachment {
        id,
        filename,
        content_type,
        size,
        sha256,
        uploader,
        created_at: Timestamp::from_micros(created_at),
    }
}

/// An attachment `a` is visible through a visible entity it is linked to, or to its uploader
/// while it is linked to none.
fn visible(scope: &VisibilityScope, caller: UserId) -> Sql {
    if matches!(scope, VisibilityScope::Everything) {
        return Sql::new("1 = 1");
    }
    let mut sql = Sql::new("(EXISTS (SELECT 1 FROM entity_attachments ea JOIN entities e ON e.id = ea.entity_id WHERE ea.attachment_id = a.id AND ");
    sql.append(&entities::visible(scope));
    sql.push(") OR (a.uploader_id = ").arg(caller);
    sql.push(" AND NOT EXISTS (SELECT 1 FROM entity_attachments ea2 WHERE ea2.attachment_id = a.id)))");
    sql
}

impl Store {
    fn blob_path(&self, sha256: &str) -> Option<std::path::PathBuf> {
        self.blob_dir.as_ref().map(|dir| dir.join(&sha256[..2]).join(sha256))
    }

    /// Stores a file's contents (once per content) and a new attachment for it.
    pub async fn create_attachment(
        &self,
        uploader: UserId,
        filename: &str,
        content_type: &str,
        content: &[u8],
    ) -> Result<Attachment, StoreError> {
        let sha256 = hex(&Sha256::digest(content));
        let size = content.len() as i64;
        if let Some(path) = self.blob_path(&sha256) {
            if !path.exists() {
                write_atomically(&path, content).await?;
            }
        }
        let mut blob = Sql::new("INSERT INTO attachment_blobs (sha256, size, content) VALUES (");
        blob.arg(sha256.as_str()).push(", ").arg(size).push(", ");
        match &*self.pools {
            Pools::Sqlite { .. } => blob.push("NULL"),
            Pools::Postgres(_) => blob.arg(Arg::Bytes(content.to_vec())),
        };
        blob.push(") ON CONFLICT (sha256) DO NOTHING");
        let mut insert = Sql::new(
            "INSERT INTO attachments (filename, content_type, size, sha256, uploader_id, created_at) VALUES (",
        );
        insert
            .arg(filename)
            .push(", ")
            .arg(content_type)
            .push(", ")
            .arg(size)
            .push(", ")
            .arg(sha256.as_str());
        insert
            .push(", ")
            .arg(uploader)
            .push(", ")
            .arg(Timestamp::now().micros())
            .push(&format!(") RETURNING {}", SELECT.replace("a.", "")));
        let row = in_transaction!(self, |tx| async {
            execute!(&mut *tx, blob)?;
            fetch_optional!(&mut *tx, AttachmentRow, insert)
        }
        .await)?;
        row.map(decode)
            .ok_or_else(|| StoreError::Internal("INSERT returned no attachment".to_owned()))
    }

    /// An attachment's metadata, if the caller can see it.
    pub async fn get_attachment(
        &self,
        scope: &VisibilityScope,
        caller: UserId,
        id: i64,
    ) -> Result<Attachment, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {SELECT} FROM attachments a WHERE a.id = "));
        sql.arg(id).push(" AND ").append(&visible(scope, caller));
        let row = on_reader!(self, |pool| fetch_optional!(pool, AttachmentRow, sql))?;
        row.map(decode)
            .ok_or_else(|| StoreError::NotFound(format!("attachment {id}")))
    }

    /// Which of `ids` the caller can see (and so may link to an entity).
    pub async fn visible_attachments(
        &self,
        scope: &VisibilityScope,
        caller: UserId,
        ids: &[i64],
    ) -> Result<Vec<i64>, StoreError> {
        let mut sql = Sql::new("SELECT a.id FROM attachments a WHERE a.id IN ");
        sql.arg_list(ids.iter().copied())
            .push(" AND ")
            .append(&visible(scope, caller));
        let rows: Vec<(i64,)> = on_reader!(self, |pool| fetch_all!(pool, (i64,), sql))?;
        Ok(ids
            .iter()
            .copied()
            .filter(|id| rows.iter().any(|(r,)| r == id))
            .collect())
    }

    /// The bytes of a visible attachment.
    pub async fn attachment_content(&self, attachment: &Attachment) -> Result<Vec<u8>, StoreError> {
        if let Some(path) = self.blob_path(&attachment.sha256) {
            return tokio::fs::read(&path)
                .await
                .map_err(|e| StoreError::Internal(format!("attachment {} contents unreadable: {e}", attachment.id)));
        }
        let mut sql = Sql::new("SELECT content FROM attachment_blobs WHERE sha256 = ");
        sql.arg(attachment.sha256.as_str());
        let row: Option<(Vec<u8>,)> = on_reader!(self, |pool| fetch_optional!(pool, (Vec<u8>,), sql))?;
        row.map(|(bytes,)| bytes)
            .ok_or_else(|| StoreError::Internal(format!("attachment {} has no contents", attachment.id)))
    }
}

/// Writes a file so that readers never see half of it: to a temporary name, then renamed.
async fn write_atomically(path: &std::path::Path, content: &[u8]) -> Result<(), StoreError> {
    let fail = |e: std::io::Error| StoreError::Unavailable(format!("cannot store an attachment: {e}"));
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(fail)?;
    }
    let temporary = path.with_extension(format!("partial-{}", uuid::Uuid::new_v4().simple()));
    tokio::fs::write(&temporary, content).await.map_err(fail)?;
    tokio::fs::rename(&temporary, path).await.map_err(fail)
}
