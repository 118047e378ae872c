//! The page cache's compression threads: one per core, alive as long as the cache.
//!
//! Compression is all CPU, so more at once than there are cores gains nothing, while each
//! brotli encoder takes over 1 MiB as it works. Run on tokio's blocking threads, a burst of
//! misses ran one per thread, and their buffers were left behind in every thread's allocator
//! arena; on threads of their own they stay in a few (bench/RESULTS.md, "peak RSS").

use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::assets::{brotli_reusing, gzip};

/// A page's body compressed both ways, with the SHA-256 of its bytes (the ETag).
pub(crate) struct Compressed {
    pub(crate) sha256: [u8; 32],
    pub(crate) gzip: Bytes,
    pub(crate) brotli: Bytes,
}

type Job = (Bytes, tokio::sync::oneshot::Sender<Compressed>);

/// Sends pages to the compression threads; they end when this is dropped.
pub(crate) struct Compressors {
    jobs: Sender<Job>,
}

impl Compressors {
    /// Starts one thread per core (the work is all CPU: more at once gains nothing).
    pub(crate) fn start() -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let n = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        for i in 0..n {
            let rx = Arc::clone(&rx);
            let started = std::thread::Builder::new()
                .name(format!("bantin-compress-{i}"))
                .spawn(move || work(&rx));
            if let Err(e) = started {
                tracing::error!(error = %e, "starting a compression thread failed");
            }
        }
        Self { jobs: tx }
    }

    /// Compresses `body` on one of the threads; `None` if none is running or it failed.
    pub(crate) async fn compress(&self, body: Bytes) -> Option<Compressed> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs.send((body, tx)).ok()?;
        rx.await.ok()
    }
}

fn work(jobs: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job, not while compressing.
        let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok((body, reply)) = job else { return };
        // A page whose compression panics gets no answer (its request fails and logs it); the
        // thread goes on with the next one.
        let compressed = std::panic::catch_unwind(|| Compressed {
            sha256: Sha256::digest(&body).into(),
            gzip: gzip(&body),
            brotli: brotli_reusing(&body, 5),
        });
        if let Ok(c) = compressed {
            let _ = reply.send(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use bytes::Bytes;
    use sha2::{Digest, Sha256};

    use super::Compressors;

    #[tokio::test]
    async fn pages_come_back_compressed_both_ways() {
        let compressors = Compressors::start();
        let page = "<p>Hội nghị Ban Chấp hành Đảng bộ thành phố lần thứ 12.</p>".repeat(300);
        let one = || compressors.compress(Bytes::from(page.clone()));
        let (a, b, c) = tokio::join!(one(), one(), one());
        for c in [a, b, c] {
            let c = c.expect("the threads answer");
            assert_eq!(c.sha256, <[u8; 32]>::from(Sha256::digest(page.as_bytes())));
            let mut plain = String::new();
            flate2::read::GzDecoder::new(&c.gzip[..])
                .read_to_string(&mut plain)
                .unwrap();
            assert_eq!(plain, page);
            let mut plain = String::new();
            brotli::Decompressor::new(&c.brotli[..], 4096)
                .read_to_string(&mut plain)
                .unwrap();
            assert_eq!(plain, page);
        }
    }
}
