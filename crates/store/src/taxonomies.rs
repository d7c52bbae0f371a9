//! Taxonomies: a tree whose paths (`a/b/c`) are kept consistent under renames.

use crate::list::{Column, Listing};
use crate::sql::Sql;
use crate::Store;
use cairn_domain::filter::{ListPage, ListQuery};
use cairn_domain::taxonomy::Taxonomy;
use cairn_domain::{StoreError, Timestamp};

type TaxonomyRow = (i64, String, String, Option<i64>, Option<String>, i64, i64);
const SELECT: &str = "t.id, t.name, t.path, t.parent_id, t.description, t.created_at, t.last_updated_at";
const LISTING: Listing = Listing {
    from: "taxonomies t",
    id: "t.id",
    column: |field| {
        Some(Column::Plain(match field {
            "id" => "t.id",
            "name" => "t.name",
            "path" => "t.path",
            "parent" => "t.parent_id",
            "created_at" => "t.created_at",
            "last_updated_at" => "t.last_updated_at",
            _ => return None,
        }))
    },
    default_sort: &[("t.path", false)],
};

fn decode((id, name, path, parent, description, created_at, last_updated_at): TaxonomyRow) -> Taxonomy {
    Taxonomy {
        id,
        name,
        path,
        parent,
        description,
        created_at: Timestamp::from_micros(created_at),
        last_updated_at: Timestamp::from_micros(last_updated_at),
    }
}

fn path_taken(e: StoreError, path: &str) -> StoreError {
    match e {
        StoreError::Conflict(_) => StoreError::Conflict(format!("a taxonomy at '{path}' already exists")),
        other => other,
    }
}

impl Store {
    /// Taxonomies, filtered and paged (taxonomies carry no visibility: they are shared labels).
    pub async fn list_taxonomies(&self, query: &ListQuery) -> Result<ListPage<Taxonomy>, StoreError> {
        let page = self
            .list::<TaxonomyRow>(&LISTING, SELECT, Sql::new("1 = 1"), query)
            .await?;
        Ok(ListPage {
            items: page.items.into_iter().map(decode).collect(),
            total: page.total,
            total_is_estimate: page.total_is_estimate,
        })
    }

    /// One taxonomy.
    pub async fn get_taxonomy(&self, id: i64) -> Result<Taxonomy, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {SELECT} FROM taxonomies t WHERE t.id = "));
        sql.arg(id);
        let row = on_reader!(self, |pool| fetch_optional!(pool, TaxonomyRow, sql))?;
        row.map(decode)
            .ok_or_else(|| StoreError::NotFound(format!("taxonomy {id}")))
    }

    /// Which of `ids` are taxonomies.
    pub async fn existing_taxonomies(&self, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        self.existing_ids("taxonomies", ids).await
    }

    /// Creates a taxonomy under `parent` (or at the root).
    pub async fn create_taxonomy(
        &self,
        name: &str,
        parent: Option<i64>,
        description: Option<String>,
    ) -> Result<Taxonomy, StoreError> {
        let path = match parent {
            Some(p) => format!("{}/{name}", self.get_taxonomy(p).await?.path),
            None => name.to_owned(),
        };
        let now = Timestamp::now().micros();
        let mut sql = Sql::new(
            "INSERT INTO taxonomies (name, path, parent_id, description, created_at, last_updated_at) VALUES (",
        );
        sql.arg(name)
            .push(", ")
            .arg(path.as_str())
            .push(", ")
            .arg(parent)
            .push(", ")
            .arg(description);
        sql.push(", ").arg(now).push(", ").arg(now).push(") RETURNING id");
        let id = on_writer!(self, |pool| fetch_optional!(pool, (i64,), sql)).map_err(|e| path_taken(e, &path))?;
        let (id,) = id.ok_or_else(|| StoreError::Internal("INSERT returned no id".to_owned()))?;
        self.get_taxonomy(id).await
    }

    /// Renames a taxonomy (its descendants' paths follow) or changes its description.
    pub async fn patch_taxonomy(
        &self,
        id: i64,
        name: Option<&str>,
        description: Option<Option<String>>,
    ) -> Result<Taxonomy, StoreError> {
        let current = self.get_taxonomy(id).await?;
        let now = Timestamp::now().micros();
        let new_path = match (name, current.path.rsplit_once('/')) {
            (Some(name), Some((parent, _))) => format!("{parent}/{name}"),
            (Some(name), None) => name.to_owned(),
            (None, _) => current.path.clone(),
        };
        let mut update = Sql::new("UPDATE taxonomies SET last_updated_at = ");
        update.arg(now);
        if let Some(name) = name {
            update.push(", name = ").arg(name);
        }
        if let Some(description) = description {
            update.push(", description = ").arg(description);
        }
        update.push(" WHERE id = ").arg(id);
        // substr takes an integer on PostgreSQL, where binding an i64 would make it a bigint.
        let after_prefix = current.path.chars().count() as i64 + 1;
        let mut descendants = Sql::new("UPDATE taxonomies SET path = ");
        descendants
            .arg(new_path.as_str())
            .push(" || substr(path, CAST(")
            .arg(after_prefix)
            .push(" AS INTEGER))");
        descendants
            .push(", last_updated_at = ")
            .arg(now)
            .push(" WHERE path = ")
            .arg(current.path.as_str());
        descendants
            .push(" OR substr(path, 1, CAST(")
            .arg(after_prefix)
            .push(" AS INTEGER)) = ");
        descendants.arg(format!("{}/", current.path));
        in_transaction!(self, |tx| async {
            execute!(&mut *tx, update)?;
            if new_path != current.path {
                execute!(&mut *tx, descendants)?;
            }
            Ok::<_, StoreError>(())
        }
        .await)
        .map_err(|e| path_taken(e, &new_path))?;
        self.get_taxonomy(id).await
    }

    /// Deletes a taxonomy with no children; entities filed under it lose that link.
    pub async fn delete_taxonomy(&self, id: i64) -> Result<(), StoreError> {
        let mut children = Sql::new("SELECT count(*) FROM taxonomies WHERE parent_id = ");
        children.arg(id);
        let mut delete = Sql::new("DELETE FROM taxonomies WHERE id = ");
        delete.arg(id);
        in_transaction!(self, |tx| async {
            let (n,): (i64,) = fetch_optional!(&mut *tx, (i64,), children)?.unwrap_or((0,));
            if n > 0 {
                return Err(StoreError::Conflict(format!(
                    "taxonomy {id} has {n} children; delete or move them first"
                )));
            }
            match execute!(&mut *tx, delete)? {
                0 => Err(StoreError::NotFound(format!("taxonomy {id}"))),
                _ => Ok(()),
            }
        }
        .await)
    }
}
