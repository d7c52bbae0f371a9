//! Black-box tests of Cairn's HTTP API over a real socket, each on SQLite and PostgreSQL.

mod helpers;

mod attachments;
mod auth;
mod binary;
mod conventions;
mod entities;
mod identity;
mod observables;
mod relationships;
mod visibility;
