//! The memory ceiling: bombs and oversized pictures are refused from their headers, so the
//! process's peak resident memory stays far below what decoding them would take. One test in
//! its own binary, so nothing else moves the peak.

mod common;

use bantin_media::{IntakeError, IntakeSettings, prepare};
use common::*;

/// Decoding a 20000×20000 greyscale picture would need 400 MB; RGB, 1.2 GB.
const CEILING: u64 = 64 * 1024 * 1024;

#[test]
fn bombs_refused_within_memory_ceiling() {
    let s = IntakeSettings::default();
    let bomb = png_bomb(20_000);
    let huge = png_bomb(16_000);
    let before = peak_rss();
    for _ in 0..3 {
        assert!(matches!(
            prepare(&bomb, "bomb.png", &s),
            Err(IntakeError::TooManyPixels { .. })
        ));
        assert!(matches!(
            prepare(&huge, "huge.png", &s),
            Err(IntakeError::TooManyPixels { .. })
        ));
    }
    // A picture within the pixel limit but over the memory cap: refused before allocating.
    let mut tight = s.clone();
    tight.max_alloc = 16 * 1024 * 1024;
    let err = prepare(&png_bomb(5_000), "tight.png", &tight).unwrap_err();
    assert_eq!(err, IntakeError::TooMuchMemory);
    let after = peak_rss();
    eprintln!(
        "bomb {} bytes; peak RSS before {} MiB, after {} MiB",
        bomb.len(),
        before >> 20,
        after >> 20
    );
    assert!(after < CEILING, "peak {after} over {CEILING}");
}
