//! The error every storage call returns. Handlers see these, never a driver's error.

use std::fmt;

/// One thing wrong with a request's content, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON pointer into the request body (`/data/name`), or `None` for the request as a whole.
    pub pointer: Option<String>,
    /// What is wrong, in words a user can act on.
    pub detail: String,
}

impl Problem {
    /// A problem located at a JSON pointer in the request body.
    pub fn at(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Problem {
            pointer: Some(pointer.into()),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pointer {
            Some(p) => write!(f, "{p}: {}", self.detail),
            None => f.write_str(&self.detail),
        }
    }
}

/// What can go wrong when Cairn reads or writes its store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist, or the caller may not see it (the two are never told apart).
    #[error("{0} not found")]
    NotFound(String),
    /// The write collides with something that exists (a unique name, an id already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The request's content breaks a rule the store enforces (a reference to nothing, …).
    #[error("invalid: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
    /// The database cannot be reached or is overloaded; the request may be retried.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a corrupt row. The text is for logs, never for clients.
    #[error("storage failure: {0}")]
    Internal(String),
}

impl StoreError {
    /// A single problem at a pointer.
    pub fn invalid(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        StoreError::Invalid(vec![Problem::at(pointer, detail)])
    }
}
