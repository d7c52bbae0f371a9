//! Relationships: visible only when the caller sees the relationship and both its ends.

use crate::entities;
use crate::list::{Column, Listing};
use crate::sources::parse_uuid;
use crate::sql::{insert_rows, Arg, Sql};
use crate::{visibility, Store};
use cairn_domain::filter::{ListPage, ListQuery};
use cairn_domain::relationship::{Relationship, RelationshipWrite};
use cairn_domain::visibility::VisibilityScope;
use cairn_domain::{StoreError, Timestamp};
use std::collections::HashMap;
use uuid::Uuid;

type RelationshipRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
);
const SELECT: &str =
    "r.id, r.source_id, r.target_id, s.entity_type, t.entity_type, r.key, r.subtype, r.description, r.stix_id, \
     r.tlp_color, r.estimated_threat_start_time, r.estimated_threat_end_time, r.created_at, r.last_updated_at";
const FROM: &str = "relationships r JOIN entities s ON s.id = r.source_id JOIN entities t ON t.id = r.target_id";

const LISTING: Listing = Listing {
    from: FROM,
    id: "r.id",
    column: |field| {
        Some(match field {
            "id" => Column::Plain("r.id"),
            "data.source" => Column::Plain("r.source_id"),
            "data.target" => Column::Plain("r.target_id"),
            "data.key" => Column::Plain("r.key"),
            "meta.tlp_color" => Column::Plain("r.tlp_color"),
            "created_at" => Column::Plain("r.created_at"),
            "last_updated_at" => Column::Plain("r.last_updated_at"),
            "sources" => {
                Column::Exists("SELECT 1 FROM relationship_sources x WHERE x.relationship_id = r.id AND x.source_id")
            }
            _ => return None,
        })
    },
    default_sort: &[("r.last_updated_at", true)],
};

/// The relationship `r` is visible, and so are both its ends.
fn visible(scope: &VisibilityScope) -> Sql {
    if matches!(scope, VisibilityScope::Everything) {
        return Sql::new("1 = 1");
    }
    let mut sql = visibility::objects(scope, "relationship_sources", "relationship_id", "r.id", "r.tlp_rank");
    for end in ["r.source_id", "r.target_id"] {
        sql.push(&format!(
            " AND EXISTS (SELECT 1 FROM entities e WHERE e.id = {end} AND "
        ));
        sql.append(&entities::visible(scope)).push(")");
    }
    sql
}

impl Store {
    async fn complete_relationships(&self, rows: Vec<RelationshipRow>) -> Result<Vec<Relationship>, StoreError> {
        let mut sql = Sql::new("SELECT relationship_id, source_id FROM relationship_sources WHERE relationship_id IN ");
        sql.arg_list(rows.iter().map(|r| r.0.clone()))
            .push(" ORDER BY relationship_id, source_id");
        let links: Vec<(String, String)> = on_reader!(self, |pool| fetch_all!(pool, (String, String), sql))?;
        let mut sources: HashMap<String, Vec<Uuid>> = HashMap::new();
        for (r, s) in links {
            sources.entry(r).or_default().push(parse_uuid(&s)?);
        }
        rows.into_iter()
            .map(
                |(
                    id,
                    source,
                    target,
                    source_type,
                    target_type,
                    key,
                    subtype,
                    description,
                    stix_id,
                    tlp,
                    start,
                    end,
                    created_at,
                    last_updated_at,
                )| {
                    Ok(Relationship {
                        sources: sources.remove(&id).unwrap_or_default(),
                        id: parse_uuid(&id)?,
                        source: parse_uuid(&source)?,
                        target: parse_uuid(&target)?,
                        source_type,
                        target_type,
                        key,
                        subtype,
                        description,
                        stix_id,
                        tlp_color: tlp
                            .map(|t| t.parse())
                            .transpose()
                            .map_err(|e: cairn_domain::tlp::BadTlpColor| StoreError::Internal(e.to_string()))?,
                        estimated_threat_start_time: start.map(Timestamp::from_micros),
                        estimated_threat_end_time: end.map(Timestamp::from_micros),
                        created_at: Timestamp::from_micros(created_at),
                        last_updated_at: Timestamp::from_micros(last_updated_at),
                    })
                },
            )
            .collect()
    }

    /// The relationships the caller can see that match the query.
    pub async fn list_relationships(
        &self,
        scope: &VisibilityScope,
        query: &ListQuery,
    ) -> Result<ListPage<Relationship>, StoreError> {
        let page = self
            .list::<RelationshipRow>(&LISTING, SELECT, visible(scope), query)
            .await?;
        Ok(ListPage {
            items: self.complete_relationships(page.items).await?,
            total: page.total,
            total_is_estimate: page.total_is_estimate,
        })
    }

    /// Relationships by id (those the caller sees), in the order given.
    pub async fn relationships_by_ids(
        &self,
        scope: &VisibilityScope,
        ids: &[Uuid],
    ) -> Result<Vec<Relationship>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {SELECT} FROM {FROM} WHERE r.id IN "));
        sql.arg_list(ids.iter().map(ToString::to_string))
            .push(" AND ")
            .append(&visible(scope));
        let rows = on_reader!(self, |pool| fetch_all!(pool, RelationshipRow, sql))?;
        let mut by_id: HashMap<Uuid, Relationship> = self
            .complete_relationships(rows)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// One relationship the caller can see.
    pub async fn get_relationship(&self, scope: &VisibilityScope, id: Uuid) -> Result<Relationship, StoreError> {
        self.relationships_by_ids(scope, &[id])
            .await?
            .pop()
            .ok_or_else(|| StoreError::NotFound(format!("relationship {id}")))
    }

    /// Existing relationships among `(source, key, target)` triples: `(id, source, key, target, visible)`.
    pub async fn relationship_keys(
        &self,
        scope: &VisibilityScope,
        triples: &[(Uuid, String, Uuid)],
    ) -> Result<Vec<(Uuid, Uuid, String, Uuid, bool)>, StoreError> {
        if triples.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new("SELECT r.id, r.source_id, r.key, r.target_id, CASE WHEN ");
        sql.append(&visible(scope))
            .push(" THEN 1 ELSE 0 END FROM relationships r WHERE r.source_id IN ");
        sql.arg_list(triples.iter().map(|t| t.0.to_string()));
        let rows: Vec<(String, String, String, String, i32)> = on_reader!(self, |pool| fetch_all!(
            pool,
            (String, String, String, String, i32),
            sql
        ))?;
        let mut out = Vec::new();
        for (id, source, key, target, visible) in rows {
            let (source, target) = (parse_uuid(&source)?, parse_uuid(&target)?);
            if triples
                .iter()
                .any(|(s, k, t)| *s == source && *k == key && *t == target)
            {
                out.push((parse_uuid(&id)?, source, key, target, visible == 1));
            }
        }
        Ok(out)
    }

    /// Creates and replaces relationships, all or none. Returns them in input order.
    pub async fn write_relationships(
        &self,
        scope: &VisibilityScope,
        writes: &[RelationshipWrite],
    ) -> Result<Vec<Relationship>, StoreError> {
        let now = Timestamp::now().micros();
        let mut statements = Vec::new();
        let replaced: Vec<String> = writes.iter().filter(|w| w.exists).map(|w| w.id.to_string()).collect();
        for w in writes.iter().filter(|w| w.exists) {
            let mut update = Sql::new("UPDATE relationships SET source_id = ");
            update
                .arg(w.source.to_string())
                .push(", target_id = ")
                .arg(w.target.to_string());
            update
                .push(", key = ")
                .arg(w.key.as_str())
                .push(", subtype = ")
                .arg(w.subtype.clone());
            update.push(", description = ").arg(w.description.clone());
            update
                .push(", tlp_color = ")
                .arg(w.tlp_color.map(|t| t.as_str().to_owned()));
            update.push(", tlp_rank = ").arg(w.tlp_color.map(|t| t.rank()));
            update
                .push(", estimated_threat_start_time = ")
                .arg(w.estimated_threat_start_time.map(Timestamp::micros));
            update
                .push(", estimated_threat_end_time = ")
                .arg(w.estimated_threat_end_time.map(Timestamp::micros));
            update
                .push(", last_updated_at = ")
                .arg(now)
                .push(" WHERE id = ")
                .arg(w.id.to_string());
            statements.push(update);
        }
        let rows: Vec<Vec<Arg>> = writes
            .iter()
            .filter(|w| !w.exists)
            .map(|w| {
                vec![
                    Arg::from(w.id.to_string()),
                    Arg::from(w.source.to_string()),
                    Arg::from(w.target.to_string()),
                    Arg::from(w.key.as_str()),
                    Arg::from(w.subtype.clone()),
                    Arg::from(w.description.clone()),
                    Arg::from(w.stix_id.as_str()),
                    Arg::from(w.tlp_color.map(|t| t.as_str().to_owned())),
                    Arg::from(w.tlp_color.map(|t| t.rank())),
                    Arg::from(w.estimated_threat_start_time.map(Timestamp::micros)),
                    Arg::from(w.estimated_threat_end_time.map(Timestamp::micros)),
                    Arg::from(now),
                    Arg::from(now),
                ]
            })
            .collect();
        statements.extend(insert_rows(
            "INSERT INTO relationships (id, source_id, target_id, key, subtype, description, stix_id, tlp_color, tlp_rank, \
             estimated_threat_start_time, estimated_threat_end_time, created_at, last_updated_at)",
            rows,
            "",
        ));
        if !replaced.is_empty() {
            let mut clear = Sql::new("DELETE FROM relationship_sources WHERE relationship_id IN ");
            clear.arg_list(replaced);
            statements.push(clear);
        }
        let links: Vec<Vec<Arg>> = writes
            .iter()
            .flat_map(|w| {
                w.sources
                    .iter()
                    .map(|s| vec![Arg::from(w.id.to_string()), Arg::from(s.to_string())])
            })
            .collect();
        statements.extend(insert_rows(
            "INSERT INTO relationship_sources (relationship_id, source_id)",
            links,
            "ON CONFLICT DO NOTHING",
        ));
        in_transaction!(self, |tx| async {
            for statement in &statements {
                execute!(&mut *tx, statement)?;
            }
            Ok::<_, StoreError>(())
        }
        .await)
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                StoreError::Conflict("a relationship with the same source, key and target already exists".to_owned())
            }
            other => other,
        })?;
        self.relationships_by_ids(scope, &writes.iter().map(|w| w.id).collect::<Vec<_>>())
            .await
    }

    /// Deletes a relationship the caller can see.
    pub async fn delete_relationship(&self, scope: &VisibilityScope, id: Uuid) -> Result<(), StoreError> {
        self.get_relationship(scope, id).await?;
        let mut sql = Sql::new("DELETE FROM relationships WHERE id = ");
        sql.arg(id.to_string());
        on_writer!(self, |pool| execute!(pool, sql))?;
        Ok(())
    }
}
