//! Absolute URLs of Cairn's objects: formatted here and nowhere else, and parsed back from
//! what clients send (a bare id or the URL Cairn gave them).

use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use std::convert::Infallible;
use std::fmt::Display;

/// The collections whose objects have URLs under `/api/v2/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Sources,
    Users,
    Groups,
    Roles,
    Permissions,
    Tokens,
    Entities,
    Observables,
    Taxonomies,
    Relationships,
    Attachments,
}

impl Collection {
    pub fn path(self) -> &'static str {
        match self {
            Collection::Sources => "sources",
            Collection::Users => "users",
            Collection::Groups => "groups",
            Collection::Roles => "roles",
            Collection::Permissions => "permissions",
            Collection::Tokens => "users/self/tokens",
            Collection::Entities => "entities",
            Collection::Observables => "observables",
            Collection::Taxonomies => "taxonomies",
            Collection::Relationships => "relationships",
            Collection::Attachments => "entity-attachments",
        }
    }

    /// The singular noun, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Collection::Sources => "source",
            Collection::Users => "user",
            Collection::Groups => "group",
            Collection::Roles => "role",
            Collection::Permissions => "permission",
            Collection::Tokens => "token",
            Collection::Entities => "entity",
            Collection::Observables => "observable",
            Collection::Taxonomies => "taxonomy",
            Collection::Relationships => "relationship",
            Collection::Attachments => "attachment",
        }
    }
}

/// The base every URL in a response starts with: the configured public URL, else the
/// request's own scheme and Host.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
}

impl Links {
    /// Links under a base such as `https://cairn.example` (a trailing `/` is dropped).
    pub fn new(base: &str) -> Links {
        Links {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// `<base>/api/v2/<collection>/<id>`.
    pub fn url(&self, collection: Collection, id: impl Display) -> String {
        format!("{}/api/v2/{}/{}", self.base, collection.path(), id)
    }

    /// URLs for several ids.
    pub fn urls<I: Display>(&self, collection: Collection, ids: impl IntoIterator<Item = I>) -> Vec<String> {
        ids.into_iter().map(|id| self.url(collection, id)).collect()
    }
}

impl FromRequestParts<AppState> for Links {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(public) = &state.config.public_url {
            return Ok(Links::new(public));
        }
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
            .unwrap_or("localhost");
        let scheme = match parts.headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()) {
            Some("https") => "https",
            _ => "http",
        };
        Ok(Links::new(&format!("{scheme}://{host}")))
    }
}

/// The id inside a reference: the value itself, or the last path segment of a URL that
/// points into `collection`. `None` when it is a URL of something else.
pub fn id_in_reference(reference: &str, collection: Collection) -> Option<&str> {
    let reference = reference.trim();
    if !reference.contains('/') {
        return Some(reference);
    }
    let path = reference.trim_end_matches('/');
    let (prefix, id) = path.rsplit_once('/')?;
    prefix
        .ends_with(&format!("/api/v2/{}", collection.path()))
        .then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_absolute_under_the_base() {
        let links = Links::new("https://cairn.example/");
        assert_eq!(
            links.url(Collection::Sources, "abc"),
            "https://cairn.example/api/v2/sources/abc"
        );
    }

    #[test]
    fn references_accept_ids_and_urls_of_the_right_collection() {
        assert_eq!(id_in_reference("42", Collection::Groups), Some("42"));
        assert_eq!(
            id_in_reference("https://h/api/v2/groups/42", Collection::Groups),
            Some("42")
        );
        assert_eq!(id_in_reference("https://h/api/v2/roles/42", Collection::Groups), None);
    }
}
