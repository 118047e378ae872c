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
    // The demo pictures are library items: files under DATA/media/lib, responsive on the page.
    let library = std::fs::read_dir(data.join("media/lib")).unwrap().count();
    assert!(
        library >= 3 * 4,
        "demo pictures and variants written: {library}"
    );
    let start = page
        .find("srcset=\"/media/lib/")
        .expect("srcset on the seed page")
        + 8;
    let end = start + page[start..].find(' ').unwrap();
    assert_eq!(get(port, &page[start..end]).unwrap().0, 200);

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

fn user(args: &[&str], data: &Path, password: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("user")
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("BANTIN_DATABASE_URL");
    match password {
        Some(p) => cmd.env("BANTIN_USER_PASSWORD", p),
        None => cmd.env_remove("BANTIN_USER_PASSWORD"),
    };
    cmd.stdin(Stdio::null()).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_first_start_creates_admin_with_a_password_shown_once() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..2 {
        let port = free_port();
        let mut child = Command::new(BIN)
            .args(["serve", "--no-demo", "--data"])
            .arg(dir.path())
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env_remove("BANTIN_ADMIN_PASSWORD")
            .env_remove("BANTIN_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_ready(port, &mut child);
        assert!(terminate(&mut child).success());
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let shown = out.contains("tài khoản quản trị \"admin\", mật khẩu: ");
        assert_eq!(shown, round == 0, "round {round}: {out}");
    }
    let list = stdout(&user(&["list"], dir.path(), None));
    assert!(list.starts_with("admin\tadministrator\tactive"), "{list}");
    // The generated password is stored hashed, never in clear, and not in any log file.
    let db = std::fs::read(dir.path().join("bantin.db")).unwrap();
    assert!(String::from_utf8_lossy(&db).contains("$argon2id$"));
}

#[test]
fn a_weak_admin_password_from_the_environment_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--no-demo", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .env("BANTIN_ADMIN_PASSWORD", "123456")
        .env_remove("BANTIN_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("BANTIN_ADMIN_PASSWORD") && err.contains("ít nhất 10 ký tự"),
        "{err}"
    );
}

#[test]
fn accounts_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    assert!(run(&["migrate"], dir.path()).status.success());
    let ok = user(
        &[
            "add",
            "BienTap1",
            "--role",
            "editor",
            "--display-name",
            "Biên tập 1",
        ],
        dir.path(),
        Some("mùa thu Cao Bằng"),
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // The password may also come on standard input.
    let mut child = Command::new(BIN)
        .args([
            "user",
            "add",
            "tongbientap",
            "--role",
            "editor-in-chief",
            "--data",
        ])
        .arg(dir.path())
        .env_remove("BANTIN_USER_PASSWORD")
        .env_remove("BANTIN_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("một câu đủ dài làm mật khẩu\n".as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());

    for (args, password, needle) in [
        (vec!["add", "bientap1"], Some("mùa thu Cao Bằng"), "taken"),
        (
            vec!["add", "x y"],
            Some("mùa thu Cao Bằng"),
            "tên đăng nhập",
        ),
        (vec!["add", "bientap2"], Some("password123"), "quá phổ biến"),
        (vec!["add", "bientap2"], Some("ngắn"), "ít nhất 10 ký tự"),
        (
            vec!["add", "bientap2", "--role", "root"],
            Some("mùa thu Cao Bằng"),
            "vai trò",
        ),
        (vec!["disable", "khongco"], None, "no account"),
    ] {
        let out = user(&args, dir.path(), password);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert!(
        user(&["disable", "bientap1"], dir.path(), None)
            .status
            .success()
    );
    assert!(
        user(
            &["passwd", "tongbientap"],
            dir.path(),
            Some("một câu khác cũng đủ dài")
        )
        .status
        .success()
    );
    let list = stdout(&user(&["list"], dir.path(), None));
    assert_eq!(
        list.lines().collect::<Vec<_>>(),
        [
            "bientap1\teditor\tdisabled\tBiên tập 1",
            "tongbientap\teditor-in-chief\tactive\t"
        ]
    );
}
