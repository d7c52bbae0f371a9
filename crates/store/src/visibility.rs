//! The visibility scope as SQL: the one place every read path gets its predicate from.

use crate::sql::Sql;
use cairn_domain::visibility::VisibilityScope;

/// Sources carry no colour: a source is visible when a grant covers it.
/// `id` is the expression of the listed source's id.
pub(crate) fn sources(scope: &VisibilityScope, id: &str) -> Sql {
    match scope.visible_sources() {
        None => Sql::new("1 = 1"),
        Some(ids) => {
            let mut sql = Sql::new(id);
            sql.push(" IN ").arg_list(ids.iter().map(ToString::to_string));
            sql
        }
    }
}

/// An object tied to sources through `links` (a table with `source_id` and the column `key`
/// equal to the object's id expression `id`) and coloured by the TLP rank expression `rank`
/// (NULL = uncoloured): visible when one grant covers one of its sources at its colour.
pub(crate) fn objects(scope: &VisibilityScope, links: &str, key: &str, id: &str, rank: &str) -> Sql {
    let grants = match scope {
        VisibilityScope::Everything => return Sql::new("1 = 1"),
        VisibilityScope::Grants(grants) => grants,
    };
    if grants.is_empty() {
        return Sql::new("1 = 0");
    }
    let mut sql = Sql::new("(");
    for (i, grant) in grants.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push("((")
            .push(rank)
            .push(" IS NULL OR ")
            .push(rank)
            .push(" <= ")
            .arg(grant.max_tlp.rank());
        sql.push(&format!(
            ") AND EXISTS (SELECT 1 FROM {links} WHERE {links}.{key} = {id} AND {links}.source_id IN "
        ));
        sql.arg_list(grant.sources.iter().map(ToString::to_string)).push("))");
    }
    sql.push(")");
    sql
}
