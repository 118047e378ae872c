//! Several processes, one database, one truth: two real `bantin serve` processes share a
//! database (PostgreSQL when `BANTIN_TEST_DATABASE_URL` is set, else one SQLite file), and what
//! is written through one, or by a third process on the command line, shows on the other's
//! cached pages within a second (on SQLite, where the follower's 200 ms poll is the only
//! wake-up, too) without purging pages it does not concern; an
//! account disabled on one is signed out of both. On PostgreSQL, ending every connection of
//! the database, and stopping and starting a private database server, must not stop either
//! process from serving and following the change feed.
//!
//! Only HTTP, the command line and the database server are used, as an operator would.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

mod support;

use support::{Response, exchange};

const BIN: &str = env!("CARGO_BIN_EXE_bantin");
const ADMIN_PASSWORD: &str = "một mật khẩu đủ dài cho thử nghiệm";
const EDITOR_PASSWORD: &str = "mùa thu Cao Bằng năm ấy";

/// The tests measure delays of a second; run alone, they do not slow each other down.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---------------------------------------------------------------------------------------------
// The database under test.

/// A fresh SQLite file, or a fresh PostgreSQL database dropped again when the test ends (also
/// when it fails).
enum Backend {
    Sqlite(PathBuf),
    Postgres { server: String, name: String },
}

impl Backend {
    /// PostgreSQL at `BANTIN_TEST_DATABASE_URL` when set, else SQLite in `dir`.
    async fn fresh(dir: &Path) -> Self {
        match std::env::var("BANTIN_TEST_DATABASE_URL") {
            Ok(base) if !base.is_empty() => Self::postgres(&base).await,
            _ => Self::Sqlite(dir.join("bantin.db")),
        }
    }

    /// A new database on the server of `base` (a URL naming any database on it).
    async fn postgres(base: &str) -> Self {
        let (server, name) = support::create_database(base, "bantin_procs").await;
        Self::Postgres { server, name }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "SQLite",
            Self::Postgres { .. } => "PostgreSQL",
        }
    }

    /// The `--database-url` every process gets: the same database, whatever its `--data`.
    fn url(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}?mode=rwc", path.display()),
            Self::Postgres { server, name } => format!("{server}/{name}"),
        }
    }

    /// How soon a commit by one process must show on another's pages: within a second on
    /// both (PostgreSQL announces it with NOTIFY; on SQLite the follower polls five times a
    /// second).
    fn propagation_limit(&self) -> Duration {
        Duration::from_secs(1)
    }

    /// An administrative connection to the server (not to the test database, so it is not
    /// among the connections it terminates).
    async fn admin(&self) -> Option<sqlx::PgConnection> {
        let Self::Postgres { server, .. } = self else {
            return None;
        };
        Some(
            sqlx::PgConnection::connect(&format!("{server}/postgres"))
                .await
                .expect("connect to the PostgreSQL server"),
        )
    }
}

/// The titles of the `n` articles created last (the generated ones `bantin demo` adds).
async fn newest_titles(backend: &Backend, n: i64) -> Vec<String> {
    const SQL: &str = "SELECT title FROM articles ORDER BY id DESC LIMIT $1";
    match backend {
        Backend::Sqlite(path) => {
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .expect("open the SQLite file");
            sqlx::query_scalar(SQL)
                .bind(n)
                .fetch_all(&mut c)
                .await
                .unwrap()
        }
        Backend::Postgres { server, name } => {
            let mut c = sqlx::PgConnection::connect(&format!("{server}/{name}"))
                .await
                .expect("connect to the test database");
            sqlx::query_scalar(SQL)
                .bind(n)
                .fetch_all(&mut c)
                .await
                .unwrap()
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

/// The connections of `db` that listen for change notifications (the `LISTEN` is the last
/// statement a listening connection ran).
async fn listeners(admin: &mut sqlx::PgConnection, db: &str) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN %'",
    )
    .bind(db)
    .fetch_all(admin)
    .await
    .unwrap()
}

/// Waits until both processes listen on new connections, none of `old`; returns how long
/// that took from `since`, or fails after `limit`.
async fn wait_for_new_listeners(
    admin: &mut sqlx::PgConnection,
    db: &str,
    old: &[i32],
    since: Instant,
    limit: Duration,
) -> Duration {
    loop {
        let now = listeners(admin, db).await;
        if now.len() == 2 && now.iter().all(|p| !old.contains(p)) {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < limit,
            "the processes do not listen again after {limit:?}: {now:?} (before: {old:?})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The processes.

struct Server {
    name: &'static str,
    child: Child,
    port: u16,
    log: PathBuf,
}

/// Settings every process gets: no stray environment, quiet logs, caps out of the way.
fn command(args: &[&str], data: &Path, backend: &Backend) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .arg("--data")
        .arg(data)
        .args(["--database-url", &backend.url()])
        .env_remove("BANTIN_DATABASE_URL")
        .env_remove("BANTIN_DATA")
        .env("BANTIN_LOG", "warn");
    cmd
}

impl Server {
    /// Starts `bantin serve` with its own data folder and port; waits until it serves.
    async fn start(name: &'static str, data: &Path, backend: &Backend) -> Self {
        std::fs::create_dir_all(data).unwrap();
        let port = free_port();
        let log = data.join("server.log");
        let mut cmd = command(&["serve"], data, backend);
        cmd.args(["--listen", &format!("127.0.0.1:{port}")])
            .env("BANTIN_ADMIN_PASSWORD", ADMIN_PASSWORD)
            // Every request comes from 127.0.0.1.
            .env("BANTIN_RATING_VOTES_PER_ADDRESS", "100000")
            .env("BANTIN_POSTS_PER_MINUTE", "1000000")
            // Flushed views change no page; keep the database quiet anyway.
            .env("BANTIN_VIEW_FLUSH_SECONDS", "60");
        // A file, not a pipe: a pipe nobody reads fills up and stalls the server's logging.
        let stderr = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start bantin");
        let mut server = Self {
            name,
            child,
            port,
            log,
        };
        support::wait_until_serving(server.port, &mut server.child, name, &server.log).await;
        server
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn get(&self, path: &str) -> std::io::Result<Response> {
        request(self.port, "GET", path, &Jar::default(), None).await
    }

    /// A GET that must answer; a failure names the process and shows its log.
    async fn page(&self, path: &str) -> Response {
        match self.get(path).await {
            Ok(res) => res,
            Err(e) => panic!("{} GET {path}: {e}; log: {}", self.name, self.log_text()),
        }
    }

    /// Votes as a new visitor (no cookies), with the token of the article page's form.
    async fn vote(&self, target: &Target, points: i64) {
        let body = format!("point={points}&token={}", target.token);
        let res = request(
            self.port,
            "POST",
            &format!("/rate/{}", target.article),
            &Jar::default(),
            Some(&body),
        )
        .await
        .expect("vote");
        assert_eq!(
            res.status,
            200,
            "{}: vote refused: {}; log: {}",
            self.name,
            res.body,
            self.log_text()
        );
    }

    /// Signs in as the sign-in page asks a browser to; returns the cookies of the session.
    async fn sign_in(&self, username: &str, password: &str) -> Jar {
        let mut jar = Jar::default();
        let form = request(self.port, "GET", "/admin/login", &jar, None)
            .await
            .unwrap();
        assert_eq!(form.status, 200, "{}", form.body);
        jar.absorb(&form);
        let csrf = between(&form.body, "name=\"csrf\" value=\"", "\"").expect("csrf field");
        let body = form_encode(&[
            ("username", username),
            ("password", password),
            ("csrf", csrf),
            ("tiep", "/admin"),
        ]);
        let res = request(self.port, "POST", "/admin/login", &jar, Some(&body))
            .await
            .unwrap();
        assert_eq!(res.status, 303, "{}: sign-in: {}", self.name, res.body);
        jar.absorb(&res);
        assert!(jar.0.contains_key("bantin_session"), "{}", self.name);
        jar
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

/// Runs a command-line subcommand against the shared database; it must succeed.
fn cli(args: &[&str], data: &Path, backend: &Backend, password: Option<&str>) -> Output {
    let mut cmd = command(args, data, backend);
    if let Some(p) = password {
        cmd.env("BANTIN_USER_PASSWORD", p);
    }
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "bantin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------------------------------------
// A plain HTTP/1.1 client: one connection per request, cookies only where a test keeps them.

/// What the tests read of an answer beyond the shared [`Response`].
trait PageInfo {
    fn etag(&self) -> &str;
    /// Seconds since the page was rendered; fresh renders say 0.
    fn age(&self) -> Option<u64>;
}

impl PageInfo for Response {
    fn etag(&self) -> &str {
        self.header("etag").unwrap_or_default()
    }

    fn age(&self) -> Option<u64> {
        self.header("age")?.parse().ok()
    }
}

/// Cookies a test keeps for one site.
#[derive(Default)]
struct Jar(HashMap<String, String>);

impl Jar {
    fn absorb(&mut self, res: &Response) {
        for (n, v) in &res.headers {
            if !n.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let Some((name, rest)) = v.split_once('=') else {
                continue;
            };
            let value = rest.split(';').next().unwrap_or_default();
            if value.is_empty() || v.to_ascii_lowercase().contains("max-age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn header(&self) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let pairs: Vec<String> = self.0.iter().map(|(n, v)| format!("{n}={v}")).collect();
        format!("Cookie: {}\r\n", pairs.join("; "))
    }
}

/// Sends one request (`form`: an urlencoded POST body) and reads the whole answer. Votes ask
/// for JSON (`/rate/`), everything else for HTML as a browser would.
async fn request(
    port: u16,
    method: &str,
    path: &str,
    jar: &Jar,
    form: Option<&str>,
) -> std::io::Result<Response> {
    let accept = if path.starts_with("/rate/") {
        "application/json"
    } else {
        "text/html"
    };
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Accept: {accept}\r\n{}",
        jar.header()
    );
    if let Some(body) = form {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    } else {
        req.push_str("\r\n");
    }
    exchange(port, &req).await
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

// ---------------------------------------------------------------------------------------------
// Pages and what they show.

/// An article page and the vote token of its rating form.
#[derive(Clone)]
struct Target {
    path: String,
    article: i64,
    token: String,
}

impl Target {
    async fn read(server: &Server, path: &str) -> Self {
        let page = server.page(path).await;
        assert_eq!(page.status, 200, "{path}");
        let action = between(&page.body, "action=\"/rate/", "\"").expect("rating form");
        let token = between(&page.body, "name=\"token\" value=\"", "\"").expect("vote token");
        Self {
            path: path.to_owned(),
            article: action.parse().unwrap(),
            token: token.to_owned(),
        }
    }
}

/// The rating line of an article page: (total points, votes).
fn rating(page: &str) -> (i64, i64) {
    let line = between(page, "Tổng số điểm của bài viết là: ", " đánh giá").expect("rating line");
    let (total, count) = line.split_once(" trong ").expect("N trong M");
    (total.parse().unwrap(), count.parse().unwrap())
}

fn rating_text((total, count): (i64, i64)) -> String {
    format!("Tổng số điểm của bài viết là: {total} trong {count} đánh giá")
}

/// Polls `server`'s `path` every 50 ms until its body contains every one of `needles`;
/// returns how long that took from `since`, or fails after `limit`.
async fn until_shown(
    server: &Server,
    path: &str,
    needles: &[&str],
    since: Instant,
    limit: Duration,
) -> Duration {
    loop {
        // Errors (a database reconnecting) count as "not yet", within the limit.
        let last = server.get(path).await;
        if let Ok(res) = &last
            && res.status == 200
            && needles.iter().all(|n| res.body.contains(n))
        {
            return since.elapsed();
        }
        if since.elapsed() >= limit {
            let seen = match last {
                Ok(res) => format!("status {}", res.status),
                Err(e) => e.to_string(),
            };
            panic!(
                "{} still does not show {needles:?} on {path} after {limit:?} ({seen}); log: {}",
                server.name,
                server.log_text()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Requests `path` twice; the second answer must come from memory (same validator).
async fn warm(server: &Server, path: &str) -> Response {
    let first = server.page(path).await;
    assert_eq!(first.status, 200, "{} {path}", server.name);
    let second = server.page(path).await;
    assert_eq!(
        second.etag(),
        first.etag(),
        "{} {path}: the second request is served from the page cache",
        server.name
    );
    assert!(second.age().is_some(), "{} {path}: Age header", server.name);
    second
}

/// The canonical URL of the seed article (the id decides, the server redirects).
async fn seed_path(server: &Server) -> String {
    let res = server.page("/xay-dung-dang/x-1.html").await;
    assert_eq!(res.status, 301);
    res.header("location").expect("Location").to_owned()
}

/// An article page of a category other than the seed article's, from the home page.
async fn other_category_path(server: &Server) -> String {
    let home = server.page("/").await;
    home.body
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|p| p.starts_with('/') && p.ends_with(".html") && !p.starts_with("/xay-dung-dang/"))
        .expect("the demo home page links an article of another category")
        .to_owned()
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_database_show_one_truth() {
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::fresh(dir.path()).await;
    let limit = backend.propagation_limit();
    let kind = backend.name();
    let cli_data = dir.path().join("cli");
    std::fs::create_dir_all(&cli_data).unwrap();

    // A creates the database and the demo content; B only joins it.
    let a = Server::start("A", &dir.path().join("a"), &backend).await;
    let b = Server::start("B", &dir.path().join("b"), &backend).await;

    let seed = Target::read(&a, &seed_path(&a).await).await;
    let other = other_category_path(&a).await;
    let b_seed = warm(&b, &seed.path).await;
    let b_home = warm(&b, "/").await;
    let b_other = warm(&b, &other).await;
    warm(&a, "/").await;
    let warmed = Instant::now();

    // A vote on A shows on B's cached article page.
    let before = rating(&b_seed.body);
    let sent = Instant::now();
    a.vote(&seed, 4).await;
    let answered = Instant::now();
    let expected = rating_text((before.0 + 4, before.1 + 1));
    let vote_delay = until_shown(&b, &seed.path, &[&expected], answered, limit).await;
    eprintln!(
        "{kind}: vote on A shown on B {} after A answered ({} after it was sent)",
        ms(vote_delay),
        ms(vote_delay + (answered - sent))
    );

    // B's other pages do not show that article's rating: still served from memory. A page
    // rendered over a second ago says so with Age ≥ 1; a fresh render says Age: 0.
    tokio::time::sleep(Duration::from_secs(1).saturating_sub(warmed.elapsed())).await;
    for (path, was) in [("/", &b_home), (other.as_str(), &b_other)] {
        let now = b.page(path).await;
        assert_eq!(
            now.etag(),
            was.etag(),
            "B {path}: a vote on another article leaves it cached"
        );
        assert!(
            now.age().is_some_and(|s| s >= 1),
            "B {path}: served from memory (Age {:?})",
            now.age()
        );
    }

    // A third process imports articles: both serving processes list them.
    // B has the home page cached before the import.
    let before = b.page("/").await.body;
    let out = cli(&["demo", "--articles", "3"], &cli_data, &backend, None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("added 3 articles"));
    let imported = Instant::now();
    let titles = newest_titles(&backend, 3).await;
    assert!(titles.iter().all(|t| !before.contains(t.as_str())));
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
    let on_a = until_shown(&a, "/", &titles, imported, limit).await;
    let on_b = until_shown(&b, "/", &titles, imported, limit).await;
    eprintln!(
        "{kind}: articles imported by a third process listed on A after {}, on B after {}",
        ms(on_a),
        ms(on_b)
    );

    // An account disabled by an administrator on A is signed out of A and of B at once.
    cli(
        &["user", "add", "bientap", "--role", "editor"],
        &cli_data,
        &backend,
        Some(EDITOR_PASSWORD),
    );
    let jars = [
        (&a, a.sign_in("bientap", EDITOR_PASSWORD).await),
        (&b, b.sign_in("bientap", EDITOR_PASSWORD).await),
    ];
    for (server, jar) in &jars {
        let res = request(server.port, "GET", "/admin", jar, None)
            .await
            .unwrap();
        assert_eq!(res.status, 200, "{} /admin while signed in", server.name);
    }
    let admin_jar = a.sign_in("admin", ADMIN_PASSWORD).await;
    let users = request(a.port, "GET", "/admin/users", &admin_jar, None)
        .await
        .unwrap();
    assert_eq!(users.status, 200);
    let link = &users.body[..users.body.find("\">bientap</a>").expect("bientap listed")];
    let id = &link[link.rfind("/admin/users/").unwrap() + "/admin/users/".len()..];
    let csrf = between(&users.body, "name=\"csrf\" value=\"", "\"").expect("csrf field");
    let res = request(
        a.port,
        "POST",
        &format!("/admin/users/{id}/active"),
        &admin_jar,
        Some(&form_encode(&[("csrf", csrf), ("active", "0")])),
    )
    .await
    .unwrap();
    assert_eq!(res.status, 303, "disable bientap on A: {}", res.body);
    for (server, jar) in &jars {
        let res = request(server.port, "GET", "/admin", jar, None)
            .await
            .unwrap();
        assert_eq!(
            res.status, 303,
            "{}: the disabled account is signed out",
            server.name
        );
        let to = res.header("location").unwrap_or_default();
        assert!(to.starts_with("/admin/login"), "{}: {to}", server.name);
    }

    // A lost database connection stops neither process (PostgreSQL: the server ends every
    // connection of the database, A's and B's, pools and listeners alike).
    if let Some(mut admin) = backend.admin().await {
        let Backend::Postgres { name: db, .. } = &backend else {
            unreachable!()
        };
        let old = listeners(&mut admin, db).await;
        assert_eq!(old.len(), 2, "A and B listen");
        // The timeout makes the call wait until the backends are gone, so the listeners
        // counted below are new ones.
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(db)
        .fetch_all(&mut admin)
        .await
        .unwrap();
        let cut = Instant::now();
        assert!(
            ended.len() >= 2 && ended.iter().all(|e| *e),
            "the processes' connections were ended: {ended:?}"
        );
        for server in [&a, &b] {
            let res = server.page("/healthz").await;
            assert_eq!(
                res.status, 200,
                "{} serves after losing its connections",
                server.name
            );
            let res = server.page("/van-hoa-the-thao/").await;
            assert_eq!(res.status, 200, "{} reads the database again", server.name);
        }
        let relisten =
            wait_for_new_listeners(&mut admin, db, &old, cut, Duration::from_secs(3)).await;
        eprintln!(
            "{kind}: {} connections ended; both processes served at once and listen again \
             {} after the cut",
            ended.len(),
            ms(relisten)
        );

        let before = rating(&b.page(&seed.path).await.body);
        a.vote(&seed, 5).await;
        let answered = Instant::now();
        let expected = rating_text((before.0 + 5, before.1 + 1));
        let d = until_shown(
            &b,
            &seed.path,
            &[&expected],
            answered,
            Duration::from_secs(2),
        )
        .await;
        eprintln!(
            "{kind}: after the cut, a vote on A shown on B after {} ({} after the cut)",
            ms(d),
            ms(cut.elapsed())
        );
        // And the other way round: A's follower also survived.
        let target = Target::read(&b, &other).await;
        let before = rating(&a.page(&other).await.body);
        b.vote(&target, 2).await;
        let answered = Instant::now();
        let expected = rating_text((before.0 + 2, before.1 + 1));
        let d = until_shown(&a, &other, &[&expected], answered, Duration::from_secs(2)).await;
        eprintln!(
            "{kind}: after the cut, a vote on B shown on A after {}",
            ms(d)
        );
        admin.close().await.ok();
    } else {
        eprintln!(
            "{kind}: losing the database connection only applies to PostgreSQL \
             (set BANTIN_TEST_DATABASE_URL); skipped"
        );
    }
    drop((a, b));
    eprintln!("{kind}: {:.1} s", started.elapsed().as_secs_f64());
}

// ---------------------------------------------------------------------------------------------
// A database server restart. The shared test server may not be restarted (others use it): this
// test starts a PostgreSQL server of its own.

/// A private PostgreSQL server in a temporary folder, stopped and removed when dropped.
struct PrivatePostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// Running as root: PostgreSQL refuses to, so its commands run as `postgres`.
    as_postgres: bool,
}

impl PrivatePostgres {
    /// Initialises and starts a server; the reason why not when PostgreSQL's server programs
    /// are not installed or cannot run here.
    fn start() -> Result<Self, String> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|e| format!("/usr/lib/postgresql: {e}"))?
            .filter_map(|e| {
                let e = e.ok()?;
                let version: u32 = e.file_name().to_str()?.parse().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").exists().then_some((version, bin))
            })
            .max()
            .map(|(_, bin)| bin)
            .ok_or("no /usr/lib/postgresql/*/bin/initdb")?;
        let uid = Command::new("id")
            .arg("-u")
            .output()
            .map_err(|e| e.to_string())?;
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        if as_postgres {
            let ok = Command::new("chown")
                .arg("postgres:")
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err("cannot hand a folder to the postgres user".into());
            }
        }
        let server = Self {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        let data = server.dir.path().join("data");
        server.run(&format!(
            "{}/initdb -D {} -A trust -U postgres --no-sync",
            server.bin.display(),
            data.display()
        ))?;
        server.pg_ctl("start")?;
        Ok(server)
    }

    /// Runs a shell command line, as `postgres` when we are root.
    fn run(&self, line: &str) -> Result<(), String> {
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("su");
            c.args(["postgres", "-c", line]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", line]);
            c
        };
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{line}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// `pg_ctl start|stop|restart`, waiting for it to finish; `fast` ends connections.
    fn pg_ctl(&self, action: &str) -> Result<(), String> {
        let dir = self.dir.path().display();
        self.run(&format!(
            "{}/pg_ctl -D {dir}/data -m fast -w -t 20 -l {dir}/log \
             -o '-p {} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off' {action}",
            self.bin.display(),
            self.port
        ))
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if let Err(e) = self.pg_ctl("stop") {
            eprintln!("could not stop the private PostgreSQL server: {e}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_server_restart_stops_neither_process() {
    let _serial = SERIAL.lock().await;
    // Run with the PostgreSQL half of the suite; the SQLite half stays quick.
    if !std::env::var("BANTIN_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        eprintln!("a database server restart only applies to PostgreSQL; skipped");
        return;
    }
    let started = Instant::now();
    // Declared first, dropped last: the database is dropped and the processes stopped before
    // the server goes.
    let pg = match PrivatePostgres::start() {
        Ok(pg) => pg,
        Err(e) => {
            eprintln!("no private PostgreSQL server ({e}); the restart test is skipped");
            return;
        }
    };
    let booted = started.elapsed();
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::postgres(&pg.url()).await;
    let Backend::Postgres { name: db, .. } = &backend else {
        unreachable!()
    };
    let a = Server::start("A", &dir.path().join("a"), &backend).await;
    let b = Server::start("B", &dir.path().join("b"), &backend).await;
    let seed = Target::read(&a, &seed_path(&a).await).await;
    let before = rating(&warm(&b, &seed.path).await.body);
    let mut admin = backend.admin().await.unwrap();
    let old = listeners(&mut admin, db).await;
    assert_eq!(old.len(), 2, "A and B listen");
    admin.close().await.ok();

    // Down for two seconds: the listeners' reconnects and the followers' reads fail a few
    // times, not just once.
    let down = Instant::now();
    pg.pg_ctl("stop").expect("stop the private server");
    for server in [&a, &b] {
        let res = server.page(&seed.path).await;
        assert_eq!(res.status, 200, "{} serves from memory", server.name);
    }
    // What needs the database waits for a connection (the pool's acquire timeout) rather than
    // failing at once; recorded, not required.
    let t = Instant::now();
    let health = tokio::time::timeout(Duration::from_millis(1500), a.get("/healthz")).await;
    eprintln!(
        "database down: A's health check {} after {}",
        match health {
            Ok(Ok(r)) => format!("answered {}", r.status),
            Ok(Err(e)) => format!("failed: {e}"),
            Err(_) => "had not answered".to_owned(),
        },
        ms(t.elapsed())
    );
    tokio::time::sleep(Duration::from_secs(2).saturating_sub(down.elapsed())).await;
    let up = Instant::now();
    pg.pg_ctl("start").expect("start the private server again");
    let restarted = up.elapsed();
    let mut healthy = Duration::ZERO;
    for server in [&a, &b] {
        healthy = until_shown(server, "/healthz", &["ok"], up, Duration::from_secs(10)).await;
    }

    // At once, whether or not the listeners are back yet (if not, B's poll finds it).
    a.vote(&seed, 3).await;
    let answered = Instant::now();
    let expected = rating_text((before.0 + 3, before.1 + 1));
    let first = until_shown(
        &b,
        &seed.path,
        &[&expected],
        answered,
        Duration::from_secs(2),
    )
    .await;

    let mut admin = backend.admin().await.unwrap();
    let relisten = wait_for_new_listeners(&mut admin, db, &old, up, Duration::from_secs(10)).await;
    admin.close().await.ok();
    // And with them back, a vote on B reaches A's cached page as an announcement, not by
    // the poll.
    let target = Target::read(&b, &seed.path).await;
    let before = rating(&warm(&a, &seed.path).await.body);
    b.vote(&target, 2).await;
    let answered = Instant::now();
    let expected = rating_text((before.0 + 2, before.1 + 1));
    let second = until_shown(
        &a,
        &seed.path,
        &[&expected],
        answered,
        Duration::from_secs(1),
    )
    .await;
    eprintln!(
        "private PostgreSQL: started in {}, down 2 s, up again in {}; both processes healthy \
         {} and listening again {} after it was back; a vote on A shown on B after {}, later \
         one on B shown on A after {}; {:.1} s",
        ms(booted),
        ms(restarted),
        ms(healthy),
        ms(relisten),
        ms(first),
        ms(second),
        started.elapsed().as_secs_f64()
    );
    drop((a, b));
}
