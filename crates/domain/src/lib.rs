//! Cairn's domain: the words of threat intelligence as types that cannot hold a bad value.
//!
//! This crate knows nothing about HTTP, JSON wire shapes or SQL, and does no I/O. It holds
//! identifiers, timestamps, TLP colours, permissions, the visibility scope, the filter
//! language of list queries and the error type every storage call returns.

pub mod attachment;
pub mod entity;
pub mod error;
pub mod filter;
pub mod html;
pub mod identity;
pub mod observable;
pub mod permission;
pub mod relationship;
pub mod source;
pub mod taxonomy;
pub mod time;
pub mod tlp;
pub mod token;
pub mod visibility;

pub use error::{Problem, StoreError};
pub use time::Timestamp;
pub use tlp::TlpColor;
