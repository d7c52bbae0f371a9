//! The command line.

use crate::config::Overrides;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Cairn, a threat intelligence platform.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Where Cairn keeps its data (every command).
#[derive(Debug, Args)]
pub struct StorageArgs {
    /// A configuration file [default: ./cairn.toml if present].
    #[arg(long, env = "CAIRN_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Where the embedded database, the admin token and attachments live [default: ./cairn-data].
    #[arg(long, env = "CAIRN_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST/DB [default: SQLite in the data directory].
    #[arg(long, env = "CAIRN_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "CAIRN_LISTEN")]
    pub listen: Option<String>,
    /// The URL clients reach Cairn at, used in every URL Cairn returns [default: from the request's Host].
    #[arg(long, env = "CAIRN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The largest request body accepted, in bytes [default: 16 MiB].
    #[arg(long, env = "CAIRN_BODY_LIMIT")]
    pub body_limit: Option<usize>,
    /// The largest attachment accepted, in bytes [default: 64 MiB].
    #[arg(long, env = "CAIRN_ATTACHMENT_LIMIT")]
    pub attachment_limit: Option<usize>,
    /// Above this many matches, PostgreSQL list totals are estimates [default: 10000].
    #[arg(long, env = "CAIRN_COUNT_THRESHOLD")]
    pub count_threshold: Option<u64>,
    /// Database connections (PostgreSQL) or SQLite readers [default: 16].
    #[arg(long, env = "CAIRN_MAX_CONNECTIONS")]
    pub max_connections: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create {
        /// The user name.
        username: String,
        #[arg(long)]
        email: Option<String>,
        /// A group to join, by name (repeat for more; the first gives the default source).
        #[arg(long = "group")]
        groups: Vec<String>,
        /// A role to hold, by name (repeat for more).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (once: it is not stored in readable form).
    Create {
        /// Whose token it is.
        #[arg(long)]
        user: String,
        /// Days until it expires [default: never].
        #[arg(long)]
        expires_in: Option<i64>,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

impl Cli {
    /// The flags and environment that override the file and the defaults.
    pub fn overrides(&self) -> Overrides {
        let mut o = Overrides {
            data_dir: self.storage.data_dir.clone(),
            database_url: self.storage.database_url.clone(),
            ..Overrides::default()
        };
        if let Command::Serve(serve) = &self.command {
            o.listen = serve.listen.clone();
            o.public_url = serve.public_url.clone();
            o.body_limit = serve.body_limit;
            o.attachment_limit = serve.attachment_limit;
            o.count_threshold = serve.count_threshold;
            o.max_connections = serve.max_connections;
        }
        o
    }
}
