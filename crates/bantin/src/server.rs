//! The HTTP server: our own accept loop on hyper, so that slow or silent connections are closed
//! and no single address can hold every connection.
//!
//! `axum::serve` installs no timer, which turns hyper's header-read timeout off: a client that
//! sends nothing, or one header line a minute, keeps its connection (and a task and a file
//! descriptor) forever, and the 30 s request timeout only starts once a whole request head has
//! arrived. Here every connection gets:
//!
//! - `header_read_timeout` to deliver its first request head, counted from when it is served;
//! - on a kept-alive connection, `keep_alive_timeout` for the next request to begin, then
//!   `header_read_timeout` from its first byte for the head to be complete;
//! - a place under two caps: `max_open_connections` in all, and `max_connections_per_address`
//!   per client address. At the global cap accepting waits for a connection to end; a connection
//!   beyond its address's cap is closed at once, so one address cannot lock the others out.
//!
//! Handlers see the peer as `ConnectInfo<SocketAddr>`, as with
//! `into_make_service_with_connect_info`. On the shutdown signal accepting stops, idle
//! connections close, and requests in flight get [`SHUTDOWN_GRACE`] to finish.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulConnection, GracefulShutdown};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower::ServiceExt as _;

/// How long requests in flight may take to finish after the shutdown signal. Matches the
/// request timeout: no request that would have been answered is cut off.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How often, at most, each reached cap is logged.
const CAP_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// Connection timeouts and caps (settings `header_read_timeout`, `keep_alive_timeout`,
/// `max_open_connections`, `max_connections_per_address`).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Time a request head may take to arrive in full.
    pub header_read_timeout: Duration,
    /// Time a kept-alive connection may wait, silent, for its next request.
    pub keep_alive_timeout: Duration,
    /// Connections open at once, from everyone.
    pub max_open: usize,
    /// Connections open at once from one IPv4 address or IPv6 /64.
    pub max_per_address: usize,
}

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight finish
/// (at most [`SHUTDOWN_GRACE`]) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Semaphore::new(limits.max_open));
    let per_address = Arc::new(AddressCounts::new(limits.max_per_address));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    let mut global_cap_log = Throttle::default();
    let mut address_cap_log = Throttle::default();

    loop {
        // Finished connections leave their result here until collected.
        while let Some(done) = connections.try_join_next() {
            if let Err(e) = done
                && e.is_panic()
            {
                tracing::error!(error = %e, "a connection task panicked");
            }
        }

        let permit = match Arc::clone(&open).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if global_cap_log.ready() {
                    tracing::warn!(
                        "{} connections open (max_open_connections); new ones wait \
                         (logged at most once a minute)",
                        limits.max_open
                    );
                }
                tokio::select! {
                    () = &mut shutdown => break,
                    permit = Arc::clone(&open).acquire_owned() => match permit {
                        Ok(permit) => permit,
                        // The semaphore is never closed; stop rather than spin if it were.
                        Err(_) => break,
                    },
                }
            }
        };

        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };

        let Some(slot) = AddressCounts::claim(&per_address, peer.ip()) else {
            // Closed at once rather than queued: a queue would let the address hold the
            // connections anyway, and the client learns straight away to use fewer.
            if address_cap_log.ready() {
                tracing::warn!(
                    %peer,
                    "{} connections open from this address (max_connections_per_address); \
                     closing its new ones (logged at most once a minute)",
                    limits.max_per_address
                );
            }
            drop(stream);
            continue;
        };

        let conn = serve_connection(stream, peer, app.clone(), limits);
        let conn = graceful.watch(conn);
        connections.spawn(async move {
            if let Err(e) = conn.await {
                // Timeouts and clients going away are routine; nothing to act on.
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop((permit, slot));
        });
    }

    // No new connections from here on; the kernel refuses them once the listener is gone.
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!(
                open = connections.len(),
                "requests still running {} s after the shutdown signal; closing them",
                SHUTDOWN_GRACE.as_secs()
            );
        }
    }
    // Whatever is left is cut off here, before the caller closes the store under it.
    connections.shutdown().await;
}

/// One connection, ready to run: HTTP/1.1 (as `axum::serve` does without the `http2` feature),
/// the peer address in each request's extensions, and the timeouts.
fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: &Limits,
) -> impl GracefulConnection<Error = hyper::Error> + Send + 'static {
    let activity = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(Watched {
        stream,
        read: Arc::clone(&activity),
    });
    let service = app.map_request(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req
    });
    let timer = HeadTimer {
        activity,
        header: limits.header_read_timeout,
        keep_alive: limits.keep_alive_timeout,
        first_armed: AtomicBool::new(false),
    };
    http1::Builder::new()
        .timer(timer)
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(io, TowerToHyperService::new(service))
}

/// Lets a message through at most once per [`CAP_LOG_INTERVAL`]: under attack a cap is reached
/// on every accept, and one line a minute says as much as thousands.
#[derive(Default)]
struct Throttle {
    last: Option<Instant>,
}

impl Throttle {
    fn ready(&mut self) -> bool {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|at| now.duration_since(at) < CAP_LOG_INTERVAL)
        {
            return false;
        }
        self.last = Some(now);
        true
    }
}

/// Waits after a failed accept as `axum::serve` does: a client that gave up is no problem; out
/// of file descriptors (EMFILE) or similar, retrying at once would spin, so wait a second for
/// connections to close.
async fn accept_failed(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Open connections per client address, each under the cap.
struct AddressCounts {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place in [`AddressCounts`]; dropping it gives the place back.
struct AddressSlot {
    counts: Arc<AddressCounts>,
    key: IpAddr,
}

impl AddressCounts {
    fn new(max: usize) -> Self {
        Self {
            max,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// A place for one more connection from `ip`, or `None` when it has `max` open already.
    fn claim(counts: &Arc<Self>, ip: IpAddr) -> Option<AddressSlot> {
        let key = address_key(ip);
        // A panic while holding the lock cannot leave a count half-written: take it anyway.
        let mut open = counts.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(key).or_insert(0);
        if *n >= counts.max {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            counts: Arc::clone(counts),
            key,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self
            .counts
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            // Removed at zero, so the map only holds addresses with connections open.
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// The address a connection is counted under: IPv4 as it is (also when it arrives mapped into
/// IPv6 on a dual-stack listener), IPv6 by its /64, since one host is usually given a whole /64
/// and could otherwise open each connection from a new address.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        v4 => v4,
    }
}

/// The socket, noting when bytes arrive so that [`HeadTimer`] can tell when a kept-alive
/// connection's next request begins.
struct Watched {
    stream: TcpStream,
    read: Arc<AtomicBool>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.read.store(true, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// The timer hyper's header-read timeout runs on, one per connection.
///
/// On an HTTP/1 server connection hyper uses its timer for that timeout alone, and arms it
/// whenever it starts waiting for a request head: when the connection is served, and again as
/// soon as each response is finished (`poll_read_head` in hyper's `proto/h1/conn.rs`). With
/// hyper's own timer one duration would cover both the silent wait between kept-alive requests
/// and the reading of a head, so idle keep-alive connections would close after
/// `header_read_timeout`. This timer splits the two, as Go's and Envoy's servers do: the first
/// arming keeps hyper's deadline; later ones wait up to `keep_alive` for the next request's first
/// byte, then allow `header` from that byte. Bytes already buffered when a response ends (a
/// pipelined request) count as not yet arrived: that request gets `keep_alive`, still bounded.
struct HeadTimer {
    activity: Arc<AtomicBool>,
    header: Duration,
    keep_alive: Duration,
    first_armed: AtomicBool,
}

impl hyper::rt::Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HeadSleep {
            sleep: Box::pin(tokio::time::sleep(duration)),
            waiting: None,
        })
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        if !self.first_armed.swap(true, Ordering::Relaxed) {
            return Box::pin(HeadSleep {
                sleep: Box::pin(tokio::time::sleep_until(deadline.into())),
                waiting: None,
            });
        }
        self.activity.store(false, Ordering::Relaxed);
        Box::pin(HeadSleep {
            sleep: Box::pin(tokio::time::sleep(self.keep_alive)),
            waiting: Some((Arc::clone(&self.activity), self.header)),
        })
    }
}

/// A deadline that, while `waiting`, moves to `header` after the first byte once one arrives.
struct HeadSleep {
    sleep: Pin<Box<tokio::time::Sleep>>,
    waiting: Option<(Arc<AtomicBool>, Duration)>,
}

impl Future for HeadSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // hyper polls this right after each read that leaves the head incomplete, so the
        // first byte is seen here within the poll that read it.
        if let Some((activity, header)) = &self.waiting
            && activity.load(Ordering::Relaxed)
        {
            let deadline = tokio::time::Instant::now() + *header;
            self.sleep.as_mut().reset(deadline);
            self.waiting = None;
        }
        self.sleep.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for HeadSleep {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_is_counted_by_its_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn address_slots_are_capped_and_given_back() {
        let counts = Arc::new(AddressCounts::new(2));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let first = AddressCounts::claim(&counts, ip).unwrap();
        let _second = AddressCounts::claim(&counts, ip).unwrap();
        assert!(AddressCounts::claim(&counts, ip).is_none());
        assert!(AddressCounts::claim(&counts, other).is_some());
        drop(first);
        assert!(AddressCounts::claim(&counts, ip).is_some());
    }
}
