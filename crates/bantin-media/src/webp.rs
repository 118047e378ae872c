//! Lossy WebP encoding through libwebp (vendored, statically linked): the only `unsafe` code of
//! bantin. libwebp only ever sees pixels we decoded ourselves with image's pure-Rust decoders.

use std::ffi::c_int;

/// Encodes tightly packed 8-bit RGB (`channels == 3`) or RGBA (`channels == 4`) pixels at
/// `quality` (0–100). `None` when libwebp refuses (dimensions over 16383, out of memory).
pub(crate) fn encode(
    pixels: &[u8],
    width: u32,
    height: u32,
    channels: u8,
    quality: f32,
) -> Option<Vec<u8>> {
    let (w, h) = (c_int::try_from(width).ok()?, c_int::try_from(height).ok()?);
    let stride = c_int::try_from(u64::from(width) * u64::from(channels)).ok()?;
    let needed =
        usize::try_from(u64::from(width) * u64::from(height) * u64::from(channels)).ok()?;
    if width == 0 || height == 0 || pixels.len() < needed || !(channels == 3 || channels == 4) {
        return None;
    }
    let mut out: *mut u8 = std::ptr::null_mut();
    #[expect(
        unsafe_code,
        reason = "FFI call into libwebp; the buffer holds height * stride bytes (checked above)"
    )]
    // SAFETY: `pixels` holds at least `height * stride` bytes (checked above) and outlives the
    // call; libwebp writes a pointer to a buffer it allocated into `out` and returns its size
    // (0 on failure, with `out` left null or to be freed).
    let size = unsafe {
        if channels == 3 {
            libwebp_sys::WebPEncodeRGB(pixels.as_ptr(), w, h, stride, quality, &mut out)
        } else {
            libwebp_sys::WebPEncodeRGBA(pixels.as_ptr(), w, h, stride, quality, &mut out)
        }
    };
    if out.is_null() {
        return None;
    }
    #[expect(
        unsafe_code,
        reason = "copying out of and freeing libwebp's own buffer"
    )]
    // SAFETY: `out` is non-null and points to `size` bytes libwebp allocated; we copy them
    // before handing the buffer back to libwebp's allocator exactly once.
    let bytes = unsafe {
        let copy = (size > 0).then(|| std::slice::from_raw_parts(out, size).to_vec());
        libwebp_sys::WebPFree(out.cast());
        copy
    };
    bytes
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_rgb_and_rgba() {
        let rgb = vec![200u8; 16 * 8 * 3];
        let out = super::encode(&rgb, 16, 8, 3, 75.0).expect("rgb");
        assert_eq!(&out[..4], b"RIFF");
        assert_eq!(&out[8..12], b"WEBP");
        let rgba = vec![100u8; 16 * 8 * 4];
        assert!(super::encode(&rgba, 16, 8, 4, 75.0).is_some());
        assert!(super::encode(&rgba[..10], 16, 8, 4, 75.0).is_none());
    }
}
