//! How the server's heap gives memory back: glibc's allocator, tuned for a long-running
//! process whose page cache churns (every entry is replaced about once a minute).
//!
//! Measured under `bench/traffic.sh` at 100,000 articles (bench/RESULTS.md): by default glibc
//! keeps up to 8 arenas per core, one per thread that touched it, and each arena holds on to
//! its own peak of freed memory. On 2 cores that was about 240 MB of heap for 70 MB in use.
//! One arena per core and a periodic trim of freed pages bring it near what is in use, at
//! no measured cost in requests per second; large blocks in mappings of their own keep
//! the search index's commits from growing the heap.

/// Blocks this large or larger get their own mapping, unmapped when freed.
///
/// glibc starts at 128 KiB and raises the threshold each time such a block is freed, up to
/// 32 MiB, so by the time traffic arrives large blocks come from the heap. The search
/// index's writer takes about 20 MB in 1 MiB blocks for every commit; from the heap they
/// left it about 20 MiB larger for good (bench/RESULTS.md). Brotli's 1 MiB hash table,
/// needed for every page compressed, stays out of this by being kept per thread (bantin-web's
/// `brotli_memory`).
const MMAP_FROM_BYTES: libc::c_int = 512 * 1024;

/// Freed memory at the heap's top is left for `trim_every` rather than given back by `free`
/// itself. Setting the mmap threshold fixes this one too, at 128 KiB; trimmed on every such
/// `free`, the heap shrank and regrew at a cost of 30 % in requests per second.
const TRIM_FROM_BYTES: libc::c_int = 256 * 1024 * 1024;

/// Tunes the allocator: call first thing in `main`, before any thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune() {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
    for (name, option, value) in [
        ("arena limit", libc::M_ARENA_MAX, arenas),
        ("mmap threshold", libc::M_MMAP_THRESHOLD, MMAP_FROM_BYTES),
        ("trim threshold", libc::M_TRIM_THRESHOLD, TRIM_FROM_BYTES),
    ] {
        #[expect(
            unsafe_code,
            reason = "glibc's allocator settings have no safe interface; mallopt is thread-safe and takes plain integers"
        )]
        // SAFETY: mallopt only reads its two integer arguments; any value is accepted or
        // refused with a return of 0, never undefined behaviour.
        let set = unsafe { libc::mallopt(option, value) };
        if set == 0 {
            tracing::debug!(setting = name, value, "the allocator refused a setting");
        }
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
