//! `cairn-bench`: measures Cairn against the limits of the machine. Each command starts a
//! real `cairn serve` (by PID, on a fresh database), drives it over loopback HTTP, prints
//! one Markdown table row per figure, and leaves nothing running.

mod data;

use anyhow::{bail, Context};
use cairn_store::testing::{RawTable, RawValue, TestDatabase};
use cairn_store::{Store, StoreOptions};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Cairn's benchmarks")]
struct Cli {
    /// The cairn binary to measure.
    #[arg(long, global = true, default_value = "target/release/cairn")]
    cairn: PathBuf,
    /// The database to run on.
    #[arg(long, global = true, value_enum, default_value = "sqlite")]
    backend: Db,
    /// The generator's seed.
    #[arg(long, global = true, default_value_t = 42)]
    seed: u64,
    #[command(subcommand)]
    command: Bench,
}

#[derive(Clone, Copy, ValueEnum)]
enum Db {
    Sqlite,
    Postgres,
}

#[derive(Subcommand)]
enum Bench {
    /// Bulk PUT of generated entities over HTTP, then the same rows by the fastest plain path.
    Ingest {
        #[arg(long, default_value_t = 10_000)]
        entities: u64,
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
    /// Concurrent observable lookups by value, next to /healthz.
    Lookup {
        #[arg(long, default_value_t = 1_000_000)]
        observables: u64,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        /// Look up as an integration user holding only `read extracts` (visibility applies),
        /// instead of as the administrator.
        #[arg(long)]
        analyst: bool,
    },
    /// The SDOs and relationships of MITRE ATT&CK Enterprise, carried into v2 payloads.
    Mitre {
        #[arg(long, default_value = "../shared/data/mitre-cti/enterprise-attack-stix20.json")]
        file: PathBuf,
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
    /// Entity list pages (type filter, newest first) at shallow and deep offsets, and a count.
    List {
        #[arg(long, default_value_t = 1_000_000)]
        entities: u64,
        #[arg(long, default_value_t = 30)]
        requests: usize,
    },
}

const ADMIN_TOKEN: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

/// A `cairn serve` process on a fresh database.
struct Server {
    child: Child,
    base: String,
    _database: TestDatabase,
    data_dir: PathBuf,
}

impl Server {
    fn start(cairn: &PathBuf, database: TestDatabase) -> anyhow::Result<Server> {
        let data_dir = std::env::temp_dir().join(format!("cairn-bench-{}", uuid::Uuid::new_v4().simple()));
        let mut child = Command::new(cairn)
            .args(["serve", "--listen", "127.0.0.1:0", "--max-connections", "16"])
            .env("CAIRN_DATA_DIR", &data_dir)
            .env("CAIRN_DATABASE_URL", &database.url)
            .env("CAIRN_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("CAIRN_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {} (build it with cargo build --release)", cairn.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines.next().context("cairn exited before listening")??;
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().unwrap_or_default().to_owned();
            }
        };
        Ok(Server {
            child,
            base,
            _database: database,
            data_dir,
        })
    }

    /// The server's peak resident memory so far, in MiB.
    fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

async fn database(db: Db) -> anyhow::Result<TestDatabase> {
    Ok(match db {
        Db::Sqlite => TestDatabase::sqlite(),
        Db::Postgres => {
            if std::env::var_os(cairn_store::testing::POSTGRES_URL_VAR).is_none() {
                std::env::set_var(
                    cairn_store::testing::POSTGRES_URL_VAR,
                    "postgres://postgres@127.0.0.1:5432/postgres",
                );
            }
            TestDatabase::postgres().await.context("PostgreSQL is not reachable")?
        }
    })
}

fn backend_name(db: Db) -> &'static str {
    match db {
        Db::Sqlite => "SQLite",
        Db::Postgres => "PostgreSQL",
    }
}

fn row(backend: &str, figure: &str, value: String, baseline: &str, ratio: String) {
    println!(
        "| {} | {} | {backend} | {figure} | {value} | {baseline} | {ratio} |",
        today(),
        cores()
    );
}

fn today() -> String {
    let out = Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    out.unwrap_or_default()
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    println!("| date | nproc | backend | figure | value | baseline (same run) | ratio |");
    println!("|---|---|---|---|---|---|---|");
    match cli.command {
        Bench::Ingest { entities, batch } => ingest(&cli.cairn, cli.backend, cli.seed, entities, batch).await,
        Bench::Lookup {
            observables,
            connections,
            seconds,
            analyst,
        } => lookup(&cli.cairn, cli.backend, observables, connections, seconds, analyst).await,
        Bench::List { entities, requests } => list(&cli.cairn, cli.backend, cli.seed, entities, requests).await,
        Bench::Mitre { file, batch } => mitre(&cli.cairn, cli.backend, &file, batch).await,
    }
}

async fn ingest(cairn: &PathBuf, db: Db, seed: u64, count: u64, batch: usize) -> anyhow::Result<()> {
    let generated = data::entities(seed, count);
    let observables: usize = {
        let mut seen: Vec<u64> = generated.iter().flat_map(|g| g.extracts.iter().copied()).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    };
    let links = data::relationships(seed, count, count / 2);
    let server = Server::start(cairn, database(db).await?)?;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut ids: Vec<String> = Vec::with_capacity(generated.len());
    for chunk in generated.chunks(batch) {
        let body = json!({"data": chunk.iter().map(|g| g.payload.clone()).collect::<Vec<_>>()});
        let stored = put(&client, &server.base, "entities", &body).await?;
        ids.extend(
            stored["data"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e["id"].as_str().unwrap_or_default().to_owned()),
        );
    }
    let entities_done = started.elapsed().as_secs_f64();
    let source = client
        .get(format!("{}/api/v2/users/self", server.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await?
        .json::<Value>()
        .await?["data"]["default_source"]
        .clone();
    for chunk in links.chunks(batch) {
        let body = json!({"data": chunk.iter().map(|(s, k, t)| json!({
            "data": {"source": ids[*s as usize], "target": ids[*t as usize], "key": k}, "sources": [source]})).collect::<Vec<_>>()});
        put(&client, &server.base, "relationships", &body).await?;
    }
    let http = started.elapsed().as_secs_f64();
    let relationships_http = http - entities_done;
    let rss = server.peak_rss_mib();
    drop(server);

    // The physical limit: the same rows, one transaction of multi-row inserts, no HTTP.
    let database = database(db).await?;
    let store = Store::connect(&database.url, StoreOptions::default()).await?;
    store.migrate().await?;
    let admin = store.bootstrap(None).await?;
    let source = store
        .principal(&admin.admin)
        .await?
        .default_source
        .context("no source")?;
    let (entity_ids, mut tables) = rows_for(&generated, source);
    tables.extend(relationship_rows(&links, &entity_ids, source));
    let started = Instant::now();
    store.load_rows(tables).await?;
    let physical = started.elapsed().as_secs_f64();
    store.close().await;

    let name = backend_name(db);
    let rate = count as f64 / entities_done;
    row(
        name,
        &format!(
            "ingest {count} entities + {} relationships (PUT ×{batch}, 0-5 extracts each)",
            links.len()
        ),
        format!("{rate:.0} entities/s ({entities_done:.1} s); all {http:.1} s"),
        &format!("plain SQL, same rows: {physical:.1} s"),
        format!("{:.2}", physical / http),
    );
    row(
        name,
        "ingest observables",
        format!(
            "{:.0} observables/s ({observables} unique)",
            observables as f64 / entities_done
        ),
        "",
        String::new(),
    );
    row(
        name,
        &format!("ingest {} relationships (PUT ×{batch})", links.len()),
        format!(
            "{:.0} relationships/s ({relationships_http:.1} s)",
            links.len() as f64 / relationships_http
        ),
        "",
        String::new(),
    );
    row(
        name,
        "server peak RSS during ingest",
        format!("{rss:.0} MiB"),
        "",
        String::new(),
    );
    Ok(())
}

/// The rows Cairn would store for generated entities, built directly.
fn rows_for(generated: &[data::Generated], source: uuid::Uuid) -> (Vec<String>, Vec<RawTable>) {
    let now = 1_780_000_000_000_000i64;
    let text = |s: &str| RawValue::Text(s.to_owned());
    let mut entities = Vec::new();
    let mut sources = Vec::new();
    let mut links = Vec::new();
    let mut observable_ids: HashMap<u64, i64> = HashMap::new();
    let mut observables = Vec::new();
    let mut observable_sources = Vec::new();
    let mut ids = Vec::with_capacity(generated.len());
    for g in generated {
        let id = uuid::Uuid::new_v4().to_string();
        ids.push(id.clone());
        let data = &g.payload["data"];
        entities.push(vec![
            text(&id),
            text(&g.stix_id),
            text(g.kind),
            text(data["title"].as_str().unwrap_or_default()),
            RawValue::NullText,
            RawValue::NullInt,
            RawValue::Int(now),
            RawValue::Int(182),
            RawValue::Text(data.to_string()),
            RawValue::Text(g.payload["meta"].to_string()),
            RawValue::Int(now),
            RawValue::Int(now),
        ]);
        sources.push(vec![text(&id), text(&source.to_string())]);
        let mut linked: Vec<i64> = Vec::new();
        for o in &g.extracts {
            let next = observable_ids.len() as i64 + 1;
            let oid = *observable_ids.entry(*o).or_insert_with(|| {
                let (kind, value) = data::observable(*o);
                observables.push(vec![
                    RawValue::Int(next),
                    text(kind),
                    RawValue::Text(value),
                    text("unknown"),
                    RawValue::Int(now),
                    RawValue::Int(now),
                ]);
                observable_sources.push(vec![RawValue::Int(next), text(&source.to_string())]);
                next
            });
            if !linked.contains(&oid) {
                linked.push(oid);
                links.push(vec![text(&id), RawValue::Int(oid), text("observed")]);
            }
        }
    }
    let tables: Vec<RawTable> = vec![
        (
            "entities",
            &[
                "id",
                "stix_id",
                "entity_type",
                "title",
                "tlp_color",
                "tlp_rank",
                "observed_at",
                "half_life",
                "data",
                "meta",
                "created_at",
                "last_updated_at",
            ],
            entities,
        ),
        ("entity_sources", &["entity_id", "source_id"], sources),
        (
            "observables",
            &["id", "type", "value", "maliciousness", "created_at", "last_updated_at"],
            observables,
        ),
        (
            "entity_observables",
            &["entity_id", "observable_id", "link_type"],
            links,
        ),
        (
            "observable_sources",
            &["observable_id", "source_id"],
            observable_sources,
        ),
    ];
    (ids, tables)
}

/// The rows of generated relationships between entities with the given ids.
fn relationship_rows(links: &[(u64, &str, u64)], ids: &[String], source: uuid::Uuid) -> Vec<RawTable> {
    let now = 1_780_000_000_000_000i64;
    let mut rows = Vec::new();
    let mut sources = Vec::new();
    for (s, k, t) in links {
        let id = uuid::Uuid::new_v4().to_string();
        rows.push(vec![
            RawValue::Text(id.clone()),
            RawValue::Text(ids[*s as usize].clone()),
            RawValue::Text(ids[*t as usize].clone()),
            RawValue::Text((*k).to_owned()),
            RawValue::Text(format!("relationship--{}", uuid::Uuid::new_v4())),
            RawValue::Int(now),
            RawValue::Int(now),
        ]);
        sources.push(vec![RawValue::Text(id), RawValue::Text(source.to_string())]);
    }
    vec![
        (
            "relationships",
            &[
                "id",
                "source_id",
                "target_id",
                "key",
                "stix_id",
                "created_at",
                "last_updated_at",
            ],
            rows,
        ),
        ("relationship_sources", &["relationship_id", "source_id"], sources),
    ]
}

/// PUTs a bulk body, failing loudly on anything but success.
async fn put(client: &reqwest::Client, base: &str, resource: &str, body: &Value) -> anyhow::Result<Value> {
    let response = client
        .put(format!("{base}/api/v2/{resource}"))
        .bearer_auth(ADMIN_TOKEN)
        .json(body)
        .send()
        .await?;
    if !response.status().is_success() {
        let status = response.status();
        let text = response.text().await?;
        bail!(
            "PUT {resource} failed: {status} {}",
            text.chars().take(2000).collect::<String>()
        );
    }
    Ok(response.json().await?)
}

/// Latencies in microseconds → (requests/s, p50 ms, p99 ms).
fn summarize(mut latencies: Vec<u64>, elapsed: f64) -> (f64, f64, f64) {
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    (latencies.len() as f64 / elapsed, at(0.5), at(0.99))
}

/// Runs `connections` loops of GETs for `seconds`; `path(i)` gives the i-th request's path.
async fn load(
    base: &str,
    token: &'static str,
    connections: usize,
    seconds: u64,
    path: Arc<dyn Fn(u64) -> String + Send + Sync>,
) -> anyhow::Result<(f64, f64, f64, u64)> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build()?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (client, base, path) = (client.clone(), base.to_owned(), path.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = data::Rng::new(c as u64 + 1);
            let (mut latencies, mut errors) = (Vec::new(), 0u64);
            while Instant::now() < deadline {
                let sent = Instant::now();
                let response = client
                    .get(format!("{base}{}", path(rng.next())))
                    .bearer_auth(token)
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(sent.elapsed().as_micros() as u64);
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (latencies, e) = task.await?;
        all.extend(latencies);
        errors += e;
    }
    let (rps, p50, p99) = summarize(all, started.elapsed().as_secs_f64());
    Ok((rps, p50, p99, errors))
}

/// The token of the integration user `--analyst` lookups run as.
const ANALYST_TOKEN: &str = "a11a1a11a11a1a11a11a1a11a11a1a11a11a1a11a11a1a11a11a1a11a11a1a11";

async fn lookup(
    cairn: &PathBuf,
    db: Db,
    count: u64,
    connections: usize,
    seconds: u64,
    analyst: bool,
) -> anyhow::Result<()> {
    let database = database(db).await?;
    let preload = Instant::now();
    {
        let store = Store::connect(&database.url, StoreOptions::default()).await?;
        store.migrate().await?;
        let admin = store.bootstrap(None).await?;
        if analyst {
            use cairn_domain::identity::{NewRole, NewUser};
            let role = store
                .create_role(&NewRole {
                    name: "lookups".into(),
                    description: None,
                    permissions: ["read extracts".parse()?].into(),
                })
                .await?;
            let user = store
                .create_user(&NewUser {
                    username: "soar".into(),
                    email: None,
                    is_admin: false,
                    groups: admin.admin.groups.clone(),
                    roles: vec![role.id],
                })
                .await?;
            let secret = cairn_domain::token::TokenSecret::parse(ANALYST_TOKEN)?;
            store.create_token(user.id, "bench", &secret.hash(), None).await?;
        }
        let source = store
            .principal(&admin.admin)
            .await?
            .default_source
            .context("no source")?
            .to_string();
        let now = 1_780_000_000_000_000i64;
        for start in (0..count).step_by(200_000) {
            let end = (start + 200_000).min(count);
            let observables = (start..end)
                .map(|i| {
                    let (kind, value) = data::observable(i);
                    vec![
                        RawValue::Int(i as i64 + 1),
                        RawValue::Text(kind.into()),
                        RawValue::Text(value),
                        RawValue::Text("unknown".into()),
                        RawValue::Int(now),
                        RawValue::Int(now),
                    ]
                })
                .collect();
            let sources = (start..end)
                .map(|i| vec![RawValue::Int(i as i64 + 1), RawValue::Text(source.clone())])
                .collect();
            store
                .load_rows(vec![
                    (
                        "observables",
                        &["id", "type", "value", "maliciousness", "created_at", "last_updated_at"],
                        observables,
                    ),
                    ("observable_sources", &["observable_id", "source_id"], sources),
                ])
                .await?;
        }
        store.close().await;
    }
    if matches!(db, Db::Postgres) {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&database.url).await?;
        sqlx::Executor::execute(
            &mut conn,
            "ANALYZE; SELECT setval('observables_id_seq', (SELECT max(id) FROM observables))",
        )
        .await?;
    }
    eprintln!(
        "preloaded {count} observables in {:.1} s",
        preload.elapsed().as_secs_f64()
    );
    let server = Server::start(cairn, database)?;
    let name = backend_name(db);
    // Warm up, then the baseline and the lookups back to back.
    let token = if analyst { ANALYST_TOKEN } else { ADMIN_TOKEN };
    // The lookups must find what they look for: an empty answer would be a hollow figure.
    let probe = reqwest::Client::new()
        .get(format!(
            "{}/api/v2/observables?filter[value]={}",
            server.base,
            data::observable(count / 2).1
        ))
        .bearer_auth(token)
        .send()
        .await?
        .json::<Value>()
        .await?;
    if probe["total_count"] != 1 {
        bail!("a lookup of a loaded value did not find it: {probe}");
    }
    load(&server.base, token, connections, 2, Arc::new(|_| "/healthz".to_owned())).await?;
    let (h_rps, h50, h99, _) = load(
        &server.base,
        token,
        connections,
        seconds,
        Arc::new(|_| "/healthz".to_owned()),
    )
    .await?;
    let total = count;
    let (rps, p50, p99, errors) = load(
        &server.base,
        token,
        connections,
        seconds,
        Arc::new(move |r| format!("/api/v2/observables?filter[value]={}", data::observable(r % total).1)),
    )
    .await?;
    if errors > 0 {
        bail!("{errors} lookups failed");
    }
    row(
        name,
        &format!(
            "lookup filter[value] as {} ({count} observables, {connections} connections)",
            if analyst {
                "an integration user (visibility applies)"
            } else {
                "the administrator"
            }
        ),
        format!("{rps:.0} req/s, p50 {p50:.1} ms, p99 {p99:.1} ms"),
        &format!("/healthz {h_rps:.0} req/s, p50 {h50:.1} ms, p99 {h99:.1} ms"),
        format!("{:.2}", rps / h_rps),
    );
    Ok(())
}

async fn list(cairn: &PathBuf, db: Db, seed: u64, count: u64, requests: usize) -> anyhow::Result<()> {
    let database = database(db).await?;
    let preload = Instant::now();
    {
        let store = Store::connect(&database.url, StoreOptions::default()).await?;
        store.migrate().await?;
        let admin = store.bootstrap(None).await?;
        let source = store
            .principal(&admin.admin)
            .await?
            .default_source
            .context("no source")?;
        let step = 100_000;
        for start in (0..count).step_by(step) {
            let chunk = data::entities(seed + start, (count - start).min(step as u64));
            let (_, tables) = rows_for(&chunk, source);
            // Observables are not part of this benchmark: keep the entity rows only.
            store.load_rows(tables.into_iter().take(2).collect()).await?;
        }
        store.close().await;
    }
    if matches!(db, Db::Postgres) {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&database.url).await?;
        // The steady state autovacuum gives a live database: statistics and a visibility map.
        sqlx::Executor::execute(&mut conn, "VACUUM ANALYZE entities").await?;
    }
    eprintln!("preloaded {count} entities in {:.1} s", preload.elapsed().as_secs_f64());
    let server = Server::start(cairn, database)?;
    let client = reqwest::Client::new();
    let name = backend_name(db);
    let deep = (count / 2).min(500_000);
    let cases = [
        ("/healthz".to_owned(), "baseline /healthz"),
        (
            "/api/v2/entities?filter[type]=indicator&sort=-last_updated_at&limit=100&offset=0".to_owned(),
            "list indicators, offset 0",
        ),
        (
            "/api/v2/entities?filter[type]=indicator&sort=-last_updated_at&limit=100&offset=1000".to_owned(),
            "list indicators, offset 1000",
        ),
        (
            format!("/api/v2/entities?filter[type]=indicator&sort=-last_updated_at&limit=100&offset={deep}"),
            "list indicators, deep offset",
        ),
        (
            "/api/v2/entities?filter[type]=indicator&data=false".to_owned(),
            "count indicators (data=false)",
        ),
    ];
    let mut baseline = 0.0;
    for (path, label) in cases {
        let mut latencies = Vec::new();
        let mut body = Value::Null;
        for _ in 0..requests {
            let sent = Instant::now();
            let response = client
                .get(format!("{}{path}", server.base))
                .bearer_auth(ADMIN_TOKEN)
                .send()
                .await?;
            if !response.status().is_success() {
                bail!("{path}: {}", response.status());
            }
            body = response.json().await?;
            latencies.push(sent.elapsed().as_micros() as u64);
        }
        let (_, p50, p99) = summarize(latencies, 1.0);
        if label.starts_with("baseline") {
            baseline = p50;
            continue;
        }
        let total = body["total_count"].as_u64().unwrap_or(0);
        let estimate = if body["total_count_is_estimate"] == true {
            " (estimated)"
        } else {
            ""
        };
        row(
            name,
            &format!("{label} ({count} entities, {path_len} B query)", path_len = path.len()),
            format!("p50 {p50:.1} ms, p99 {p99:.1} ms; total_count {total}{estimate}"),
            &format!("/healthz p50 {baseline:.2} ms"),
            String::new(),
        );
    }
    Ok(())
}

async fn mitre(cairn: &PathBuf, db: Db, file: &PathBuf, batch: usize) -> anyhow::Result<()> {
    const ENTITY_TYPES: [&str; 8] = [
        "attack-pattern",
        "malware",
        "tool",
        "intrusion-set",
        "course-of-action",
        "campaign",
        "identity",
        "vulnerability",
    ];
    let bundle: Value = serde_json::from_str(
        &std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?,
    )?;
    let objects = bundle["objects"].as_array().context("not a bundle")?;
    let entities: Vec<Value> = objects
        .iter()
        .filter(|o| o["type"].as_str().is_some_and(|t| ENTITY_TYPES.contains(&t)))
        .map(|o| {
            let mut data = o.as_object().cloned().unwrap_or_default();
            let title = data.remove("name").unwrap_or_else(|| o["id"].clone());
            data.insert("title".into(), title);
            json!({"data": data})
        })
        .collect();
    let server = Server::start(cairn, database(db).await?)?;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut ids: HashMap<String, String> = HashMap::new();
    for chunk in entities.chunks(batch) {
        let stored = put(&client, &server.base, "entities", &json!({"data": chunk})).await?;
        for e in stored["data"].as_array().into_iter().flatten() {
            ids.insert(
                e["data"]["id"].as_str().unwrap_or_default().to_owned(),
                e["id"].as_str().unwrap_or_default().to_owned(),
            );
        }
    }
    let entities_done = started.elapsed().as_secs_f64();
    let source = client
        .get(format!("{}/api/v2/users/self", server.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await?
        .json::<Value>()
        .await?["data"]["default_source"]
        .clone();
    let mut seen = std::collections::HashSet::new();
    let relationships: Vec<Value> = objects
        .iter()
        .filter(|o| o["type"] == "relationship")
        .filter_map(|o| {
            let (s, t) = (ids.get(o["source_ref"].as_str()?)?, ids.get(o["target_ref"].as_str()?)?);
            let key = o["relationship_type"].as_str()?;
            seen.insert((s.clone(), key.to_owned(), t.clone())).then(|| json!({"data": {"source": s, "target": t, "key": key, "description": o.get("description")}, "sources": [source]}))
        })
        .collect();
    for chunk in relationships.chunks(batch) {
        put(&client, &server.base, "relationships", &json!({"data": chunk})).await?;
    }
    let total = started.elapsed().as_secs_f64();
    let objects_loaded = entities.len() + relationships.len();
    let skipped = objects.iter().filter(|o| o["type"] == "relationship").count() - relationships.len();
    row(
        backend_name(db),
        &format!("import ATT&CK Enterprise: {} SDOs + {} relationships ({skipped} relationships to non-entity objects skipped)", entities.len(), relationships.len()),
        format!("{total:.1} s, {:.0} objects/s (SDOs {entities_done:.1} s)", objects_loaded as f64 / total),
        "",
        String::new(),
    );
    Ok(())
}
