//! Schema migrations: numbered SQL files per backend, applied in order, each in its own
//! transaction, recorded in `cairn_migrations`. On PostgreSQL an advisory lock makes
//! concurrent starts of several `cairn` processes apply each migration once.

use crate::{sql, Pools, Store};
use cairn_domain::permission::Permission;
use cairn_domain::{StoreError, Timestamp};
use sqlx::Connection;

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "identity",
        sqlite: include_str!("../migrations/sqlite/0001_identity.sql"),
        postgres: include_str!("../migrations/postgres/0001_identity.sql"),
    },
    Migration {
        version: 2,
        name: "entities",
        sqlite: include_str!("../migrations/sqlite/0002_entities.sql"),
        postgres: include_str!("../migrations/postgres/0002_entities.sql"),
    },
    Migration {
        version: 3,
        name: "relationships",
        sqlite: include_str!("../migrations/sqlite/0003_relationships.sql"),
        postgres: include_str!("../migrations/postgres/0003_relationships.sql"),
    },
    Migration {
        version: 4,
        name: "list indexes",
        sqlite: include_str!("../migrations/sqlite/0004_list_indexes.sql"),
        postgres: include_str!("../migrations/postgres/0004_list_indexes.sql"),
    },
    Migration {
        version: 5,
        name: "attachments",
        sqlite: include_str!("../migrations/sqlite/0005_attachments.sql"),
        postgres: include_str!("../migrations/postgres/0005_attachments.sql"),
    },
];

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS cairn_migrations (
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

/// Arbitrary but fixed: the key of the advisory lock held while migrating PostgreSQL.
const MIGRATION_LOCK: i64 = 0x6361_6972_6e00;

/// The same steps on either backend's connection; `$begin` opens a transaction that holds
/// the write lock, inside which the ledger is read again so that a racing process that
/// applied a migration first is seen.
macro_rules! apply_on {
    ($conn:expr, $pick:expr, $begin:expr) => {{
        sqlx::raw_sql(LEDGER).execute(&mut *$conn).await.map_err(sql::error)?;
        let mut count = 0;
        for m in MIGRATIONS {
            let mut tx = $conn.begin_with($begin).await.map_err(sql::error)?;
            let done: Option<(i64,)> = sqlx::query_as("SELECT version FROM cairn_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await
                .map_err(sql::error)?;
            if done.is_some() {
                continue;
            }
            sqlx::raw_sql($pick(m))
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::Internal(format!("migration {} ({}) failed: {e}", m.version, m.name)))?;
            sqlx::query("INSERT INTO cairn_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(m.version)
                .bind(m.name)
                .bind(Timestamp::now().micros())
                .execute(&mut *tx)
                .await
                .map_err(sql::error)?;
            tx.commit().await.map_err(sql::error)?;
            count += 1;
        }
        // Permissions are the domain's list: new ones appear without a migration.
        for p in Permission::all() {
            sqlx::query("INSERT INTO permissions (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
                .bind(p.id())
                .bind(p.to_string())
                .execute(&mut *$conn)
                .await
                .map_err(sql::error)?;
        }
        Ok(count)
    }};
}

/// How many migrations this binary knows.
pub fn known_migrations() -> usize {
    MIGRATIONS.len()
}

impl Store {
    /// Applies every migration not applied yet and brings the permission catalogue up to date.
    /// Returns how many migrations ran.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        match &*self.pools {
            Pools::Sqlite { writer, .. } => {
                let mut pooled = writer.acquire().await.map_err(sql::error)?;
                let conn: &mut sqlx::SqliteConnection = &mut pooled;
                apply_on!(conn, |m: &Migration| m.sqlite, "BEGIN IMMEDIATE")
            }
            Pools::Postgres(pool) => {
                let mut conn = pool.acquire().await.map_err(sql::error)?;
                sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(MIGRATION_LOCK)
                    .execute(&mut *conn)
                    .await
                    .map_err(sql::error)?;
                let applied: Result<usize, StoreError> = async {
                    let conn: &mut sqlx::PgConnection = &mut conn;
                    apply_on!(conn, |m: &Migration| m.postgres, "BEGIN")
                }
                .await;
                let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(MIGRATION_LOCK)
                    .execute(&mut *conn)
                    .await
                    .map_err(sql::error);
                let applied = applied?;
                unlocked?;
                Ok(applied)
            }
        }
    }

    /// How many migrations this binary knows that the database has not applied.
    pub async fn pending_migrations(&self) -> Result<usize, StoreError> {
        let sql = sql::Sql::new("SELECT version FROM cairn_migrations");
        let applied: Vec<(i64,)> = on_reader!(self, |pool| fetch_all!(pool, (i64,), sql))?;
        Ok(MIGRATIONS
            .iter()
            .filter(|m| !applied.iter().any(|(v,)| *v == m.version))
            .count())
    }
}
