//! What the tests that drive the real binary over HTTP share: one request per connection, read
//! to the end and parsed (status, headers, a chunked body joined).

// Each test binary compiles this module and uses a different part of it (`expect` would fail
// in the binaries that do use everything).
#![allow(dead_code, reason = "each test binary uses a part of it")]

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An answer.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// Every value of header `name`.
    pub fn headers_named(&self, name: &str) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers_named(name).next()
    }
}

/// Sends `request` (a whole HTTP/1.1 request, `Connection: close`) to 127.0.0.1:`port` and
/// reads the answer, in at most ten seconds.
pub async fn exchange(port: u16, request: &str) -> std::io::Result<Response> {
    let io = async {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
        s.write_all(request.as_bytes()).await?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await?;
        Ok::<_, std::io::Error>(buf)
    };
    let buf = tokio::time::timeout(Duration::from_secs(10), io)
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    parse_response(&buf).ok_or_else(|| std::io::Error::from(std::io::ErrorKind::InvalidData))
}

/// Splits status, headers and body; a response cut off before its status line is `None`.
fn parse_response(buf: &[u8]) -> Option<Response> {
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let raw = &buf[split + 4..];
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked { dechunk(raw)? } else { raw.to_vec() };
    Some(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

/// Creates a database named `{prefix}_{random}` on the PostgreSQL server of `base` (a URL
/// naming any database on it); returns the server's URL (without a database) and the name.
pub async fn create_database(base: &str, prefix: &str) -> (String, String) {
    use sqlx::{Connection, Executor};
    let name = format!("{prefix}_{:016x}", random_u64());
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .expect("connect to the PostgreSQL server");
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create a test database");
    conn.close().await.ok();
    let prefix = base.split_once('?').map_or(base, |(a, _)| a);
    let (server, _) = prefix.rsplit_once('/').expect("database URL has a path");
    (server.to_owned(), name)
}

/// Drops database `name` on `server`, ending any connection a killed process left behind. For
/// `Drop` impls: it runs on a thread with a runtime of its own, since the test's runtime cannot
/// be blocked on.
pub fn drop_database(server: &str, name: &str) {
    use sqlx::{Connection, Executor};
    let url = format!("{server}/postgres");
    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    let done = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for dropping the test database");
        rt.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&url).await?;
            conn.execute(sqlx::AssertSqlSafe(sql)).await?;
            conn.close().await
        })
    })
    .join();
    if !matches!(done, Ok(Ok(()))) {
        eprintln!("could not drop test database {name}: {done:?}");
    }
}

/// A number unlikely to repeat across parallel tests (names of databases and folders).
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish()
}

/// Waits (at most 30 s) until the server on `port` answers `/healthz` with 200; fails the test
/// with its log if it exits or does not come up.
pub async fn wait_until_serving(
    port: u16,
    child: &mut std::process::Child,
    name: &str,
    log: &std::path::Path,
) {
    let log_text = || std::fs::read_to_string(log).unwrap_or_default();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let health = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    loop {
        if let Ok(res) = exchange(port, health).await
            && res.status == 200
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{name} exited with {status}: {}", log_text());
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name} did not start: {}",
            log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
