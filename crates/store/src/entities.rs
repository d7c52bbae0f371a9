//! Entities and the observables, sources, tags and taxonomies they link to.

use crate::list::{Column, Listing};
use crate::sources::parse_uuid;
use crate::sql::{insert_rows, Arg, Sql};
use crate::{visibility, Store};
use cairn_domain::entity::{Entity, EntityWrite};
use cairn_domain::filter::{ListPage, ListQuery};
use cairn_domain::visibility::VisibilityScope;
use cairn_domain::{StoreError, Timestamp};
use serde_json::{Map, Value};
use std::collections::HashMap;
use uuid::Uuid;

type EntityRow = (String, String, String, String, String, String, i64, i64, i64, i64);
const SELECT: &str =
    "e.id, e.stix_id, e.entity_type, e.title, e.data, e.meta, e.observed_at, e.half_life, e.created_at, e.last_updated_at";

const LISTING: Listing = Listing {
    from: "entities e",
    id: "e.id",
    column: |field| {
        Some(match field {
            "id" => Column::Plain("e.id"),
            "type" | "data.type" => Column::Plain("e.entity_type"),
            "data.id" => Column::Plain("e.stix_id"),
            "data.title" => Column::Plain("e.title"),
            "meta.tlp_color" => Column::Plain("e.tlp_color"),
            "created_at" => Column::Plain("e.created_at"),
            "last_updated_at" => Column::Plain("e.last_updated_at"),
            "observables" => {
                Column::Exists("SELECT 1 FROM entity_observables x WHERE x.entity_id = e.id AND x.observable_id")
            }
            "sources" => Column::Exists("SELECT 1 FROM entity_sources x WHERE x.entity_id = e.id AND x.source_id"),
            "tags" | "meta.tags" => Column::Exists("SELECT 1 FROM entity_tags x WHERE x.entity_id = e.id AND x.tag"),
            "taxonomies" | "meta.taxonomies" => {
                Column::Exists("SELECT 1 FROM entity_taxonomies x WHERE x.entity_id = e.id AND x.taxonomy_id")
            }
            // Ascending relevancy = least relevant first: the longest ago in half-lives.
            "relevancy" => Column::AtNow(|now| format!("((e.observed_at - {now}) * 1.0 / e.half_life)")),
            _ => return None,
        })
    },
    default_sort: &[("e.last_updated_at", true)],
};

/// The visibility predicate of entities aliased `e`.
pub(crate) fn visible(scope: &VisibilityScope) -> Sql {
    visibility::objects(scope, "entity_sources", "entity_id", "e.id", "e.tlp_rank")
}

/// Who an entity is, for matching writes against what exists.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityKey {
    pub id: Uuid,
    pub stix_id: String,
    /// Whether the caller may see it.
    pub visible: bool,
}

/// An entity named by its UUID or its `data.id`.
#[derive(Debug, Clone)]
pub enum EntityRef {
    Id(Uuid),
    StixId(String),
}

fn json_map(text: &str) -> Result<Map<String, Value>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Internal(format!("corrupt JSON in store: {e}")))
}

/// `(owner, item)` pairs grouped by owner.
fn grouped<T>(pairs: Vec<(String, T)>) -> HashMap<String, Vec<T>> {
    let mut out: HashMap<String, Vec<T>> = HashMap::new();
    for (owner, item) in pairs {
        out.entry(owner).or_default().push(item);
    }
    out
}

impl Store {
    async fn complete_entities(&self, rows: Vec<EntityRow>) -> Result<Vec<Entity>, StoreError> {
        let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        let links = |table: &str, column: &str| {
            let mut sql = Sql::new(&format!("SELECT entity_id, {column} FROM {table} WHERE entity_id IN "));
            sql.arg_list(ids.iter().cloned())
                .push(&format!(" ORDER BY entity_id, {column}"));
            sql
        };
        let (sources, tags, taxonomies, observables, attachments) = (
            links("entity_sources", "source_id"),
            links("entity_tags", "tag"),
            links("entity_taxonomies", "taxonomy_id"),
            links("entity_observables", "observable_id"),
            links("entity_attachments", "attachment_id"),
        );
        let sources = grouped(on_reader!(self, |pool| fetch_all!(pool, (String, String), sources))?);
        let tags = grouped(on_reader!(self, |pool| fetch_all!(pool, (String, String), tags))?);
        let taxonomies = grouped(on_reader!(self, |pool| fetch_all!(pool, (String, i64), taxonomies))?);
        let observables = grouped(on_reader!(self, |pool| fetch_all!(pool, (String, i64), observables))?);
        let attachments = grouped(on_reader!(self, |pool| fetch_all!(pool, (String, i64), attachments))?);
        rows.into_iter()
            .map(
                |(id, stix_id, entity_type, title, data, meta, observed_at, half_life, created_at, last_updated_at)| {
                    Ok(Entity {
                        id: parse_uuid(&id)?,
                        stix_id,
                        entity_type,
                        title,
                        data: json_map(&data)?,
                        meta: json_map(&meta)?,
                        observed_at: Timestamp::from_micros(observed_at),
                        half_life,
                        sources: sources
                            .get(&id)
                            .map_or(Ok(Vec::new()), |s| s.iter().map(|s| parse_uuid(s)).collect())?,
                        tags: tags.get(&id).cloned().unwrap_or_default(),
                        taxonomies: taxonomies.get(&id).cloned().unwrap_or_default(),
                        observables: observables.get(&id).cloned().unwrap_or_default(),
                        attachments: attachments.get(&id).cloned().unwrap_or_default(),
                        created_at: Timestamp::from_micros(created_at),
                        last_updated_at: Timestamp::from_micros(last_updated_at),
                    })
                },
            )
            .collect()
    }

    /// The entities the caller can see that match the query.
    pub async fn list_entities(
        &self,
        scope: &VisibilityScope,
        query: &ListQuery,
    ) -> Result<ListPage<Entity>, StoreError> {
        let page = self.list::<EntityRow>(&LISTING, SELECT, visible(scope), query).await?;
        Ok(ListPage {
            items: self.complete_entities(page.items).await?,
            total: page.total,
            total_is_estimate: page.total_is_estimate,
        })
    }

    /// One entity, by UUID or `data.id`, if the caller can see it.
    pub async fn get_entity(&self, scope: &VisibilityScope, key: &EntityRef) -> Result<Entity, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {SELECT} FROM entities e WHERE "));
        match key {
            EntityRef::Id(id) => sql.push("e.id = ").arg(id.to_string()),
            EntityRef::StixId(stix) => sql.push("e.stix_id = ").arg(stix.as_str()),
        };
        sql.push(" AND ").append(&visible(scope));
        let row = on_reader!(self, |pool| fetch_optional!(pool, EntityRow, sql))?;
        let what = || match key {
            EntityRef::Id(id) => format!("entity {id}"),
            EntityRef::StixId(stix) => format!("entity {stix}"),
        };
        let row = row.ok_or_else(|| StoreError::NotFound(what()))?;
        Ok(self.complete_entities(vec![row]).await?.remove(0))
    }

    /// Entities by UUID, in the order given (all of them: for answering a write).
    pub async fn entities_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Entity>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {SELECT} FROM entities e WHERE e.id IN "));
        sql.arg_list(ids.iter().map(ToString::to_string));
        let rows = on_reader!(self, |pool| fetch_all!(pool, EntityRow, sql))?;
        let mut by_id: HashMap<Uuid, Entity> = self
            .complete_entities(rows)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        ids.iter()
            .map(|id| {
                by_id
                    .remove(id)
                    .ok_or_else(|| StoreError::NotFound(format!("entity {id}")))
            })
            .collect()
    }

    /// The existing entities among `ids` and `stix_ids`, with whether the caller sees each.
    pub async fn entity_keys(
        &self,
        scope: &VisibilityScope,
        ids: &[Uuid],
        stix_ids: &[String],
    ) -> Result<Vec<EntityKey>, StoreError> {
        let mut sql = Sql::new("SELECT e.id, e.stix_id, CASE WHEN ");
        sql.append(&visible(scope))
            .push(" THEN 1 ELSE 0 END FROM entities e WHERE e.id IN ");
        sql.arg_list(ids.iter().map(ToString::to_string))
            .push(" OR e.stix_id IN ")
            .arg_list(stix_ids.iter().cloned());
        let rows: Vec<(String, String, i32)> = on_reader!(self, |pool| fetch_all!(pool, (String, String, i32), sql))?;
        rows.into_iter()
            .map(|(id, stix_id, visible)| {
                Ok(EntityKey {
                    id: parse_uuid(&id)?,
                    stix_id,
                    visible: visible == 1,
                })
            })
            .collect()
    }

    /// Creates and replaces entities, all or none, linking the observables their extracts
    /// name (creating those that are new). Returns the entities as stored, in input order.
    pub async fn write_entities(&self, writes: &[EntityWrite]) -> Result<Vec<Entity>, StoreError> {
        let now = Timestamp::now().micros();
        let statements = entity_statements(writes, now);
        let extracts = writes.iter().filter_map(|w| w.extracts.as_ref()).flatten();
        let observables = observable_upserts(extracts.map(|e| (e.kind, e.value.as_str(), e.maliciousness)), now);
        in_transaction!(self, |tx| async {
            for statement in &statements {
                execute!(&mut *tx, statement)?;
            }
            let mut ids: HashMap<(String, String), i64> = HashMap::new();
            for statement in &observables {
                let rows: Vec<(i64, String, String)> = fetch_all!(&mut *tx, (i64, String, String), statement)?;
                ids.extend(rows.into_iter().map(|(id, kind, value)| ((kind, value), id)));
            }
            for statement in observable_links(writes, &ids) {
                execute!(&mut *tx, statement)?;
            }
            Ok::<_, StoreError>(())
        }
        .await)
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                StoreError::Conflict("an entity with the same data.id already exists".to_owned())
            }
            other => other,
        })?;
        self.entities_by_ids(&writes.iter().map(|w| w.id).collect::<Vec<_>>())
            .await
    }

    /// Deletes an entity the caller can see, with its links (observables stay).
    pub async fn delete_entity(&self, scope: &VisibilityScope, id: Uuid) -> Result<(), StoreError> {
        let mut sql = Sql::new("DELETE FROM entities WHERE id = ");
        sql.arg(id.to_string())
            .push(" AND EXISTS (SELECT 1 FROM entities e WHERE e.id = ")
            .arg(id.to_string());
        sql.push(" AND ").append(&visible(scope)).push(")");
        match on_writer!(self, |pool| execute!(pool, sql))? {
            0 => Err(StoreError::NotFound(format!("entity {id}"))),
            _ => Ok(()),
        }
    }

    /// Tags in use on entities the caller can see, with how many entities carry each.
    pub async fn list_tags(
        &self,
        scope: &VisibilityScope,
        query: &ListQuery,
    ) -> Result<ListPage<(String, i64)>, StoreError> {
        const TAGS: Listing = Listing {
            from: "",
            id: "t.name",
            column: |field| {
                Some(Column::Plain(match field {
                    "name" => "t.name",
                    "count" => "t.count",
                    _ => return None,
                }))
            },
            default_sort: &[("t.count", true)],
        };
        let mut from = Sql::new(
            "(SELECT x.tag AS name, count(*) AS count FROM entity_tags x JOIN entities e ON e.id = x.entity_id WHERE ",
        );
        from.append(&visible(scope)).push(" GROUP BY x.tag) t");
        self.list_from::<(String, i64)>(&TAGS, from, "t.name, t.count", Sql::new("1 = 1"), query)
            .await
    }
}

/// Statements for the entity rows and their source, tag, taxonomy and attachment links (the
/// observable links follow once the observables have ids).
fn entity_statements(writes: &[EntityWrite], now: i64) -> Vec<Sql> {
    let mut out = Vec::new();
    let replaced: Vec<String> = writes.iter().filter(|w| w.exists).map(|w| w.id.to_string()).collect();
    let observed = |w: &EntityWrite| w.meta.estimated_observed_time.map_or(now, Timestamp::micros);
    let half_life = |w: &EntityWrite| {
        w.meta
            .half_life
            .unwrap_or_else(|| cairn_domain::entity::default_half_life(&w.entity_type))
    };
    for w in writes.iter().filter(|w| w.exists) {
        let mut update = Sql::new("UPDATE entities SET stix_id = ");
        update
            .arg(w.stix_id.as_str())
            .push(", entity_type = ")
            .arg(w.entity_type.as_str());
        update.push(", title = ").arg(w.title.as_str());
        update
            .push(", tlp_color = ")
            .arg(w.meta.tlp_color.map(|t| t.as_str().to_owned()));
        update.push(", tlp_rank = ").arg(w.meta.tlp_color.map(|t| t.rank()));
        // Without an estimated observed time, relevancy keeps decaying from the creation.
        update
            .push(", observed_at = COALESCE(")
            .arg(w.meta.estimated_observed_time.map(Timestamp::micros));
        update.push(", created_at)");
        update.push(", half_life = ").arg(half_life(w));
        update.push(", data = ").arg(Value::Object(w.data.clone()).to_string());
        update.push(", meta = ").arg(Value::Object(w.meta.stored()).to_string());
        update
            .push(", last_updated_at = ")
            .arg(now)
            .push(" WHERE id = ")
            .arg(w.id.to_string());
        out.push(update);
    }
    let new_rows: Vec<Vec<Arg>> = writes
        .iter()
        .filter(|w| !w.exists)
        .map(|w| {
            vec![
                Arg::from(w.id.to_string()),
                Arg::from(w.stix_id.as_str()),
                Arg::from(w.entity_type.as_str()),
                Arg::from(w.title.as_str()),
                Arg::from(w.meta.tlp_color.map(|t| t.as_str().to_owned())),
                Arg::from(w.meta.tlp_color.map(|t| t.rank())),
                Arg::from(observed(w)),
                Arg::from(half_life(w)),
                Arg::from(Value::Object(w.data.clone()).to_string()),
                Arg::from(Value::Object(w.meta.stored()).to_string()),
                Arg::from(now),
                Arg::from(now),
            ]
        })
        .collect();
    out.extend(insert_rows(
        "INSERT INTO entities (id, stix_id, entity_type, title, tlp_color, tlp_rank, observed_at, half_life, data, meta, created_at, last_updated_at)",
        new_rows,
        "",
    ));
    if !replaced.is_empty() {
        for table in ["entity_sources", "entity_tags", "entity_taxonomies"] {
            let mut clear = Sql::new(&format!("DELETE FROM {table} WHERE entity_id IN "));
            clear.arg_list(replaced.iter().cloned());
            out.push(clear);
        }
        // Observable and attachment links change only when the write names them.
        let given = |table: &str, named: &dyn Fn(&EntityWrite) -> bool| {
            let ids: Vec<String> = writes
                .iter()
                .filter(|w| w.exists && named(w))
                .map(|w| w.id.to_string())
                .collect();
            (!ids.is_empty()).then(|| {
                let mut clear = Sql::new(&format!("DELETE FROM {table} WHERE entity_id IN "));
                clear.arg_list(ids);
                clear
            })
        };
        out.extend(given("entity_observables", &|w| w.extracts.is_some()));
        out.extend(given("entity_attachments", &|w| w.attachments.is_some()));
    }
    let pairs = |f: &dyn Fn(&EntityWrite) -> Vec<Arg>| -> Vec<Vec<Arg>> {
        writes
            .iter()
            .flat_map(|w| f(w).into_iter().map(|a| vec![Arg::from(w.id.to_string()), a]))
            .collect()
    };
    let sources = pairs(&|w| w.sources.iter().map(|s| Arg::from(s.to_string())).collect());
    let tags = pairs(&|w| w.meta.tags.iter().map(|t| Arg::from(t.as_str())).collect());
    let taxonomies = pairs(&|w| w.taxonomies.iter().map(|t| Arg::from(*t)).collect());
    let attachments = pairs(&|w| w.attachments.iter().flatten().map(|a| Arg::from(*a)).collect());
    out.extend(insert_rows(
        "INSERT INTO entity_attachments (entity_id, attachment_id)",
        attachments,
        "ON CONFLICT DO NOTHING",
    ));
    out.extend(insert_rows(
        "INSERT INTO entity_sources (entity_id, source_id)",
        sources,
        "ON CONFLICT DO NOTHING",
    ));
    out.extend(insert_rows(
        "INSERT INTO entity_tags (entity_id, tag)",
        tags,
        "ON CONFLICT DO NOTHING",
    ));
    out.extend(insert_rows(
        "INSERT INTO entity_taxonomies (entity_id, taxonomy_id)",
        taxonomies,
        "ON CONFLICT DO NOTHING",
    ));
    out
}

/// Upserts of observables, deduplicated in memory first (a statement may not touch the same
/// row twice). Those given a maliciousness take it; the others keep theirs (new: `unknown`).
/// Each statement returns `(id, type, value)`.
pub(crate) fn observable_upserts<'a>(
    items: impl IntoIterator<Item = (&'a str, &'a str, Option<&'a str>)>,
    now: i64,
) -> Vec<Sql> {
    let mut seen: HashMap<(&str, &str), Option<&str>> = HashMap::new();
    let mut order = Vec::new();
    for (kind, value, maliciousness) in items {
        match seen.get_mut(&(kind, value)) {
            Some(m) => *m = maliciousness.or(*m),
            None => {
                seen.insert((kind, value), maliciousness);
                order.push((kind, value));
            }
        }
    }
    let (mut rated, mut unrated) = (Vec::new(), Vec::new());
    for key in order {
        let maliciousness = seen[&key];
        let row = vec![
            Arg::from(key.0),
            Arg::from(key.1),
            Arg::from(maliciousness.unwrap_or("unknown")),
            Arg::from(now),
            Arg::from(now),
        ];
        if maliciousness.is_some() {
            rated.push(row)
        } else {
            unrated.push(row)
        }
    }
    let head = "INSERT INTO observables (type, value, maliciousness, created_at, last_updated_at)";
    let mut out = insert_rows(
        head,
        rated,
        "ON CONFLICT (type, value) DO UPDATE SET maliciousness = excluded.maliciousness, \
         last_updated_at = excluded.last_updated_at RETURNING id, type, value",
    );
    out.extend(insert_rows(
        head,
        unrated,
        "ON CONFLICT (type, value) DO UPDATE SET last_updated_at = excluded.last_updated_at RETURNING id, type, value",
    ));
    out
}

/// Links from entities to their observables, and from observables to the entities' sources.
fn observable_links(writes: &[EntityWrite], ids: &HashMap<(String, String), i64>) -> Vec<Sql> {
    let mut links: Vec<Vec<Arg>> = Vec::new();
    let mut sources: Vec<Vec<Arg>> = Vec::new();
    let mut seen_links = std::collections::HashSet::new();
    let mut seen_sources = std::collections::HashSet::new();
    for w in writes {
        for extract in w.extracts.iter().flatten() {
            let Some(observable) = ids.get(&(extract.kind.to_owned(), extract.value.clone())) else {
                continue;
            };
            if seen_links.insert((w.id, *observable)) {
                links.push(vec![
                    Arg::from(w.id.to_string()),
                    Arg::from(*observable),
                    Arg::from(extract.link_type.map(str::to_owned)),
                ]);
            }
            for source in &w.sources {
                if seen_sources.insert((*observable, *source)) {
                    sources.push(vec![Arg::from(*observable), Arg::from(source.to_string())]);
                }
            }
        }
    }
    let mut out = insert_rows(
        "INSERT INTO entity_observables (entity_id, observable_id, link_type)",
        links,
        "ON CONFLICT DO NOTHING",
    );
    out.extend(insert_rows(
        "INSERT INTO observable_sources (observable_id, source_id)",
        sources,
        "ON CONFLICT DO NOTHING",
    ));
    out
}
