//! How the server's heap gives memory back: glibc's allocator, tuned for a long-running
//! process whose page cache churns (every entry is replaced about once a minute).
//!
//! Measured under `bench/traffic.sh` at 100,000 articles (bench/RESULTS.md): by default glibc
//! keeps up to 8 arenas per core, one per thread that touched it, and each arena holds on to
//! its own peak of freed memory. On 2 cores that was about 240 MB of heap for 70 MB in use.
//! One arena per core and a periodic trim of freed pages bring it near what is in use, at
//! no measured cost in requests per second.

/// Tunes the allocator: call first thing in `main`, before any thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune() {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
    #[expect(
        unsafe_code,
        reason = "glibc's arena limit has no safe interface; mallopt is thread-safe and takes plain integers"
    )]
    // SAFETY: mallopt only reads its two integer arguments; any value is accepted or refused
    // with a return of 0, never undefined behaviour.
    let set = unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) };
    if set == 0 {
        tracing::debug!("the allocator refused an arena limit");
    }
}

/// Not glibc: nothing to tune.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}

/// Returns freed heap pages to the system every `every`, on a thread of its own (for the
/// server; short commands exit instead).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn trim_every(every: std::time::Duration) {
    let started = std::thread::Builder::new()
        .name("bantin-trim".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(every);
                #[expect(
                    unsafe_code,
                    reason = "malloc_trim has no safe interface; it takes a plain integer"
                )]
                // SAFETY: malloc_trim takes each arena's lock and only releases pages that
                // hold no allocation; the argument is a byte count.
                unsafe {
                    libc::malloc_trim(0);
                }
            }
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "cannot start the heap trimming thread");
    }
}

/// Not glibc: nothing to trim.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim_every(_every: std::time::Duration) {}
