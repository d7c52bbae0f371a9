//! Fresh databases for tests: a SQLite file in a temporary folder, or a uniquely named
//! PostgreSQL database under `CAIRN_TEST_POSTGRES_URL`, dropped when the test ends.

use std::path::PathBuf;

/// The variable naming the PostgreSQL server tests create their databases on.
pub const POSTGRES_URL_VAR: &str = "CAIRN_TEST_POSTGRES_URL";

/// A database that exists for one test.
pub struct TestDatabase {
    /// The URL to open it with.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Directory(PathBuf),
    Postgres { server: String, name: String },
}

/// Whether the PostgreSQL half of a test can run. Says so loudly when it cannot; in CI
/// (`CI` set) a missing server is a failure, never a skip.
pub fn postgres_configured() -> bool {
    if std::env::var_os(POSTGRES_URL_VAR).is_some() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{POSTGRES_URL_VAR} is not set: in CI the PostgreSQL half of the tests must run");
    }
    eprintln!("\n*** SKIPPING the PostgreSQL half: set {POSTGRES_URL_VAR}=postgres://user@host:5432/postgres ***\n");
    false
}

impl TestDatabase {
    /// A new SQLite database in a new temporary folder.
    pub fn sqlite() -> TestDatabase {
        let dir = std::env::temp_dir().join(format!("cairn-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("cannot create a temporary folder for a test database");
        TestDatabase {
            url: format!("sqlite://{}", dir.join("cairn.db").display()),
            cleanup: Cleanup::Directory(dir),
        }
    }

    /// A new PostgreSQL database, or `None` where no server is configured
    /// (see [`postgres_configured`]).
    pub async fn postgres() -> Option<TestDatabase> {
        if !postgres_configured() {
            return None;
        }
        let server = std::env::var(POSTGRES_URL_VAR).ok()?;
        let name = format!("cairn_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = connect_server(&server).await;
        sqlx::Executor::execute(&mut admin, format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let url = with_database(&server, &name);
        Some(TestDatabase {
            url,
            cleanup: Cleanup::Postgres { server, name },
        })
    }
}

async fn connect_server(server: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(server)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {POSTGRES_URL_VAR}: {e}"))
}

/// The server URL with its database name replaced.
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    format!("{host_part}/{name}{query}")
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Directory(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { server, name } => {
                let (server, name) = (server.clone(), name.clone());
                // Drop may run inside a runtime that is shutting down: use a thread of our own.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    runtime.block_on(async {
                        let mut admin = connect_server(&server).await;
                        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        sqlx::Executor::execute(&mut admin, drop.as_str()).await.ok()
                    })
                })
                .join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(with_database("postgres://u@h:5432", "x"), "postgres://u@h:5432/x");
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}

/// A column value for [`crate::Store::load_rows`].
#[derive(Debug, Clone)]
pub enum RawValue {
    Int(i64),
    Text(String),
    /// PostgreSQL types its parameters, so a NULL says which column type it stands for.
    NullInt,
    NullText,
}

/// Rows for one table: `(table, columns, rows)`.
pub type RawTable = (&'static str, &'static [&'static str], Vec<Vec<RawValue>>);

impl crate::Store {
    /// Inserts rows exactly as given, with no validation, in one transaction of multi-row
    /// inserts: the physical limit that benchmarks compare Cairn's own write path with.
    pub async fn load_rows(&self, tables: Vec<RawTable>) -> Result<(), cairn_domain::StoreError> {
        use crate::sql::{insert_rows, Arg};
        let mut statements = Vec::new();
        for (table, columns, rows) in tables {
            let rows = rows
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .map(|v| match v {
                            RawValue::Int(n) => Arg::I64(n),
                            RawValue::Text(t) => Arg::Text(t),
                            RawValue::NullInt => Arg::OptI64(None),
                            RawValue::NullText => Arg::OptText(None),
                        })
                        .collect()
                })
                .collect();
            statements.extend(insert_rows(
                &format!("INSERT INTO {table} ({})", columns.join(", ")),
                rows,
                "",
            ));
        }
        in_transaction!(self, |tx| async {
            for statement in &statements {
                execute!(&mut *tx, statement)?;
            }
            Ok::<_, cairn_domain::StoreError>(())
        }
        .await)
    }
}
