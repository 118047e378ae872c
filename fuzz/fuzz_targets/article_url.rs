//! Fuzz target: `parse_article_file`. Only `{slug}-{id}.html`, with the id the name spells.
//! A crash is a broken invariant (see crates/bantin-core/tests/invariants/), not only a panic.

#![no_main]

#[path = "../../crates/bantin-core/tests/invariants/mod.rs"]
#[expect(dead_code, reason = "each target checks only its own invariants")]
mod invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // Any bytes: invalid UTF-8 becomes U+FFFD, as a lenient reader would make it.
    invariants::article_file(&String::from_utf8_lossy(data));
});
