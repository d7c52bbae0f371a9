//! What SQLite and PostgreSQL do differently, kept in one place.

use crate::sql::Sql;
use crate::{Pools, Store};
use cairn_domain::StoreError;

impl Store {
    /// The number of rows `select` (a `SELECT 1 FROM … WHERE …`) matches: exact up to the
    /// count threshold; above it, PostgreSQL's planner estimate (never below the threshold)
    /// and `true`. SQLite has no cheap estimate, so it counts exactly.
    pub(crate) async fn count(&self, select: &Sql) -> Result<(u64, bool), StoreError> {
        let threshold = self.options.count_threshold;
        let mut bounded = Sql::new("SELECT count(*) FROM (");
        bounded
            .append(select)
            .push(" LIMIT ")
            .arg(threshold as i64 + 1)
            .push(") AS matches");
        let (n,): (i64,) = on_reader!(self, |pool| { fetch_optional!(pool, (i64,), bounded)?.unwrap_or((0,)) });
        let n = n.max(0) as u64;
        if n <= threshold {
            return Ok((n, false));
        }
        match &*self.pools {
            Pools::Sqlite { reader, .. } => {
                let mut exact = Sql::new("SELECT count(*) FROM (");
                exact.append(select).push(") AS matches");
                let (n,): (i64,) = fetch_optional!(reader, (i64,), exact)?.unwrap_or((0,));
                Ok((n.max(0) as u64, false))
            }
            Pools::Postgres(pool) => {
                let mut explain = Sql::new("EXPLAIN ");
                explain.append(select);
                let (plan,): (String,) = fetch_optional!(pool, (String,), explain)?
                    .ok_or_else(|| StoreError::Internal("EXPLAIN returned no plan".to_owned()))?;
                let estimate = planned_rows(&plan).unwrap_or(0);
                Ok((estimate.max(threshold + 1), true))
            }
        }
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The row estimate of a plan's top node: `Seq Scan on t  (cost=0.00..1.05 rows=5 width=4)`.
fn planned_rows(plan_line: &str) -> Option<u64> {
    let rest = &plan_line[plan_line.find("rows=")? + 5..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_planner_estimate() {
        assert_eq!(
            planned_rows("Seq Scan on sources  (cost=0.00..18.50 rows=850 width=32)"),
            Some(850)
        );
        assert_eq!(planned_rows("Result"), None);
    }

    #[test]
    fn like_patterns_escape_their_wildcards() {
        assert_eq!(like_escape("100%_a\\b"), "100\\%\\_a\\\\b");
    }
}
