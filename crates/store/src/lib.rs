//! Cairn's storage: one implementation of every storage operation over SQLite (embedded) and
//! PostgreSQL (production), chosen by the database URL.
//!
//! SQL is written once, with `$n` placeholders that both drivers understand; the few real
//! dialect differences (migrations, count estimates, locking) live in [`dialect`] and the
//! migration folders. This crate is the only one that knows SQL: it returns domain types and
//! [`cairn_domain::StoreError`], never a driver error.

#[macro_use]
mod sql;
mod attachments;
pub mod bootstrap;
mod dialect;
pub mod entities;
mod identity;
mod list;
mod migrate;
mod observables;
pub mod relationships;
mod sources;
mod taxonomies;
pub mod testing;
mod visibility;

pub use bootstrap::{AdminToken, Bootstrap};
pub use identity::TokenCheck;
pub use migrate::known_migrations;

use cairn_domain::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Which database a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names, if Cairn supports it.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

pub(crate) enum Pools {
    /// SQLite allows one writer at a time: writes go through a one-connection pool, reads
    /// through several read-only connections, so readers never wait behind the writer (WAL).
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Postgres(PgPool),
}

/// Tuning a store is opened with.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Above this many matches, PostgreSQL lists report an estimated total.
    pub count_threshold: u64,
    /// Connections to PostgreSQL, or SQLite readers.
    pub max_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            count_threshold: 10_000,
            max_connections: 16,
        }
    }
}

/// Cairn's store. Cheap to clone: clones share the connection pools.
#[derive(Clone)]
pub struct Store {
    pools: Arc<Pools>,
    options: StoreOptions,
    /// Where SQLite keeps attachment contents: `attachments/` beside the database file.
    blob_dir: Option<std::path::PathBuf>,
}

impl Store {
    /// Opens the database a URL names (`sqlite://path/to/cairn.db`, `postgres://…`), creating
    /// a SQLite file if needed. Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let mut blob_dir = None;
        let pools = match Backend::of_url(url) {
            Some(Backend::Sqlite) => {
                let base = SqliteConnectOptions::from_str(url)
                    .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL: {e}")))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let file = base.get_filename();
                blob_dir = Some(file.parent().unwrap_or(std::path::Path::new(".")).join("attachments"));
                let writer = SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(base.clone())
                    .await
                    .map_err(sql::error)?;
                let reader = SqlitePoolOptions::new()
                    .max_connections(options.max_connections.max(1))
                    .connect_with(base.read_only(true))
                    .await
                    .map_err(sql::error)?;
                Pools::Sqlite { writer, reader }
            }
            Some(Backend::Postgres) => {
                let opts = PgConnectOptions::from_str(url)
                    .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?;
                let pool = PgPoolOptions::new()
                    .max_connections(options.max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await
                    .map_err(sql::error)?;
                Pools::Postgres(pool)
            }
            None => {
                return Err(StoreError::Unavailable(
                    "the database URL must start with sqlite:// or postgres://".to_owned(),
                ))
            }
        };
        Ok(Store {
            pools: Arc::new(pools),
            options,
            blob_dir,
        })
    }

    /// The backend this store runs on.
    pub fn backend(&self) -> Backend {
        match &*self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// The count threshold in force.
    pub fn count_threshold(&self) -> u64 {
        self.options.count_threshold
    }

    /// Whether the database answers and every migration is applied (readiness).
    pub async fn is_ready(&self) -> bool {
        matches!(self.pending_migrations().await, Ok(0))
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match &*self.pools {
            Pools::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}
