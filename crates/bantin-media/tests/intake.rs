//! Intake with real files the tests make: good pictures get variants, bad input is refused
//! with the problem named and nothing stored.

mod common;

use std::sync::Arc;

use bantin_media::{IntakeError, IntakeSettings, Media, ObjectStorage, Storage, prepare, srcset};
use common::*;

fn settings() -> IntakeSettings {
    IntakeSettings::default()
}

#[test]
fn jpeg_gets_variants_in_webp_and_jpeg() {
    let p = prepare(&jpeg(1100, 600), "DSC_5191.JPG", &settings()).unwrap();
    assert_eq!(p.ext, "jpg");
    assert_eq!(p.size, Some((1100, 600)));
    assert_eq!(p.widths, vec![320, 480, 800]);
    let names: Vec<_> = p.files.iter().map(|f| f.name.clone()).collect();
    let k = &p.key;
    assert_eq!(k.len(), 32);
    for n in [
        format!("{k}.jpg"),
        format!("{k}-320.jpg"),
        format!("{k}-320.webp"),
        format!("{k}-800.webp"),
        format!("{k}-1100.webp"),
    ] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let small = p
        .files
        .iter()
        .find(|f| f.name.ends_with("-320.webp"))
        .unwrap();
    assert_eq!(&small.bytes[..4], b"RIFF");
    let img = image::load_from_memory(&small.bytes).unwrap();
    assert_eq!((img.width(), img.height()), (320, 175));
    let set = srcset(k, "jpg", 1100, &p.widths, true);
    assert!(
        set.starts_with(&format!("/media/lib/{k}-320.webp 320w")),
        "{set}"
    );
    assert!(
        set.ends_with(&format!("/media/lib/{k}-1100.webp 1100w")),
        "{set}"
    );
    // Same picture, same names.
    let again = prepare(&jpeg(1100, 600), "copy.jpg", &settings()).unwrap();
    assert_eq!(again.key, p.key);
}

#[test]
fn orientation_applied_and_metadata_stripped() {
    let src = jpeg_with_exif(400, 200, 6); // rotate 90° clockwise
    assert!(src.windows(4).any(|w| w == b"Exif"));
    let p = prepare(&src, "phone.jpg", &settings()).unwrap();
    assert_eq!(p.size, Some((200, 400)), "turned upright");
    for f in &p.files {
        assert!(
            !f.bytes.windows(4).any(|w| w == b"Exif"),
            "{} carries EXIF",
            f.name
        );
    }
    let mut keep = settings();
    keep.keep_original = true;
    let p = prepare(&src, "phone.jpg", &keep).unwrap();
    assert!(p.files.iter().any(|f| f.name.ends_with("-original.jpg")));
}

#[test]
fn large_original_scaled_down() {
    let mut s = settings();
    s.max_width = 800;
    let p = prepare(&jpeg(1200, 300), "wide.jpg", &s).unwrap();
    assert_eq!(p.size, Some((800, 200)));
    let p = prepare(&jpeg(300, 1200), "tall.jpg", &s).unwrap();
    assert_eq!(p.size, Some((200, 800)));
}

#[test]
fn png_with_alpha_and_gif_first_frame() {
    let p = prepare(&png(700, 100), "logo.png", &settings()).unwrap();
    assert_eq!(p.ext, "png");
    assert!(p.files.iter().any(|f| f.name.ends_with("-480.png")));
    // One frame: a still picture like any other.
    let p = prepare(&gif_frames(50, 40, 1, b""), "still.gif", &settings()).unwrap();
    assert_eq!((p.ext.as_str(), p.size), ("png", Some((50, 40))));
}

/// A GIF of `frames` frames (each a different colour, 70 ms each, looping forever) with
/// `comment` in a comment extension, written with the `gif` crate.
fn gif_frames(w: u16, h: u16, frames: u8, comment: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let palette = [0u8, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255];
        let mut enc = gif::Encoder::new(&mut out, w, h, &palette).unwrap();
        enc.set_repeat(gif::Repeat::Infinite).unwrap();
        if !comment.is_empty() {
            enc.write_raw_extension(gif::Extension::Comment.into(), &[comment])
                .unwrap();
        }
        for i in 0..frames {
            let f = gif::Frame {
                width: w,
                height: h,
                delay: 7,
                buffer: vec![1 + i % 3; usize::from(w) * usize::from(h)].into(),
                ..gif::Frame::default()
            };
            enc.write_frame(&f).unwrap();
        }
    }
    out
}

#[test]
fn animated_gif_keeps_its_animation_and_loses_its_comments() {
    let secret = b"GPS 21.0285N 105.8542E; made by someone's phone";
    let p = prepare(&gif_frames(500, 300, 3, secret), "loading.gif", &settings()).unwrap();
    assert_eq!((p.ext.as_str(), p.size), ("gif", Some((500, 300))));
    let main = &p.files[0];
    assert_eq!(main.name, format!("{}.gif", p.key));
    assert!(
        !main.bytes.windows(secret.len()).any(|w| w == secret),
        "comment dropped"
    );
    // Every frame, its timing and the loop are still there.
    let mut d = gif::DecodeOptions::new();
    d.set_color_output(gif::ColorOutput::Indexed);
    let mut dec = d.read_info(std::io::Cursor::new(&main.bytes[..])).unwrap();
    assert_eq!(dec.repeat(), gif::Repeat::Infinite);
    let mut colours = Vec::new();
    while let Some(f) = dec.read_next_frame().unwrap() {
        assert_eq!(f.delay, 7);
        colours.push(f.buffer[0]);
    }
    assert_eq!(colours, [1, 2, 3]);
    // Variants are WebP stills of the first frame; no resized GIFs.
    assert_eq!(p.widths, vec![320, 480]);
    let names: Vec<_> = p.files.iter().map(|f| f.name.as_str()).collect();
    assert!(
        names
            .iter()
            .all(|n| !n.contains("-") || n.ends_with(".webp")),
        "{names:?}"
    );
    let still = p
        .files
        .iter()
        .find(|f| f.name.ends_with("-320.webp"))
        .unwrap();
    let img = image::load_from_memory(&still.bytes).unwrap().to_rgb8();
    let [r, g, b] = img.get_pixel(10, 10).0;
    assert!(
        r > 240 && g < 16 && b < 16,
        "the first frame (red): {r} {g} {b}"
    );
}

#[test]
fn animated_gif_frames_count_against_the_pixel_limit() {
    let s = IntakeSettings {
        max_pixels: 500 * 300 * 10,
        ..settings()
    };
    assert!(prepare(&gif_frames(500, 300, 10, b""), "ok.gif", &s).is_ok());
    assert!(matches!(
        prepare(&gif_frames(500, 300, 11, b""), "long.gif", &s),
        Err(IntakeError::TooManyPixels { .. })
    ));
    // Wider than the scale-down width: its first frame, scaled, as a still.
    let s = IntakeSettings {
        max_width: 400,
        ..settings()
    };
    let p = prepare(&gif_frames(500, 300, 3, b""), "wide.gif", &s).unwrap();
    assert_eq!((p.ext.as_str(), p.size), ("png", Some((400, 240))));
}

#[test]
fn documents_are_attachments() {
    let p = prepare(b"%PDF-1.4\n%%EOF\n", "Quyết định.pdf", &settings()).unwrap();
    assert_eq!(p.ext, "pdf");
    assert!(p.size.is_none());
    assert_eq!(p.files.len(), 1);
}

#[test]
fn bad_input_is_refused_naming_the_problem() {
    let s = settings();
    assert_eq!(prepare(b"", "a.jpg", &s).unwrap_err(), IntakeError::Empty);
    assert_eq!(
        prepare(b"MZ\x90\0 this is a program", "photo.jpg", &s).unwrap_err(),
        IntakeError::NotAccepted
    );
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    assert_eq!(prepare(svg, "a.svg", &s).unwrap_err(), IntakeError::Svg);
    let full = jpeg(300, 200);
    let cut = &full[..full.len() / 2];
    assert_eq!(
        prepare(cut, "cut.jpg", &s).unwrap_err(),
        IntakeError::Truncated
    );
    let mut small = s.clone();
    small.max_bytes = 1000;
    assert!(matches!(
        prepare(&full, "big.jpg", &small).unwrap_err(),
        IntakeError::TooLarge { max: 1000, .. }
    ));
    let err = prepare(&png_bomb(20_000), "bomb.png", &s).unwrap_err();
    assert!(matches!(err, IntakeError::TooManyPixels { .. }), "{err:?}");
    let err = prepare(&png_bomb(8_000), "bomb.png", &s).unwrap_err();
    assert_eq!(
        err,
        IntakeError::TooManyPixels {
            width: 8000,
            height: 8000,
            max_pixels: 50_000_000,
            max_side: 16_000
        }
    );
    assert!(err.to_string().contains("8000×8000"), "{err}");
}

#[tokio::test]
async fn storage_all_or_nothing_and_removal() {
    let storage = Arc::new(ObjectStorage::in_memory());
    let media = Media::new(storage.clone(), settings(), 2);
    let p = media.prepare(jpeg(700, 300).into(), "a.jpg").await.unwrap();
    media.store(&p).await.unwrap();
    for f in &p.files {
        assert_eq!(storage.get(&f.name).await.unwrap().unwrap(), f.bytes);
    }
    media
        .remove(&p.key, &p.ext, p.size.map(|s| s.0), &p.widths)
        .await
        .unwrap();
    for f in &p.files {
        assert!(storage.get(&f.name).await.unwrap().is_none());
    }
    assert!(storage.get("../etc/passwd").await.is_err());
    let err = media
        .prepare(bytes::Bytes::new(), "a.jpg")
        .await
        .unwrap_err();
    assert_eq!(err, IntakeError::Empty);
}

#[tokio::test]
async fn local_folder_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let storage = bantin_media::LocalFolder::new(dir.path().join("lib"));
    storage
        .put("abc.jpg", bytes::Bytes::from_static(b"x"))
        .await
        .unwrap();
    assert_eq!(
        storage.get("abc.jpg").await.unwrap().unwrap().as_ref(),
        b"x"
    );
    storage.delete("abc.jpg").await.unwrap();
    storage.delete("abc.jpg").await.unwrap();
    assert!(storage.get("abc.jpg").await.unwrap().is_none());
    assert!(storage.put("../x", bytes::Bytes::new()).await.is_err());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("lib")).unwrap().collect();
    assert!(leftovers.is_empty());
}
