//! The binary as an operator runs it: first start, restart, shutdown, bad settings.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bantin");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain HTTP/1.1 GET; returns the status line and the whole response.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: cli-test\r\nConnection: close\r\n\r\n").ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text))
}

fn serve(data: &Path, port: u16, extra: &[&str]) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--data"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(extra);
    cmd.env_remove("BANTIN_DATABASE_URL")
        .env("BANTIN_VIEW_FLUSH_SECONDS", "60");
    cmd.stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bantin")
}

fn wait_ready(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((200, _)) = get(port, "/healthz") {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).ok();
            panic!("bantin exited with {status}: {err}");
        }
        assert!(Instant::now() < deadline, "bantin did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "bantin did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run(args: &[&str], data: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("BANTIN_DATABASE_URL")
        .output()
        .unwrap()
}

#[test]
fn first_start_loads_the_demo_and_shutdown_writes_counted_views() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let mut child = serve(&data, port, &[]);
    wait_ready(port, &mut child);

    let (status, res) = get(port, "/xay-dung-dang/x-1.html").unwrap();
    assert_eq!(status, 301);
    let location = res
        .lines()
        .find_map(|l| l.strip_prefix("location: "))
        .unwrap()
        .trim()
        .to_owned();
    let (status, page) = get(port, &location).unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("Thứ ba - 25/10/2022 13:19"));
    assert!(
        data.join("media/2022_10/DSC_5191.jpg").exists(),
        "demo pictures written"
    );
    assert_eq!(get(port, "/media/2022_10/DSC_5191.jpg").unwrap().0, 200);

    // The view is only in memory (flush interval 60 s); SIGTERM must write it.
    let status = terminate(&mut child);
    assert!(status.success(), "{status}");

    // Restart on the same data: content untouched (no second demo load), the view is there.
    let port = free_port();
    let mut child = serve(&data, port, &[]);
    wait_ready(port, &mut child);
    let (_, page) = get(port, &location).unwrap();
    assert!(
        page.contains("Lượt xem: 1"),
        "the view written at shutdown is shown"
    );
    let (_, home) = get(port, "/xay-dung-dang/?page=3").unwrap();
    assert!(
        !home.contains("<article class=\"card\">"),
        "no duplicate demo articles"
    );
    assert!(terminate(&mut child).success());
}

#[test]
fn no_demo_starts_empty() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = serve(dir.path(), port, &["--no-demo"]);
    wait_ready(port, &mut child);
    let (status, home) = get(port, "/").unwrap();
    assert_eq!(status, 200);
    assert!(home.contains("Chưa có bài viết nào."));
    assert!(terminate(&mut child).success());
}

#[test]
fn bad_settings_stop_start_up_with_one_line_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bantin.toml"),
        "listen = \"127.0.0.1:0\"\nsite_nmae = \"x\"\n",
    )
    .unwrap();
    let out = run(&["serve"], dir.path());
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("error: ") && last.contains("site_nmae"),
        "{err}"
    );

    std::fs::remove_file(dir.path().join("bantin.toml")).unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--data"])
        .arg(dir.path())
        .env("BANTIN_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("BANTIN_LISTEN"));
}

#[test]
fn a_read_only_database_is_named() {
    let dir = tempfile::tempdir().unwrap();
    assert!(run(&["migrate"], dir.path()).status.success());
    let db = dir.path().join("bantin.db");
    let url = format!("sqlite://{}?mode=ro", db.display());
    let out = Command::new(BIN)
        .args(["serve", "--database-url", &url, "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("read-only") && err.contains("--database-url"),
        "{err}"
    );
}
