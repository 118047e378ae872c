//! Slow, silent and too many connections against the real binary: each is closed or held back
//! by the server, and everyone else is still served.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bantin");

/// The test's own loopback addresses (Linux routes all of 127/8 to `lo`): readiness checks come
/// from `READY` so they never take a place of `ME`, the address whose connections are counted.
const ME: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const SOMEONE_ELSE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const READY: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

/// A running `bantin serve`, killed if the test fails before stopping it.
struct Server {
    child: Child,
    port: u16,
    _data: tempfile::TempDir,
}

impl Server {
    fn start(settings: &[&str]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(BIN)
            .args(["serve", "--no-demo", "--data"])
            .arg(data.path())
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(settings)
            .env_remove("BANTIN_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start bantin");
        let mut server = Self {
            child,
            port,
            _data: data,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while get_from(READY, port, "/healthz") != Some(200) {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("bantin exited with {status}");
            }
            assert!(Instant::now() < deadline, "bantin did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn connect_from(&self, ip: Ipv4Addr) -> TcpStream {
        connect(ip, self.port).expect("connect")
    }

    /// SIGTERM, and the exit status once it has stopped.
    fn stop(mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "bantin did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connection from the loopback address `ip` (bound before connecting).
fn connect(ip: Ipv4Addr, port: u16) -> std::io::Result<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.bind(&SocketAddr::from((ip, 0)).into())?;
    socket.connect(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)).into())?;
    Ok(socket.into())
}

/// One GET on `stream`, keeping it open; the status once the whole response has arrived, `None`
/// when the connection ends or stays silent for 10 s first.
fn request(stream: &mut TcpStream, path: &str) -> Option<u16> {
    exchange(stream, "GET", path)
}

/// One bodiless request on `stream`, as [`request`].
fn exchange(stream: &mut TcpStream, method: &str, path: &str) -> Option<u16> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).into_owned();
            let status = head.split(' ').nth(1)?.parse().ok()?;
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .expect("a Content-Length, so the response's end is known");
            while got.len() < end + 4 + length {
                let n = stream.read(&mut chunk).ok()?;
                if n == 0 {
                    return None;
                }
                got.extend_from_slice(&chunk[..n]);
            }
            return Some(status);
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&chunk[..n]);
    }
}

/// A GET from `ip` on a new connection; `None` if it could not be made or answered.
fn get_from(ip: Ipv4Addr, port: u16, path: &str) -> Option<u16> {
    request(&mut connect(ip, port).ok()?, path)
}

/// Whether the server closes `stream` (end of stream or reset) before `patience` of silence
/// from it. Anything it sends first (such as a 408) is read and skipped.
fn closed_by_server(stream: &mut TcpStream, patience: Duration) -> bool {
    stream.set_read_timeout(Some(patience)).unwrap();
    let mut chunk = [0u8; 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(e) => panic!("reading: {e}"),
        }
    }
}

/// Sends a request head on a clone of `stream` one header line at a time, each well inside the
/// header-read timeout, until the server closes the connection.
fn trickle(stream: &TcpStream) -> std::thread::JoinHandle<()> {
    let mut writer = stream.try_clone().unwrap();
    std::thread::spawn(move || {
        writer.write_all(b"GET /healthz HTTP/1.1\r\n").ok();
        for i in 0..100 {
            std::thread::sleep(Duration::from_millis(200));
            if write!(writer, "X-Slow-{i}: 1\r\n").is_err() {
                return;
            }
        }
    })
}

#[test]
fn a_request_head_that_stops_or_trickles_is_closed() {
    // The keep-alive timeout stays at its default (30 s), far beyond the patience below.
    let server = Server::start(&["--header-read-timeout", "1"]);

    let mut stalled = server.connect_from(ME);
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    let mut trickling = server.connect_from(ME);
    let first = trickle(&trickling);
    // After a quick first request, the second head gets the header-read timeout from its first
    // byte, not the keep-alive timeout.
    let mut kept_alive = server.connect_from(ME);
    assert_eq!(request(&mut kept_alive, "/healthz"), Some(200));
    let second = trickle(&kept_alive);

    let patience = Duration::from_secs(10);
    assert!(
        closed_by_server(&mut stalled, patience),
        "a stalled request head is closed"
    );
    assert!(
        closed_by_server(&mut trickling, patience),
        "a trickled request head is closed"
    );
    assert!(
        closed_by_server(&mut kept_alive, patience),
        "a trickled head on a kept-alive connection is closed"
    );
    drop((trickling, kept_alive));
    first.join().unwrap();
    second.join().unwrap();
    assert_eq!(get_from(ME, server.port, "/healthz"), Some(200));
    assert!(server.stop().success());
}

#[test]
fn a_connection_that_sends_nothing_is_closed() {
    let server = Server::start(&["--header-read-timeout", "1"]);
    let mut silent = server.connect_from(ME);
    assert!(closed_by_server(&mut silent, Duration::from_secs(10)));
    assert_eq!(get_from(ME, server.port, "/healthz"), Some(200));
    assert!(server.stop().success());
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout() {
    let server = Server::start(&["--header-read-timeout", "1", "--keep-alive-timeout", "6"]);
    let mut conn = server.connect_from(ME);
    assert_eq!(request(&mut conn, "/healthz"), Some(200));
    // Twice the header-read timeout of silence is within the keep-alive timeout: the connection
    // is still there for the next request (one timeout for both would have closed it).
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        request(&mut conn, "/healthz"),
        Some(200),
        "kept alive past header_read_timeout"
    );
    assert!(
        closed_by_server(&mut conn, Duration::from_secs(15)),
        "closed after keep_alive_timeout"
    );
    assert!(server.stop().success());
}

#[test]
fn one_address_at_its_cap_does_not_lock_out_others() {
    // Timeouts far beyond the test, so only the cap can close anything.
    let server = Server::start(&[
        "--header-read-timeout",
        "60",
        "--keep-alive-timeout",
        "60",
        "--max-connections-per-address",
        "5",
    ]);
    let silent: Vec<TcpStream> = (0..5).map(|_| server.connect_from(ME)).collect();

    let mut sixth = server.connect_from(ME);
    assert!(
        closed_by_server(&mut sixth, Duration::from_secs(10)),
        "the sixth connection from one address is closed at once"
    );
    assert_eq!(
        get_from(SOMEONE_ELSE, server.port, "/healthz"),
        Some(200),
        "another address is served while the first is at its cap"
    );

    // Places are given back as connections close.
    drop(silent);
    let deadline = Instant::now() + Duration::from_secs(10);
    while get_from(ME, server.port, "/healthz") != Some(200) {
        assert!(Instant::now() < deadline, "the address is served again");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(server.stop().success());
}

#[test]
fn at_the_global_cap_new_connections_wait_for_a_free_place() {
    let server = Server::start(&["--header-read-timeout", "60", "--max-open-connections", "3"]);
    let mut silent: Vec<TcpStream> = (0..3).map(|_| server.connect_from(ME)).collect();

    let mut waiting = server.connect_from(SOMEONE_ELSE);
    waiting
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    waiting
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut chunk = [0u8; 64];
    let early = waiting.read(&mut chunk);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "not served while three connections are open: {early:?}"
    );

    silent.pop();
    waiting
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    waiting.read_to_end(&mut answer).unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200 "),
        "served once a place is free: {}",
        String::from_utf8_lossy(&answer)
    );

    // Shutting down does not wait for connections that never sent a request.
    assert!(server.stop().success());
    drop(silent);
}

#[test]
fn handlers_see_each_client_address() {
    // The POST limit is kept per client address, which handlers take from `ConnectInfo` (and
    // would take as 127.0.0.1 without it).
    let server = Server::start(&["--posts-per-minute", "1"]);
    let post_from = |ip| exchange(&mut server.connect_from(ip), "POST", "/rate/1");
    assert_ne!(post_from(ME), Some(429));
    assert_eq!(
        post_from(ME),
        Some(429),
        "the second POST a minute is refused"
    );
    assert_ne!(
        post_from(SOMEONE_ELSE),
        Some(429),
        "another address has its own count"
    );
    assert!(server.stop().success());
}
