//! One way to run a list query: visibility, filters, sort, page and count, for every resource.

use crate::dialect::like_escape;
use crate::sql::{Arg, Sql};
use crate::Store;
use cairn_domain::filter::{Condition, ListPage, ListQuery, Op, TextMatch, Value};
use cairn_domain::StoreError;

/// From this offset on, a page's ids are found before its rows are read.
const DEFERRED_FROM_OFFSET: u64 = 1000;

/// How a filter or sort field maps onto SQL.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Column {
    /// A column or expression of the listed table.
    Plain(&'static str),
    /// A related row: `EXISTS (<subquery> = value)`, e.g. the groups a user belongs to.
    /// Filter only; it cannot be sorted on.
    Exists(&'static str),
    /// An expression of the current time (µs), e.g. relevancy. Sort only.
    AtNow(fn(i64) -> String),
}

/// What the store needs to know to list one resource.
pub(crate) struct Listing {
    /// The `FROM` clause, with the alias the columns use.
    pub from: &'static str,
    /// The listed table's key, the last sort key that makes every order total.
    pub id: &'static str,
    /// Filter and sort field → SQL. Fields are already checked against the resource's spec.
    pub column: fn(&str) -> Option<Column>,
    /// The order when the request names none (`(expression, descending)`).
    pub default_sort: &'static [(&'static str, bool)],
}

/// The decoded row types both drivers can produce.
pub(crate) trait Row:
    for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin
{
}
impl<T> Row for T where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
{
}

impl Store {
    /// Runs a list query: `select` is the column list decoded as `R`, `visible` the caller's
    /// visibility predicate (from [`crate::visibility`]). Returns the page and the total.
    pub(crate) async fn list<R: Row>(
        &self,
        listing: &Listing,
        select: &str,
        visible: Sql,
        query: &ListQuery,
    ) -> Result<ListPage<R>, StoreError> {
        self.list_from(listing, Sql::new(listing.from), select, visible, query)
            .await
    }

    /// [`Store::list`] over a `FROM` clause with arguments of its own (an aggregation, say).
    pub(crate) async fn list_from<R: Row>(
        &self,
        listing: &Listing,
        from: Sql,
        select: &str,
        visible: Sql,
        query: &ListQuery,
    ) -> Result<ListPage<R>, StoreError> {
        let mut filter = Sql::new(" WHERE ");
        filter.append(&visible);
        for condition in &query.filter.0 {
            filter.push(" AND ").append(&compile(listing, condition)?);
        }

        let mut matches = Sql::new("SELECT 1 FROM ");
        matches.append(&from).append(&filter);
        if query.count_only {
            let (total, total_is_estimate) = self.count(&matches).await?;
            return Ok(ListPage {
                items: Vec::new(),
                total,
                total_is_estimate,
            });
        }

        let now = cairn_domain::Timestamp::now().micros();
        let sort: Vec<(String, bool)> = if query.sort.is_empty() {
            listing
                .default_sort
                .iter()
                .map(|(e, d)| ((*e).to_owned(), *d))
                .collect()
        } else {
            query
                .sort
                .iter()
                .map(|k| match (listing.column)(k.field) {
                    Some(Column::Plain(expr)) => Ok((expr.to_owned(), k.descending)),
                    Some(Column::AtNow(expr)) => Ok((expr(now), k.descending)),
                    _ => Err(StoreError::Internal(format!("no sort column for {}", k.field))),
                })
                .collect::<Result<_, _>>()?
        };
        // The id breaks ties in the direction of the last key, so that one index, read forwards
        // or backwards, serves the whole order.
        let tiebreak = if sort.last().is_some_and(|(_, descending)| *descending) {
            " DESC"
        } else {
            " ASC"
        };
        let mut order = String::from(" ORDER BY ");
        for (expr, descending) in &sort {
            order.push_str(expr);
            order.push_str(if *descending { " DESC, " } else { " ASC, " });
        }
        order.push_str(listing.id);
        order.push_str(tiebreak);

        let mut window = Sql::new(&order);
        window.push(" LIMIT ").arg(i64::from(query.limit));
        window
            .push(" OFFSET ")
            .arg(i64::try_from(query.offset).unwrap_or(i64::MAX));
        let mut page = Sql::new(&format!("SELECT {select} FROM "));
        page.append(&from);
        if query.offset >= DEFERRED_FROM_OFFSET {
            // Deep pages: find the page's ids first (the index alone can answer that), then
            // read only those rows, instead of reading every row the offset skips.
            page.push(" WHERE ")
                .push(listing.id)
                .push(&format!(" IN (SELECT {} FROM ", listing.id));
            page.append(&from)
                .append(&filter)
                .append(&window)
                .push(")")
                .push(&order);
        } else {
            page.append(&filter).append(&window);
        }
        let items: Vec<R> = on_reader!(self, |pool| fetch_all!(pool, R, page))?;
        // A short page that starts inside the matches already tells how many there are: the
        // lookups integrations make thousands of times a minute need no count query.
        let short = (items.len() as u64) < u64::from(query.limit) && (!items.is_empty() || query.offset == 0);
        let (total, total_is_estimate) = if short {
            (query.offset + items.len() as u64, false)
        } else {
            self.count(&matches).await?
        };
        Ok(ListPage {
            items,
            total,
            total_is_estimate,
        })
    }
}

/// One `filter[...]` key: its values OR-ed, negated as a whole for `!`.
fn compile(listing: &Listing, condition: &Condition) -> Result<Sql, StoreError> {
    let column = (listing.column)(condition.field)
        .ok_or_else(|| StoreError::Internal(format!("no filter column for {}", condition.field)))?;
    let mut sql = Sql::new(if condition.op == Op::Ne { "NOT (" } else { "(" });
    for (i, value) in condition.values.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        match column {
            Column::AtNow(_) => return Err(StoreError::Internal(format!("{} cannot be filtered", condition.field))),
            Column::Exists(subquery) => {
                sql.push("EXISTS (")
                    .push(subquery)
                    .push(" = ")
                    .arg(arg(value))
                    .push(")");
            }
            Column::Plain(expr) => match value {
                Value::Text(TextMatch::Exact(text)) => {
                    sql.push(expr).push(" = ").arg(text.as_str());
                }
                Value::Text(TextMatch::Wildcard(pattern)) => {
                    let like = like_escape(pattern).replace('*', "%");
                    sql.push("lower(")
                        .push(expr)
                        .push(") LIKE lower(")
                        .arg(like)
                        .push(") ESCAPE '\\'");
                }
                Value::Text(TextMatch::Contains(part)) => {
                    let like = format!("%{}%", like_escape(part));
                    sql.push("lower(")
                        .push(expr)
                        .push(") LIKE lower(")
                        .arg(like)
                        .push(") ESCAPE '\\'");
                }
                other => {
                    let op = match condition.op {
                        Op::Eq | Op::Ne => " = ",
                        Op::Gt => " > ",
                        Op::Ge => " >= ",
                        Op::Lt => " < ",
                        Op::Le => " <= ",
                    };
                    sql.push(expr).push(op).arg(arg(other));
                }
            },
        }
    }
    sql.push(")");
    Ok(sql)
}

fn arg(value: &Value) -> Arg {
    match value {
        Value::Text(TextMatch::Exact(t) | TextMatch::Wildcard(t) | TextMatch::Contains(t)) => Arg::Text(t.clone()),
        Value::Enum(t) => Arg::Text(t.clone()),
        Value::Uuid(u) => Arg::Text(u.to_string()),
        Value::Integer(n) => Arg::I64(*n),
        Value::Time(t) => Arg::I64(t.micros()),
        Value::Boolean(b) => Arg::Bool(*b),
    }
}
