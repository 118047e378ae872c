//! Crash safety: `kill -9` of the real server during a storm of rating votes, then a restart on
//! the same database. Every vote answered with a 2xx must be in the database, the articles'
//! rating totals must agree with their vote rows, SQLite's `PRAGMA integrity_check` must say
//! `ok`, and the server must start again without help. Runs on SQLite, or on PostgreSQL when
//! `BANTIN_TEST_DATABASE_URL` is set (CI runs the suite both ways).
//!
//! Only HTTP and the database tables are used: the vote endpoint's internals may change, its
//! contract (`POST /rate/{id}`, JSON answers, the `bantin_voter` cookie) may not.
//! The newsroom cannot save articles yet; when it can, its saves belong in this storm too.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

mod support;

use support::{Response, exchange, random_u64};

const BIN: &str = env!("CARGO_BIN_EXE_bantin");

/// Concurrent voting clients; enough to keep several writes in flight on two cores.
const CLIENTS: usize = 12;
/// Kill, restart and check this many times: the second crash hits a recovered database.
const ROUNDS: usize = 2;

// ---------------------------------------------------------------------------------------------
// The database under test.

/// Where the server keeps its data: a fresh SQLite file, or a fresh PostgreSQL database that
/// is dropped again when the test ends (also when it fails).
enum Backend {
    Sqlite(PathBuf),
    Postgres { server: String, name: String },
}

impl Backend {
    async fn fresh(data: &Path) -> Self {
        match std::env::var("BANTIN_TEST_DATABASE_URL") {
            Ok(base) if !base.is_empty() => {
                let (server, name) = support::create_database(&base, "bantin_crash").await;
                Self::Postgres { server, name }
            }
            _ => Self::Sqlite(data.join("bantin.db")),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "SQLite",
            Self::Postgres { .. } => "PostgreSQL",
        }
    }

    /// Extra `serve` arguments; SQLite is the default file in the data folder.
    fn serve_args(&self) -> Vec<String> {
        match self {
            Self::Sqlite(_) => vec![],
            Self::Postgres { server, name } => {
                vec!["--database-url".into(), format!("{server}/{name}")]
            }
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Self::Postgres { server, name } = self {
            support::drop_database(server, name);
        }
    }
}

/// A direct connection to the server's database, to check what is really stored.
enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

type VoteRow = (i64, String, i64);
type ArticleRow = (i64, i64, i64);

impl Db {
    async fn open(backend: &Backend) -> Self {
        match backend {
            Backend::Sqlite(path) => {
                let opts = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(false);
                Self::Sqlite(sqlx::SqlitePool::connect_with(opts).await.unwrap())
            }
            Backend::Postgres { server, name } => Self::Postgres(
                sqlx::PgPool::connect(&format!("{server}/{name}"))
                    .await
                    .unwrap(),
            ),
        }
    }

    async fn votes(&self) -> Vec<VoteRow> {
        // CAST: the column types differ between the backends, the test wants i64 from both.
        const SQL: &str = "SELECT CAST(article_id AS BIGINT), voter, CAST(points AS BIGINT) \
                           FROM rating_votes";
        match self {
            Self::Sqlite(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
            Self::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
        }
    }

    async fn articles(&self) -> Vec<ArticleRow> {
        const SQL: &str = "SELECT CAST(id AS BIGINT), CAST(rating_total AS BIGINT), \
                           CAST(rating_count AS BIGINT) FROM articles";
        match self {
            Self::Sqlite(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
            Self::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
        }
    }

    /// SQLite's own verdict on the file; `None` on PostgreSQL, which has no equivalent.
    async fn integrity(&self) -> Option<Vec<String>> {
        match self {
            Self::Sqlite(p) => Some(
                sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_all(p)
                    .await
                    .unwrap(),
            ),
            Self::Postgres(_) => None,
        }
    }

    async fn close(self) {
        match self {
            Self::Sqlite(p) => p.close().await,
            Self::Postgres(p) => p.close().await,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The server process.

struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    /// Starts `bantin serve` and waits until `/healthz` answers: a restart after a crash must
    /// come up on its own, with no repair step in between.
    async fn start(data: &Path, backend: &Backend) -> Self {
        let port = free_port();
        let log = data.with_extension(format!("{port}.log"));
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--data"])
            .arg(data)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(backend.serve_args())
            .env_remove("BANTIN_DATABASE_URL")
            .env(
                "BANTIN_ADMIN_PASSWORD",
                "một mật khẩu đủ dài cho thử nghiệm",
            )
            // Every vote comes from 127.0.0.1: lift the per-address caps out of the way.
            .env("BANTIN_RATING_VOTES_PER_ADDRESS", "100000")
            .env("BANTIN_POSTS_PER_MINUTE", "1000000")
            .env("BANTIN_LOG", "warn");
        // A file, not a pipe: a pipe nobody reads fills up and stalls the server's logging.
        let stderr = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start bantin");
        let mut server = Self { child, port, log };
        support::wait_until_serving(port, &mut server.child, "bantin", &server.log).await;
        server
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no shutdown code runs, nothing is flushed.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL bantin");
        self.child.wait().unwrap();
    }

    /// SIGTERM, and wait for the graceful exit.
    async fn stop(mut self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "bantin did not stop on SIGTERM");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failing test must not leave a server behind.
        if let Ok(None) = self.child.try_wait() {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------------------------------------
// A plain HTTP/1.1 client: one connection per request, so every vote is a fresh client.

async fn send(port: u16, request: String) -> std::io::Result<Response> {
    exchange(port, &request).await
}

async fn get(port: u16, path: &str) -> std::io::Result<Response> {
    send(
        port,
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
    )
    .await
}

async fn vote(port: u16, target: &Target, points: i64) -> std::io::Result<Response> {
    let body = format!("point={points}&token={}", target.token);
    send(
        port,
        format!(
            "POST /rate/{} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
             Accept: application/json\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n\r\n{body}",
            target.article,
            body.len()
        ),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// The storm.

/// An article to vote on, with the token from its page's rating form.
#[derive(Clone)]
struct Target {
    article: i64,
    token: String,
}

/// A vote the server acknowledged with a 2xx.
struct Acked {
    article: i64,
    points: i64,
    /// The voter key from the `bantin_voter` cookie, when it can be read from it.
    voter: Option<String>,
    /// The article's vote count the answer reported.
    count: Option<i64>,
}

#[derive(Default)]
struct Storm {
    acked: Vec<Acked>,
    /// Answered, but not with a 2xx (there should be none with the caps lifted).
    refused: HashMap<u16, usize>,
    /// Sent, but no complete answer came back: in flight when the kill landed.
    in_flight: usize,
}

/// The articles on the home page and their vote tokens, read as a reader's browser would.
async fn targets(port: u16) -> Vec<Target> {
    let home = get(port, "/").await.unwrap();
    assert_eq!(home.status, 200);
    let mut paths: Vec<&str> = home
        .body
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|p| p.starts_with('/') && p.ends_with(".html"))
        .collect();
    paths.sort_unstable();
    paths.dedup();
    let mut targets = Vec::new();
    for path in paths.into_iter().take(6) {
        let page = get(port, path).await.unwrap();
        assert_eq!(page.status, 200, "{path}");
        let action = between(&page.body, "action=\"/rate/", "\"").expect("rating form");
        let token = between(&page.body, "name=\"token\" value=\"", "\"").expect("vote token");
        targets.push(Target {
            article: action.parse().unwrap(),
            token: token.to_owned(),
        });
    }
    assert!(
        targets.len() >= 3,
        "the demo content has several articles to vote on"
    );
    targets
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

/// The voter key inside the signed `bantin_voter` cookie (signature first, then the value).
fn voter_key(res: &Response) -> Option<String> {
    let value = res
        .headers_named("set-cookie")
        .find_map(|c| c.strip_prefix("bantin_voter="))?
        .split(';')
        .next()?;
    let key = value.get(value.len().checked_sub(32)?..)?;
    key.bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then(|| key.to_owned())
}

/// Votes from `CLIENTS` tasks until `stop`, each vote a new connection without cookies.
async fn storm(port: u16, targets: Vec<Target>, stop: Arc<AtomicBool>) -> Storm {
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..CLIENTS {
        let targets = targets.clone();
        let stop = stop.clone();
        tasks.spawn(async move {
            let mut out = Storm::default();
            let mut n = client;
            while !stop.load(Ordering::Relaxed) {
                let target = &targets[n % targets.len()];
                let points = (n % 5) as i64 + 1;
                n += CLIENTS;
                match vote(port, target, points).await {
                    Ok(res) if (200..300).contains(&res.status) => {
                        let json: serde_json::Value =
                            serde_json::from_str(&res.body).unwrap_or_default();
                        out.acked.push(Acked {
                            article: target.article,
                            points,
                            voter: voter_key(&res),
                            count: json["count"].as_i64(),
                        });
                    }
                    Ok(res) => *out.refused.entry(res.status).or_default() += 1,
                    // Refused: the server is already gone; wait for `stop` without spinning.
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Err(_) => out.in_flight += 1,
                }
            }
            out
        });
    }
    let mut all = Storm::default();
    while let Some(part) = tasks.join_next().await {
        let part = part.unwrap();
        all.acked.extend(part.acked);
        for (status, n) in part.refused {
            *all.refused.entry(status).or_default() += n;
        }
        all.in_flight += part.in_flight;
    }
    all
}

// ---------------------------------------------------------------------------------------------
// The checks.

/// Everything acknowledged is stored, and the articles' totals agree with their vote rows.
async fn check(backend: &Backend, acked: &[Acked]) -> usize {
    let db = Db::open(backend).await;
    let votes = db.votes().await;
    let articles = db.articles().await;

    let mut by_article: HashMap<i64, (i64, i64)> = HashMap::new();
    let mut by_voter: HashMap<(i64, &str), i64> = HashMap::new();
    for (article, voter, points) in &votes {
        let e = by_article.entry(*article).or_default();
        e.0 += points;
        e.1 += 1;
        by_voter.insert((*article, voter.as_str()), *points);
    }
    let mut counts: HashMap<i64, i64> = HashMap::new();
    for (id, total, count) in &articles {
        let (sum, rows) = by_article.get(id).copied().unwrap_or_default();
        assert_eq!(
            (*total, *count),
            (sum, rows),
            "article {id}: rating_total/rating_count must equal the sums of its rating_votes rows"
        );
        counts.insert(*id, *count);
    }

    // By voter where the cookie tells it; by number everywhere, so the check still bites if
    // the cookie's format changes.
    let mut acked_per_article: HashMap<i64, i64> = HashMap::new();
    for a in acked {
        *acked_per_article.entry(a.article).or_default() += 1;
        if let Some(voter) = &a.voter {
            assert_eq!(
                by_voter.get(&(a.article, voter.as_str())),
                Some(&a.points),
                "acknowledged vote of {voter} on article {} is stored",
                a.article
            );
        }
        if let Some(count) = a.count {
            assert!(
                count <= counts[&a.article],
                "article {}: an answer reported {count} votes, the database has {}",
                a.article,
                counts[&a.article]
            );
        }
    }
    for (article, n) in &acked_per_article {
        assert!(
            counts.get(article).copied().unwrap_or_default() >= *n,
            "article {article}: {n} votes acknowledged, fewer stored"
        );
    }

    if let Some(result) = db.integrity().await {
        assert_eq!(result, ["ok"], "PRAGMA integrity_check");
    }
    db.close().await;
    acked.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_votes_survive_kill_9_and_the_server_restarts_alone() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backend = Backend::fresh(&data).await;
    let mut server = Server::start(&data, &backend).await;
    let targets = targets(server.port).await;

    let mut acked = Vec::new();
    let mut in_flight = 0;
    for round in 1..=ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let storm = tokio::spawn(storm(server.port, targets.clone(), stop.clone()));
        // 1.0–2.0 s: the kill lands at a different point of a write each run.
        let delay = Duration::from_millis(1000 + random_u64() % 1000);
        tokio::time::sleep(delay).await;
        // Stop the clients only after the kill, so votes are in flight when it lands.
        server.kill();
        stop.store(true, Ordering::Relaxed);
        let result = storm.await.unwrap();
        assert!(
            !result.acked.is_empty(),
            "round {round}: no vote was acknowledged before the kill: refused {:?}, log: {}",
            result.refused,
            server.log_text()
        );
        assert!(
            result.refused.is_empty(),
            "round {round}: votes refused: {:?}",
            result.refused
        );
        assert!(
            result.in_flight > 0,
            "round {round}: the kill landed with no vote in flight"
        );
        eprintln!(
            "{} round {round}: killed after {delay:?}, {} votes acknowledged, {} in flight",
            backend.name(),
            result.acked.len(),
            result.in_flight
        );
        in_flight += result.in_flight;
        acked.extend(result.acked);

        server = Server::start(&data, &backend).await;
        check(&backend, &acked).await;
    }

    // The restarted server takes new votes: nothing is left locked or half-written.
    let res = vote(server.port, &targets[0], 5).await.unwrap();
    assert_eq!(res.status, 200, "{}", res.body);
    acked.push(Acked {
        article: targets[0].article,
        points: 5,
        voter: voter_key(&res),
        count: None,
    });
    server.stop().await;
    let checked = check(&backend, &acked).await;
    let by_voter = acked.iter().filter(|a| a.voter.is_some()).count();
    eprintln!(
        "{}: {checked} acknowledged votes checked ({by_voter} by voter key), {in_flight} \
         cut off in flight, {}, {:.1} s",
        backend.name(),
        match backend {
            Backend::Sqlite(_) => "PRAGMA integrity_check ok",
            Backend::Postgres { .. } => "no integrity_check on PostgreSQL",
        },
        started.elapsed().as_secs_f64()
    );
}
