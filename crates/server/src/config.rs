//! Configuration: defaults, then `cairn.toml`, then `CAIRN_*` environment variables, then
//! command-line flags (clap reads the flags and the environment; this merges in the file).

use anyhow::{bail, Context};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Settings a `cairn.toml` may hold: the same names as the flags, with `_` for `-`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    pub body_limit: Option<usize>,
    pub attachment_limit: Option<usize>,
    pub count_threshold: Option<u64>,
    pub max_connections: Option<u32>,
}

impl FileConfig {
    /// Reads the file named by `--config`/`CAIRN_CONFIG`, else `./cairn.toml` if there is one.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<FileConfig> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None if Path::new("cairn.toml").exists() => PathBuf::from("cairn.toml"),
            None => return Ok(FileConfig::default()),
        };
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{} is not a valid Cairn configuration", path.display()))
    }
}

/// The settings in force.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub public_url: Option<String>,
    pub body_limit: usize,
    pub attachment_limit: usize,
    pub count_threshold: u64,
    pub max_connections: u32,
}

/// What the command line and environment said (each `None` when neither did).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    pub body_limit: Option<usize>,
    pub attachment_limit: Option<usize>,
    pub count_threshold: Option<u64>,
    pub max_connections: Option<u32>,
}

impl Config {
    /// Merges flags and environment over the file over the defaults.
    pub fn resolve(flags: Overrides, file: FileConfig) -> anyhow::Result<Config> {
        let listen = flags
            .listen
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen: SocketAddr = listen
            .parse()
            .with_context(|| format!("'{listen}' is not an address to listen on, like 127.0.0.1:8080"))?;
        let data_dir = flags
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("cairn-data"));
        let database_url = flags
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("cairn.db").display()));
        if cairn_store::Backend::of_url(&database_url).is_none() {
            bail!(
                "the database URL must start with sqlite:// or postgres://, not '{}'",
                redact(&database_url)
            );
        }
        let public_url = flags.public_url.or(file.public_url);
        if let Some(url) = &public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("the public URL must start with http:// or https://, not '{url}'");
            }
        }
        Ok(Config {
            listen,
            data_dir,
            database_url,
            public_url,
            body_limit: flags.body_limit.or(file.body_limit).unwrap_or(16 * 1024 * 1024),
            attachment_limit: flags
                .attachment_limit
                .or(file.attachment_limit)
                .unwrap_or(64 * 1024 * 1024),
            count_threshold: flags.count_threshold.or(file.count_threshold).unwrap_or(10_000),
            max_connections: flags.max_connections.or(file.max_connections).unwrap_or(16),
        })
    }
}

/// A database URL fit for logs: no password.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    match (rest.find('@'), rest.find('/')) {
        (Some(at), slash) if slash.is_none_or(|s| at < s) => {
            let credentials = &rest[..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}{user}:***@{}", &url[..scheme_end + 3], &rest[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_embedded_setup() {
        let c = Config::resolve(Overrides::default(), FileConfig::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://cairn-data/cairn.db");
        assert_eq!(c.count_threshold, 10_000);
    }

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let file: FileConfig =
            toml::from_str("listen = \"0.0.0.0:9000\"\ncount_threshold = 5\ndata_dir = \"/srv/cairn\"").unwrap();
        let flags = Overrides {
            listen: Some("127.0.0.1:7000".into()),
            ..Overrides::default()
        };
        let c = Config::resolve(flags, file).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(c.count_threshold, 5);
        assert_eq!(c.database_url, "sqlite:///srv/cairn/cairn.db");
    }

    #[test]
    fn unknown_file_settings_are_errors() {
        assert!(toml::from_str::<FileConfig>("colour = \"red\"").is_err());
    }

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(
            redact("postgres://cairn:s3cret@db:5432/cairn"),
            "postgres://cairn:***@db:5432/cairn"
        );
        assert_eq!(redact("sqlite://cairn-data/cairn.db"), "sqlite://cairn-data/cairn.db");
    }

    #[test]
    fn bad_urls_are_refused() {
        let flags = Overrides {
            database_url: Some("mysql://x".into()),
            ..Overrides::default()
        };
        assert!(Config::resolve(flags, FileConfig::default()).is_err());
    }
}
