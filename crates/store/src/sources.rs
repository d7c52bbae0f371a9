//! Sources.

use crate::list::{Column, Listing};
use crate::sql::Sql;
use crate::{visibility, Store};
use cairn_domain::filter::{ListPage, ListQuery};
use cairn_domain::source::{Source, SourceId, SourcePatch, SourceType};
use cairn_domain::visibility::VisibilityScope;
use cairn_domain::{StoreError, Timestamp};

pub(crate) type SourceRow = (String, String, String, Option<String>, i64, i64);
const SELECT: &str = "s.id, s.name, s.source_type, s.reliability, s.created_at, s.last_updated_at";

const LISTING: Listing = Listing {
    from: "sources s",
    id: "s.id",
    column: |field| {
        Some(Column::Plain(match field {
            "id" => "s.id",
            "name" => "s.name",
            "source_type" => "s.source_type",
            "reliability" => "s.reliability",
            "created_at" => "s.created_at",
            "last_updated_at" => "s.last_updated_at",
            _ => return None,
        }))
    },
    default_sort: &[("s.last_updated_at", true)],
};

pub(crate) fn decode(row: SourceRow) -> Result<Source, StoreError> {
    let (id, name, source_type, reliability, created_at, last_updated_at) = row;
    Ok(Source {
        id: parse_uuid(&id)?,
        name,
        source_type: source_type.parse().map_err(StoreError::Internal)?,
        reliability: reliability
            .map(|r| r.parse())
            .transpose()
            .map_err(StoreError::Internal)?,
        created_at: Timestamp::from_micros(created_at),
        last_updated_at: Timestamp::from_micros(last_updated_at),
    })
}

pub(crate) fn parse_uuid(text: &str) -> Result<SourceId, StoreError> {
    uuid::Uuid::parse_str(text).map_err(|_| StoreError::Internal(format!("corrupt id in store: {text}")))
}

/// `INSERT` of a new source, for use inside a transaction.
pub(crate) fn insert(id: SourceId, name: &str, source_type: SourceType, now: Timestamp) -> Sql {
    let mut sql =
        Sql::new("INSERT INTO sources (id, name, source_type, reliability, created_at, last_updated_at) VALUES (");
    sql.arg(id.to_string())
        .push(", ")
        .arg(name)
        .push(", ")
        .arg(source_type.as_str());
    sql.push(", NULL, ")
        .arg(now.micros())
        .push(", ")
        .arg(now.micros())
        .push(")");
    sql
}

impl Store {
    /// The sources the caller can see that match the query.
    pub async fn list_sources(
        &self,
        scope: &VisibilityScope,
        query: &ListQuery,
    ) -> Result<ListPage<Source>, StoreError> {
        let page = self
            .list::<SourceRow>(&LISTING, SELECT, visibility::sources(scope, "s.id"), query)
            .await?;
        Ok(ListPage {
            items: page.items.into_iter().map(decode).collect::<Result<_, _>>()?,
            total: page.total,
            total_is_estimate: page.total_is_estimate,
        })
    }

    /// One source, if the caller can see it.
    pub async fn get_source(&self, scope: &VisibilityScope, id: SourceId) -> Result<Source, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {SELECT} FROM sources s WHERE s.id = "));
        sql.arg(id.to_string())
            .push(" AND ")
            .append(&visibility::sources(scope, "s.id"));
        let row = on_reader!(self, |pool| fetch_optional!(pool, SourceRow, sql))?;
        row.map(decode)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("source {id}")))
    }

    /// Which of `ids` exist, in the order given (for checking references a request makes).
    pub async fn existing_sources(&self, ids: &[SourceId]) -> Result<Vec<SourceId>, StoreError> {
        let mut sql = Sql::new("SELECT id FROM sources WHERE id IN ");
        sql.arg_list(ids.iter().map(ToString::to_string));
        let rows: Vec<(String,)> = on_reader!(self, |pool| fetch_all!(pool, (String,), sql))?;
        let found: Vec<SourceId> = rows.iter().map(|(id,)| parse_uuid(id)).collect::<Result<_, _>>()?;
        Ok(ids.iter().copied().filter(|id| found.contains(id)).collect())
    }

    /// Creates a source of any type (groups create theirs through [`Store::create_group`]).
    pub async fn create_source(&self, name: &str, source_type: SourceType) -> Result<Source, StoreError> {
        let id = uuid::Uuid::new_v4();
        let sql = insert(id, name, source_type, Timestamp::now());
        on_writer!(self, |pool| execute!(pool, sql))?;
        self.get_source(&VisibilityScope::Everything, id).await
    }

    /// Renames a source or changes its reliability.
    pub async fn patch_source(&self, id: SourceId, patch: &SourcePatch) -> Result<Source, StoreError> {
        let mut sql = Sql::new("UPDATE sources SET last_updated_at = ");
        sql.arg(Timestamp::now().micros());
        if let Some(name) = &patch.name {
            sql.push(", name = ").arg(name.as_str());
        }
        if let Some(reliability) = &patch.reliability {
            sql.push(", reliability = ")
                .arg(reliability.map(|r| r.as_char().to_string()));
        }
        sql.push(" WHERE id = ").arg(id.to_string());
        let changed = on_writer!(self, |pool| execute!(pool, sql))?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("source {id}")));
        }
        self.get_source(&VisibilityScope::Everything, id).await
    }
}
