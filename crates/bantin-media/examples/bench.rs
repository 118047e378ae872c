//! Media benchmark (run by `bench/media.sh` in release mode): intake time and peak memory for
//! a 24-megapixel JPEG made here, variants per second, and the image bytes a 390 px-wide
//! phone downloads for the seed article before (the camera files) and after (the variant its
//! browser picks from the `srcset`).

use std::time::Instant;

use bantin_media::{IntakeSettings, prepare};
use image::ImageEncoder;

fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<u64>().ok())
        .unwrap_or(0)
        / 1024
}

/// A photo-like 6000×4000 picture: smooth gradients with fine noise (JPEG q90).
fn photo(w: u32, h: u32) -> Vec<u8> {
    let mut px = Vec::with_capacity((w * h * 3) as usize);
    let mut seed = 0x2545_F491_u32;
    for y in 0..h {
        for x in 0..w {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let n = seed & 15;
            px.push(((x * 255 / w + n) & 255) as u8);
            px.push(((y * 255 / h + n) & 255) as u8);
            px.push((((x + y) * 127 / (w + h) + 64 + n) & 255) as u8);
        }
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(&px, w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// The candidate Chromium picks from a `w`-descriptor srcset for a slot of `slot` CSS px at
/// device pixel ratio `dpr` (its rule: the first candidate whose density reaches the ratio,
/// or the one below it when the ratio is under their geometric mean).
fn chromium_pick(widths: &[u32], slot: f64, dpr: f64) -> u32 {
    let d: Vec<f64> = widths.iter().map(|&w| f64::from(w) / slot).collect();
    for i in 0..d.len().saturating_sub(1) {
        if d[i + 1] < dpr {
            continue;
        }
        let mean = (d[i] * d[i + 1]).sqrt();
        if (dpr <= 1.0 && dpr > d[i]) || dpr >= mean {
            return widths[i + 1];
        }
        return widths[i];
    }
    *widths.last().unwrap()
}

fn main() {
    let s = IntakeSettings::default();
    let base = peak_rss_mib();
    let t = Instant::now();
    let big = photo(6000, 4000);
    println!(
        "made a 6000x4000 (24 MP) JPEG: {} bytes in {:.2} s",
        big.len(),
        t.elapsed().as_secs_f64()
    );
    let before = peak_rss_mib();
    let t = Instant::now();
    let p = prepare(&big, "DSC_0001.JPG", &s).expect("intake");
    let took = t.elapsed().as_secs_f64();
    let files = p.files.len();
    println!(
        "intake 24 MP JPEG: {took:.2} s, {files} files ({} variants), original scaled to {:?}, peak RSS {} MiB (before intake {} MiB, process start {} MiB)",
        files - 1,
        p.size.unwrap(),
        peak_rss_mib(),
        before,
        base
    );
    // The same phone shown that camera picture in an article: the variant its browser picks.
    let slot = 390.0 - 32.0;
    let (full, _) = p.size.unwrap();
    let mut candidates = p.widths.clone();
    candidates.push(full);
    for dpr in [1.0, 2.0, 3.0] {
        let pick = chromium_pick(&candidates, slot, dpr);
        let name = format!("{}-{pick}.webp", p.key);
        let size = p.files.iter().find(|f| f.name == name).unwrap().bytes.len();
        println!(
            "24 MP camera JPEG in an article, 390 px phone at DPR {dpr}: the {pick} px WebP, {size} B ({:.1} % fewer than the {} B camera file)",
            100.0 * (1.0 - size as f64 / big.len() as f64),
            big.len()
        );
    }
    // Variants per second on a 2560 px original (what intake starts from after scaling).
    let mid = photo(2560, 1707);
    let t = Instant::now();
    let rounds = 3;
    let mut made = 0;
    for _ in 0..rounds {
        made += prepare(&mid, "mid.jpg", &s).unwrap().files.len() - 1;
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "variants: {made} in {secs:.2} s = {:.1} variants/s (2560x1707 originals)",
        made as f64 / secs
    );

    // The seed article on a 390 px-wide phone.
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../bantin-app/demo/media/2022_10"
    );
    let slot = 390.0 - 32.0; // sizes: calc(100vw - 2rem)
    for dpr in [1.0, 2.0, 3.0] {
        let (mut original, mut first, mut all) = (0u64, 0u64, 0u64);
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        // Page order: DSC_5191 (first, eager), then the other two (lazy, below the fold).
        names.sort_by_key(|p| !p.to_string_lossy().contains("DSC_5191"));
        for (i, path) in names.iter().enumerate() {
            let bytes = std::fs::read(path).unwrap();
            original += bytes.len() as u64;
            let p = prepare(&bytes, "x.jpg", &s).unwrap();
            let (w, _) = p.size.unwrap();
            let mut widths = p.widths.clone();
            widths.push(w);
            let pick = chromium_pick(&widths, slot, dpr);
            let name = format!("{}-{pick}.webp", p.key);
            let size = p.files.iter().find(|f| f.name == name).unwrap().bytes.len() as u64;
            if i == 0 {
                first += size;
            }
            all += size;
        }
        println!(
            "seed article, 390 px phone at DPR {dpr}: originals {original} B; first screen {first} B ({:.0} % fewer); after scrolling through all three {all} B ({:.0} % fewer)",
            100.0 * (1.0 - first as f64 / original as f64),
            100.0 * (1.0 - all as f64 / original as f64)
        );
    }
}
