//! Observables: typed values, unique on (type, normalized value), looked up by value.

use crate::entities::{self, observable_upserts};
use crate::list::{Column, Listing};
use crate::sources::parse_uuid;
use crate::sql::{insert_rows, Arg, Sql};
use crate::{visibility, Store};
use cairn_domain::filter::{ListPage, ListQuery};
use cairn_domain::observable::{Observable, ObservableWrite};
use cairn_domain::visibility::VisibilityScope;
use cairn_domain::{StoreError, Timestamp};
use std::collections::HashMap;

type ObservableRow = (i64, String, String, String, i64, i64);
const SELECT: &str = "o.id, o.type, o.value, o.maliciousness, o.created_at, o.last_updated_at";

const LISTING: Listing = Listing {
    from: "observables o",
    id: "o.id",
    column: |field| {
        Some(match field {
            "id" => Column::Plain("o.id"),
            "type" => Column::Plain("o.type"),
            "value" => Column::Plain("o.value"),
            "meta.maliciousness" => Column::Plain("o.maliciousness"),
            "created_at" => Column::Plain("o.created_at"),
            "last_updated_at" => Column::Plain("o.last_updated_at"),
            "entities" => {
                Column::Exists("SELECT 1 FROM entity_observables x WHERE x.observable_id = o.id AND x.entity_id")
            }
            "sources" => {
                Column::Exists("SELECT 1 FROM observable_sources x WHERE x.observable_id = o.id AND x.source_id")
            }
            _ => return None,
        })
    },
    default_sort: &[("o.last_updated_at", true)],
};

/// An observable `o` is visible when one of its sources is, or a visible entity mentions it.
fn visible(scope: &VisibilityScope) -> Sql {
    let Some(sources) = scope.visible_sources() else {
        return Sql::new("1 = 1");
    };
    let mut sql =
        Sql::new("(EXISTS (SELECT 1 FROM observable_sources os WHERE os.observable_id = o.id AND os.source_id IN ");
    sql.arg_list(sources.iter().map(ToString::to_string));
    sql.push(") OR EXISTS (SELECT 1 FROM entity_observables eo JOIN entities e ON e.id = eo.entity_id WHERE eo.observable_id = o.id AND ");
    sql.append(&entities::visible(scope)).push("))");
    sql
}

impl Store {
    async fn complete_observables(
        &self,
        scope: &VisibilityScope,
        rows: Vec<ObservableRow>,
    ) -> Result<Vec<Observable>, StoreError> {
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let mut entities = Sql::new("SELECT eo.observable_id, e.id FROM entity_observables eo JOIN entities e ON e.id = eo.entity_id WHERE eo.observable_id IN ");
        entities
            .arg_list(ids.iter().copied())
            .push(" AND ")
            .append(&entities::visible(scope));
        entities.push(" ORDER BY eo.observable_id, e.id");
        let mut sources =
            Sql::new("SELECT s.observable_id, s.source_id FROM observable_sources s WHERE s.observable_id IN ");
        sources
            .arg_list(ids.iter().copied())
            .push(" AND ")
            .append(&visibility::sources(scope, "s.source_id"));
        sources.push(" ORDER BY s.observable_id, s.source_id");
        let entities: Vec<(i64, String)> = on_reader!(self, |pool| fetch_all!(pool, (i64, String), entities))?;
        let sources: Vec<(i64, String)> = on_reader!(self, |pool| fetch_all!(pool, (i64, String), sources))?;
        let mut by_observable: HashMap<i64, (Vec<uuid::Uuid>, Vec<uuid::Uuid>)> = HashMap::new();
        for (o, e) in entities {
            by_observable.entry(o).or_default().0.push(parse_uuid(&e)?);
        }
        for (o, s) in sources {
            by_observable.entry(o).or_default().1.push(parse_uuid(&s)?);
        }
        Ok(rows
            .into_iter()
            .map(|(id, kind, value, maliciousness, created_at, last_updated_at)| {
                let (entities, sources) = by_observable.remove(&id).unwrap_or_default();
                Observable {
                    id,
                    kind,
                    value,
                    maliciousness,
                    entities,
                    sources,
                    created_at: Timestamp::from_micros(created_at),
                    last_updated_at: Timestamp::from_micros(last_updated_at),
                }
            })
            .collect())
    }

    /// The observables the caller can see that match the query.
    pub async fn list_observables(
        &self,
        scope: &VisibilityScope,
        query: &ListQuery,
    ) -> Result<ListPage<Observable>, StoreError> {
        let page = self
            .list::<ObservableRow>(&LISTING, SELECT, visible(scope), query)
            .await?;
        Ok(ListPage {
            items: self.complete_observables(scope, page.items).await?,
            total: page.total,
            total_is_estimate: page.total_is_estimate,
        })
    }

    /// One observable, if the caller can see it.
    pub async fn get_observable(&self, scope: &VisibilityScope, id: i64) -> Result<Observable, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {SELECT} FROM observables o WHERE o.id = "));
        sql.arg(id).push(" AND ").append(&visible(scope));
        let row = on_reader!(self, |pool| fetch_optional!(pool, ObservableRow, sql))?;
        let row = row.ok_or_else(|| StoreError::NotFound(format!("observable {id}")))?;
        Ok(self.complete_observables(scope, vec![row]).await?.remove(0))
    }

    /// The ids of existing observables among `(type, value)` pairs, with whether the caller sees each.
    pub async fn observable_keys(
        &self,
        scope: &VisibilityScope,
        keys: &[(&str, &str)],
    ) -> Result<Vec<(i64, String, String, bool)>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new("SELECT o.id, o.type, o.value, CASE WHEN ");
        sql.append(&visible(scope))
            .push(" THEN 1 ELSE 0 END FROM observables o WHERE o.value IN ");
        sql.arg_list(keys.iter().map(|(_, v)| (*v).to_owned()));
        let rows: Vec<(i64, String, String, i32)> =
            on_reader!(self, |pool| fetch_all!(pool, (i64, String, String, i32), sql))?;
        Ok(rows
            .into_iter()
            .filter(|(_, kind, value, _)| keys.iter().any(|(k, v)| k == kind && v == value))
            .map(|(id, kind, value, visible)| (id, kind, value, visible == 1))
            .collect())
    }

    /// Creates or updates observables (matched by type and value), all or none, tying each to
    /// its sources. Returns them in input order, as the caller sees them.
    pub async fn write_observables(
        &self,
        scope: &VisibilityScope,
        writes: &[ObservableWrite],
    ) -> Result<Vec<Observable>, StoreError> {
        let now = Timestamp::now().micros();
        let upserts = observable_upserts(writes.iter().map(|w| (w.kind, w.value.as_str(), w.maliciousness)), now);
        let ids = in_transaction!(self, |tx| async {
            let mut ids: HashMap<(String, String), i64> = HashMap::new();
            for statement in &upserts {
                let rows: Vec<(i64, String, String)> = fetch_all!(&mut *tx, (i64, String, String), statement)?;
                ids.extend(rows.into_iter().map(|(id, kind, value)| ((kind, value), id)));
            }
            let mut rows = Vec::new();
            for w in writes {
                if let Some(id) = ids.get(&(w.kind.to_owned(), w.value.clone())) {
                    rows.extend(w.sources.iter().map(|s| vec![Arg::from(*id), Arg::from(s.to_string())]));
                }
            }
            for statement in insert_rows(
                "INSERT INTO observable_sources (observable_id, source_id)",
                rows,
                "ON CONFLICT DO NOTHING",
            ) {
                execute!(&mut *tx, statement)?;
            }
            Ok::<_, StoreError>(ids)
        }
        .await)?;
        let ordered: Vec<i64> = writes
            .iter()
            .filter_map(|w| ids.get(&(w.kind.to_owned(), w.value.clone())).copied())
            .collect();
        let mut sql = Sql::new(&format!("SELECT {SELECT} FROM observables o WHERE o.id IN "));
        sql.arg_list(ordered.iter().copied());
        let rows = on_reader!(self, |pool| fetch_all!(pool, ObservableRow, sql))?;
        let by_id: HashMap<i64, Observable> = self
            .complete_observables(scope, rows)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
        // The same observable may be named twice in one request: each mention gets its copy.
        Ok(ordered.iter().filter_map(|id| by_id.get(id).cloned()).collect())
    }

    /// Sets how malicious a visible observable is.
    pub async fn set_maliciousness(
        &self,
        scope: &VisibilityScope,
        id: i64,
        maliciousness: &str,
    ) -> Result<Observable, StoreError> {
        self.get_observable(scope, id).await?;
        let mut sql = Sql::new("UPDATE observables SET maliciousness = ");
        sql.arg(maliciousness)
            .push(", last_updated_at = ")
            .arg(Timestamp::now().micros())
            .push(" WHERE id = ")
            .arg(id);
        on_writer!(self, |pool| execute!(pool, sql))?;
        self.get_observable(scope, id).await
    }

    /// Deletes a visible observable; entities that mentioned it lose the link.
    pub async fn delete_observable(&self, scope: &VisibilityScope, id: i64) -> Result<(), StoreError> {
        self.get_observable(scope, id).await?;
        let mut sql = Sql::new("DELETE FROM observables WHERE id = ");
        sql.arg(id);
        on_writer!(self, |pool| execute!(pool, sql))?;
        Ok(())
    }
}
