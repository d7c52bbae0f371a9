//! SQL text with its arguments, and the macros that run the same statement on either backend.

use cairn_domain::StoreError;
use std::fmt::Write;

/// A value bound to a `$n` placeholder.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    I64(i64),
    OptI64(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Bool(bool),
    Bytes(Vec<u8>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::I64(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptI64(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

/// A statement being built: text with `$1, $2, …` and the values in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
    /// The text with `?1, ?2, …`, made when first run on SQLite (see [`Dialect`]).
    sqlite_text: std::sync::OnceLock<String>,
}

/// How each database wants its placeholders. PostgreSQL takes `$n`. SQLite takes `$n` and
/// `?n` too, but records each in a list that binding then searches linearly for every
/// argument: a bulk insert with thousands of arguments binds in quadratic time. Anonymous
/// `?` placeholders are not recorded, so they bind in linear time; they are right whenever
/// the placeholders appear as `$1, $2, …` in order, each once, which is how [`Sql`] writes them.
pub(crate) trait Dialect: sqlx::Database {
    fn text(sql: &Sql) -> &str;
}

impl Dialect for sqlx::Postgres {
    fn text(sql: &Sql) -> &str {
        &sql.text
    }
}

impl Dialect for sqlx::Sqlite {
    fn text(sql: &Sql) -> &str {
        sql.sqlite_text.get_or_init(|| sqlite_placeholders(&sql.text))
    }
}

/// `$1 … $n` in order → `?`; anything else (out of order, repeated) → `?n`.
fn sqlite_placeholders(text: &str) -> String {
    let mut anonymous = String::with_capacity(text.len());
    let mut numbered = String::with_capacity(text.len());
    let mut in_order = true;
    let mut expected = 1u64;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            let mut digits = String::new();
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                digits.push(d);
            }
            in_order &= digits.parse::<u64>().ok() == Some(expected);
            expected += 1;
            anonymous.push('?');
            numbered.push('?');
            numbered.push_str(&digits);
        } else {
            anonymous.push(c);
            numbered.push(c);
        }
    }
    if in_order {
        anonymous
    } else {
        numbered
    }
}

/// A query over `sql`'s text in the dialect of the database it runs on.
pub(crate) fn query<DB: Dialect>(sql: &Sql) -> sqlx::query::Query<'_, DB, <DB as sqlx::Database>::Arguments<'_>> {
    sqlx::query(DB::text(sql))
}

/// [`query`], decoding rows as `T`.
pub(crate) fn query_as<DB: Dialect, T>(
    sql: &Sql,
) -> sqlx::query::QueryAs<'_, DB, T, <DB as sqlx::Database>::Arguments<'_>>
where
    T: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    sqlx::query_as(DB::text(sql))
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_owned(),
            args: Vec::new(),
            sqlite_text: std::sync::OnceLock::new(),
        }
    }

    /// Appends text.
    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.sqlite_text.take();
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn arg<A: Into<Arg>>(&mut self, value: A) -> &mut Sql {
        self.sqlite_text.take();
        self.args.push(value.into());
        let _ = write!(self.text, "${}", self.args.len());
        self
    }

    /// Appends `(p1, p2, …)` for the values, or `(NULL)` for none (which matches nothing).
    pub fn arg_list<A: Into<Arg>>(&mut self, values: impl IntoIterator<Item = A>) -> &mut Sql {
        self.push("(");
        let mut first = true;
        for v in values {
            if !first {
                self.push(", ");
            }
            first = false;
            self.arg(v);
        }
        if first {
            self.push("NULL");
        }
        self.push(")")
    }

    /// Appends another statement's text and arguments, renumbering its placeholders.
    pub fn append(&mut self, other: &Sql) -> &mut Sql {
        self.sqlite_text.take();
        let offset = self.args.len();
        let mut rest = other.text.as_str();
        while let Some(pos) = rest.find('$') {
            self.text.push_str(&rest[..pos]);
            let digits: String = rest[pos + 1..].chars().take_while(char::is_ascii_digit).collect();
            if digits.is_empty() {
                self.text.push('$');
                rest = &rest[pos + 1..];
            } else {
                let n: usize = digits.parse().unwrap_or(0);
                let _ = write!(self.text, "${}", n + offset);
                rest = &rest[pos + 1 + digits.len()..];
            }
        }
        self.text.push_str(rest);
        self.args.extend(other.args.iter().cloned());
        self
    }
}

/// Multi-row `INSERT`s: `head` up to `VALUES`, each row's values, `tail` after them; split
/// so that no statement binds more than SQLite's limit of arguments.
pub(crate) fn insert_rows(head: &str, rows: Vec<Vec<Arg>>, tail: &str) -> Vec<Sql> {
    const MAX_ARGS: usize = 30_000;
    let width = rows.first().map_or(1, Vec::len).max(1);
    let per_statement = (MAX_ARGS / width).max(1);
    let mut statements = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut sql = Sql::new(head);
        sql.push(" VALUES ");
        for (i, row) in rows.by_ref().take(per_statement).enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push("(");
            for (j, value) in row.into_iter().enumerate() {
                if j > 0 {
                    sql.push(", ");
                }
                sql.arg(value);
            }
            sql.push(")");
        }
        sql.push(" ").push(tail);
        statements.push(sql);
    }
    statements
}

/// Maps a driver error to the domain's: unique violations are conflicts, lost connections
/// are "unavailable", the rest is internal (and logged, never shown).
pub(crate) fn error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict("an object with the same unique value already exists".to_owned())
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::Invalid(vec![cairn_domain::Problem {
                pointer: None,
                detail: "the request refers to an object that does not exist".to_owned(),
            }])
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::RowNotFound => StoreError::NotFound("object".to_owned()),
        _ => StoreError::Internal(e.to_string()),
    }
}

/// Binds every argument of a [`Sql`] to a query (the same text serves both backends).
macro_rules! bind_args {
    ($query:expr, $sql:expr) => {{
        let mut q = $query;
        for a in &$sql.args {
            q = match a {
                $crate::sql::Arg::I64(v) => q.bind(*v),
                $crate::sql::Arg::OptI64(v) => q.bind(*v),
                $crate::sql::Arg::Text(v) => q.bind(v.as_str()),
                $crate::sql::Arg::OptText(v) => q.bind(v.as_deref()),
                $crate::sql::Arg::Bool(v) => q.bind(*v),
                $crate::sql::Arg::Bytes(v) => q.bind(v.as_slice()),
            };
        }
        q
    }};
}

/// Runs a statement, returning the number of rows it touched.
macro_rules! execute {
    ($exec:expr, $sql:expr) => {
        bind_args!($crate::sql::query(&$sql), $sql)
            .execute($exec)
            .await
            .map(|r| r.rows_affected())
            .map_err($crate::sql::error)
    };
}

/// Runs a query and decodes every row as `$ty` (a tuple).
macro_rules! fetch_all {
    ($exec:expr, $ty:ty, $sql:expr) => {
        bind_args!($crate::sql::query_as::<_, $ty>(&$sql), $sql)
            .fetch_all($exec)
            .await
            .map_err($crate::sql::error)
    };
}

/// Runs a query and decodes at most one row as `$ty`.
macro_rules! fetch_optional {
    ($exec:expr, $ty:ty, $sql:expr) => {
        bind_args!($crate::sql::query_as::<_, $ty>(&$sql), $sql)
            .fetch_optional($exec)
            .await
            .map_err($crate::sql::error)
    };
}

/// Runs an `INSERT … RETURNING id` and yields the id (returning early on failure).
macro_rules! returning_id {
    ($exec:expr, $sql:expr) => {
        fetch_optional!($exec, (i64,), $sql)?
            .map(|(id,)| id)
            .ok_or_else(|| cairn_domain::StoreError::Internal("INSERT returned no id".to_owned()))?
    };
}

/// Evaluates `$body` with `$pool` bound to the pool for reads: the same code, compiled once
/// per backend.
macro_rules! on_reader {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &*$store.pools {
            $crate::Pools::Sqlite { reader: $pool, .. } => $body,
            $crate::Pools::Postgres($pool) => $body,
        }
    };
}

/// Like [`on_reader`], with the pool for writes (SQLite's single writer).
macro_rules! on_writer {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &*$store.pools {
            $crate::Pools::Sqlite { writer: $pool, .. } => $body,
            $crate::Pools::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` inside one transaction on the writer: committed if it returns `Ok`, rolled
/// back (by drop) if it returns `Err`. `$tx` is the open transaction. On SQLite the
/// transaction takes the write lock at once (`BEGIN IMMEDIATE`), so a concurrent writer in
/// another process waits for the busy timeout instead of failing half-way.
macro_rules! in_transaction {
    ($store:expr, |$tx:ident| $body:expr) => {
        match &*$store.pools {
            $crate::Pools::Sqlite { writer, .. } => {
                let mut $tx = writer.begin_with("BEGIN IMMEDIATE").await.map_err($crate::sql::error)?;
                let out = $body;
                if out.is_ok() {
                    $tx.commit().await.map_err($crate::sql::error)?;
                }
                out
            }
            $crate::Pools::Postgres(pool) => {
                let mut $tx = pool.begin().await.map_err($crate::sql::error)?;
                let out = $body;
                if out.is_ok() {
                    $tx.commit().await.map_err($crate::sql::error)?;
                }
                out
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_renumbers_placeholders() {
        let mut a = Sql::new("a = ");
        a.arg(1i64);
        let mut b = Sql::new("b = ");
        b.arg(2i64).push(" AND c = ").arg(3i64);
        a.push(" AND ").append(&b);
        assert_eq!(a.text, "a = $1 AND b = $2 AND c = $3");
        assert_eq!(a.args.len(), 3);
    }

    #[test]
    fn sqlite_gets_anonymous_placeholders_when_they_are_in_order() {
        assert_eq!(
            sqlite_placeholders("a = $1 AND b IN ($2, $3) AND c = '$x'"),
            "a = ? AND b IN (?, ?) AND c = '$x'"
        );
        assert_eq!(sqlite_placeholders("a = $2 AND b = $1"), "a = ?2 AND b = ?1");
        assert_eq!(sqlite_placeholders("a = $1 OR b = $1"), "a = ?1 OR b = ?1");
        let mut inner = Sql::new("y IN ");
        inner.arg_list([2i64, 3, 4]);
        let mut built = Sql::new("x = ");
        built.arg(1i64).push(" AND ").append(&inner);
        assert_eq!(sqlite_placeholders(&built.text), "x = ? AND y IN (?, ?, ?)");
    }

    #[test]
    fn empty_lists_match_nothing() {
        let mut s = Sql::new("x IN ");
        s.arg_list(Vec::<i64>::new());
        assert_eq!(s.text, "x IN (NULL)");
    }
}
