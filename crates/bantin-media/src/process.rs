//! Intake of one file: identify it by content, check its size and its dimensions from the
//! header before decoding, decode within a memory cap, apply the EXIF orientation, drop every
//! piece of metadata (by re-encoding the pixels), scale an oversized original down and make the
//! responsive variants. Synchronous and CPU-bound: run it off the async executor
//! ([`crate::Media::intake`] does).
//!
//! An animated GIF keeps its animation: its frames are decoded (indexed colours, within the
//! memory cap, the frames' total pixels within the pixel limit) and written again as a new
//! GIF with only what plays it — frames, palettes, delays, disposal, transparency, loop count
//! — so comments and XMP are dropped like EXIF. That GIF is the item's file; its variants are
//! WebP stills of the first frame (list thumbnails, previews), and reader pages show the GIF
//! itself. One whose longer side is over the scale-down width, or a one-frame GIF, becomes a
//! still PNG like any picture.

use std::io::Cursor;

use fast_image_resize as fr;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader};
use sha2::{Digest, Sha256};

use crate::sniff::{Format, Refused, jpeg_complete, sniff};

/// The rules of intake, from the settings.
#[derive(Clone, Debug)]
pub struct IntakeSettings {
    /// Largest file accepted, bytes.
    pub max_bytes: u64,
    /// Largest picture accepted, in pixels (width × height), read from the header.
    pub max_pixels: u64,
    /// Longest side accepted, pixels, read from the header.
    pub max_side: u32,
    /// Memory the decoder may allocate, bytes.
    pub max_alloc: u64,
    /// Originals whose longer side exceeds this are scaled down to it.
    pub max_width: u32,
    /// Keep the uploaded file untouched besides the processed one (metadata included).
    pub keep_original: bool,
    /// Variant widths, ascending. The defaults follow the article column (`sizes`: the screen
    /// less 2 rem on phones, 768 CSS px beyond): 480 for phones at 1 device pixel per CSS
    /// pixel (a 328–398 px column), 800 for phones at 2 (656–796) and desktops at 1 (768),
    /// 1200 for phones at 3 (984–1194), 1600 for desktops at 2; 320 for list thumbnails.
    /// Each step is the first candidate a browser reaches for that screen, so it downloads
    /// at most about a fifth more pixels than it shows.
    pub widths: Vec<u32>,
    /// Quality of lossy WebP variants (0–100).
    pub webp_quality: f32,
    /// Quality of JPEG variants (1–100).
    pub jpeg_quality: u8,
}

impl Default for IntakeSettings {
    fn default() -> Self {
        Self {
            max_bytes: 30 * 1024 * 1024,
            max_pixels: 50_000_000,
            max_side: 16_000,
            max_alloc: 400 * 1024 * 1024,
            max_width: 2560,
            keep_original: false,
            widths: vec![320, 480, 800, 1200, 1600],
            webp_quality: 75.0,
            jpeg_quality: 80,
        }
    }
}

/// Why a file was refused. Each names the problem; nothing is stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// A 0-byte file.
    #[error("the file is empty (0 bytes)")]
    Empty,
    /// Over [`IntakeSettings::max_bytes`].
    #[error("the file is {size} bytes; the limit is {max} bytes")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// An SVG (it can carry scripts).
    #[error("SVG files are not accepted: they can carry scripts")]
    Svg,
    /// AVIF/HEIF: no decoder here.
    #[error("AVIF/HEIF pictures are not accepted; save the picture as JPEG")]
    Avif,
    /// Content we do not take (a renamed file, HTML, an archive…).
    #[error("the content is not a JPEG, PNG, WebP or GIF picture, nor a PDF or Office document")]
    NotAccepted,
    /// A JPEG cut short.
    #[error("the JPEG file is cut short (truncated)")]
    Truncated,
    /// Over [`IntakeSettings::max_pixels`] or [`IntakeSettings::max_side`], by its header.
    #[error(
        "the picture is {width}×{height} pixels; the limit is {max_pixels} pixels and {max_side} pixels a side"
    )]
    TooManyPixels {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// The pixel limit.
        max_pixels: u64,
        /// The side limit.
        max_side: u32,
    },
    /// Decoding would allocate more than [`IntakeSettings::max_alloc`].
    #[error("decoding the picture would need more memory than allowed")]
    TooMuchMemory,
    /// The picture data is damaged.
    #[error("the picture cannot be read: {0}")]
    Corrupt(String),
    /// Encoding a variant failed (a bug or no memory).
    #[error("making the variants failed: {0}")]
    Encode(String),
}

/// One file to store.
#[derive(Clone, Debug)]
pub struct OutFile {
    /// Its name in the storage (`{key}…`).
    pub name: String,
    /// Content.
    pub bytes: bytes::Bytes,
}

/// A file ready to store: the processed original, its variants, and what the library records.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Content address: the first 128 bits of the processed original's SHA-256, hex.
    pub key: String,
    /// What it is.
    pub format: Format,
    /// Extension of the processed original (`jpg`, `png`, `webp`, `pdf`, `docx`…).
    pub ext: String,
    /// Pixel size of the processed original (images only).
    pub size: Option<(u32, u32)>,
    /// Widths with a variant smaller than the original, ascending.
    pub widths: Vec<u32>,
    /// Bytes of the processed original.
    pub bytes: u64,
    /// Whether the untouched upload was kept too.
    pub original_kept: bool,
    /// Every file, the processed original first.
    pub files: Vec<OutFile>,
}

impl Prepared {
    /// Name of the processed original in the storage.
    pub fn main_name(&self) -> String {
        format!("{}.{}", self.key, self.ext)
    }
}

/// Storage name of the variant `width` of `key` in `ext`.
pub fn variant_name(key: &str, width: u32, ext: &str) -> String {
    format!("{key}-{width}.{ext}")
}

/// Processes `bytes` (named `name` by the uploader: used only to tell office documents apart).
pub fn prepare(bytes: &[u8], name: &str, s: &IntakeSettings) -> Result<Prepared, IntakeError> {
    if bytes.is_empty() {
        return Err(IntakeError::Empty);
    }
    let size = bytes.len() as u64;
    if size > s.max_bytes {
        return Err(IntakeError::TooLarge {
            size,
            max: s.max_bytes,
        });
    }
    let format = sniff(bytes, name).map_err(|r| match r {
        Refused::Svg => IntakeError::Svg,
        Refused::Avif => IntakeError::Avif,
        Refused::Markup | Refused::Unknown => IntakeError::NotAccepted,
    })?;
    if !format.is_image() {
        let ext = match format {
            Format::Pdf => "pdf".to_owned(),
            _ => name
                .rsplit_once('.')
                .map(|(_, e)| e.to_ascii_lowercase())
                .unwrap_or_default(),
        };
        let key = content_key(bytes);
        return Ok(Prepared {
            files: vec![OutFile {
                name: format!("{key}.{ext}"),
                bytes: bytes::Bytes::copy_from_slice(bytes),
            }],
            key,
            format,
            ext,
            size: None,
            widths: Vec::new(),
            bytes: size,
            original_kept: false,
        });
    }
    prepare_image(bytes, format, s)
}

fn content_key(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..16])
}

fn image_format(f: Format) -> ImageFormat {
    match f {
        Format::Png => ImageFormat::Png,
        Format::WebP => ImageFormat::WebP,
        Format::Gif => ImageFormat::Gif,
        _ => ImageFormat::Jpeg,
    }
}

fn decode_error(e: image::ImageError) -> IntakeError {
    match e {
        image::ImageError::Limits(_) => IntakeError::TooMuchMemory,
        other => IntakeError::Corrupt(other.to_string()),
    }
}

/// Reads the header only and checks the limits: nothing of the pixel data is allocated yet.
fn checked_dimensions(
    bytes: &[u8],
    format: Format,
    s: &IntakeSettings,
) -> Result<(u32, u32), IntakeError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format(format));
    // No side limit yet, so the message can say how large the picture is; the memory cap
    // still holds while the header is read.
    let mut header_limits = image::Limits::no_limits();
    header_limits.max_alloc = Some(s.max_alloc);
    reader.limits(header_limits);
    let (width, height) = match reader.into_dimensions() {
        Ok(d) => d,
        // The decoder refuses dimensions over the side limit while reading the header.
        Err(image::ImageError::Limits(_)) => {
            return Err(IntakeError::TooManyPixels {
                width: 0,
                height: 0,
                max_pixels: s.max_pixels,
                max_side: s.max_side,
            });
        }
        Err(e) => return Err(decode_error(e)),
    };
    if width == 0 || height == 0 {
        return Err(IntakeError::Corrupt("zero width or height".into()));
    }
    if width > s.max_side
        || height > s.max_side
        || u64::from(width) * u64::from(height) > s.max_pixels
    {
        return Err(IntakeError::TooManyPixels {
            width,
            height,
            max_pixels: s.max_pixels,
            max_side: s.max_side,
        });
    }
    Ok((width, height))
}

fn limits(s: &IntakeSettings) -> image::Limits {
    let mut l = image::Limits::default();
    l.max_image_width = Some(s.max_side);
    l.max_image_height = Some(s.max_side);
    l.max_alloc = Some(s.max_alloc);
    l
}

/// Pixels in the layout the resizer and encoders share.
struct Pixels {
    data: Vec<u8>,
    width: u32,
    height: u32,
    alpha: bool,
}

impl Pixels {
    fn channels(&self) -> u8 {
        if self.alpha { 4 } else { 3 }
    }

    fn pixel_type(&self) -> fr::PixelType {
        if self.alpha {
            fr::PixelType::U8x4
        } else {
            fr::PixelType::U8x3
        }
    }

    fn color(&self) -> image::ExtendedColorType {
        if self.alpha {
            image::ExtendedColorType::Rgba8
        } else {
            image::ExtendedColorType::Rgb8
        }
    }

    /// Scaled so its width is `width` (height in proportion, at least 1).
    fn resized(&self, width: u32) -> Result<Pixels, IntakeError> {
        let height = ((u64::from(self.height) * u64::from(width) + u64::from(self.width) / 2)
            / u64::from(self.width))
        .max(1) as u32;
        let src = fr::images::ImageRef::new(self.width, self.height, &self.data, self.pixel_type())
            .map_err(|e| IntakeError::Encode(e.to_string()))?;
        let mut dst = fr::images::Image::new(width, height, self.pixel_type());
        fr::Resizer::new()
            .resize(
                &src,
                &mut dst,
                &fr::ResizeOptions::new()
                    .resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3)),
            )
            .map_err(|e| IntakeError::Encode(e.to_string()))?;
        Ok(Pixels {
            data: dst.into_vec(),
            width,
            height,
            alpha: self.alpha,
        })
    }

    fn encode(&self, ext: &str, s: &IntakeSettings, master: bool) -> Result<Vec<u8>, IntakeError> {
        let mut out = Vec::new();
        let fail = |e: image::ImageError| IntakeError::Encode(e.to_string());
        match ext {
            "jpg" => {
                let q = if master { 90 } else { s.jpeg_quality };
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, q)
                    .write_image(&self.data, self.width, self.height, self.color())
                    .map_err(fail)?;
            }
            "png" => {
                image::codecs::png::PngEncoder::new(&mut out)
                    .write_image(&self.data, self.width, self.height, self.color())
                    .map_err(fail)?;
            }
            _ => {
                let q = if master { 90.0 } else { s.webp_quality };
                out = crate::webp::encode(&self.data, self.width, self.height, self.channels(), q)
                    .ok_or_else(|| IntakeError::Encode("WebP encoder refused".into()))?;
            }
        }
        Ok(out)
    }
}

/// Frames of an animated GIF over this many are refused (a GIF of thousands of tiny frames
/// costs time, not memory).
const MAX_GIF_FRAMES: usize = 2000;

/// An animated GIF written again with only what plays it; `None` for a one-frame GIF. The
/// frames are decoded to check them and to drop everything else in the file.
fn animated_gif(bytes: &[u8], s: &IntakeSettings) -> Result<Option<Vec<u8>>, IntakeError> {
    let corrupt = |e: gif::DecodingError| IntakeError::Corrupt(e.to_string());
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::Indexed);
    opts.set_memory_limit(gif::MemoryLimit::Bytes(
        std::num::NonZeroU64::new(s.max_alloc.max(1)).unwrap_or(std::num::NonZeroU64::MIN),
    ));
    let mut decoder = opts.read_info(Cursor::new(bytes)).map_err(corrupt)?;
    let (width, height) = (decoder.width(), decoder.height());
    let repeat = decoder.repeat();
    let global = decoder.global_palette().map(<[u8]>::to_vec);
    let mut out = Vec::new();
    let mut frames = 0usize;
    let mut pixels = 0u64;
    {
        let mut encoder =
            gif::Encoder::new(&mut out, width, height, global.as_deref().unwrap_or(&[]))
                .map_err(|e| IntakeError::Encode(e.to_string()))?;
        encoder
            .set_repeat(repeat)
            .map_err(|e| IntakeError::Encode(e.to_string()))?;
        while let Some(frame) = decoder.read_next_frame().map_err(corrupt)? {
            frames += 1;
            pixels += u64::from(frame.width) * u64::from(frame.height);
            if frames > MAX_GIF_FRAMES || pixels > s.max_pixels {
                return Err(IntakeError::TooManyPixels {
                    width: u32::from(width),
                    height: u32::from(height),
                    max_pixels: s.max_pixels,
                    max_side: s.max_side,
                });
            }
            let clean = gif::Frame {
                delay: frame.delay,
                dispose: frame.dispose,
                transparent: frame.transparent,
                needs_user_input: false,
                top: frame.top,
                left: frame.left,
                width: frame.width,
                height: frame.height,
                interlaced: false,
                palette: frame.palette.clone(),
                buffer: frame.buffer.clone(),
            };
            encoder
                .write_frame(&clean)
                .map_err(|e| IntakeError::Encode(e.to_string()))?;
        }
    }
    Ok((frames > 1).then_some(out))
}

fn prepare_image(
    bytes: &[u8],
    format: Format,
    s: &IntakeSettings,
) -> Result<Prepared, IntakeError> {
    if format == Format::Jpeg && !jpeg_complete(bytes) {
        return Err(IntakeError::Truncated);
    }
    let (w, h) = checked_dimensions(bytes, format, s)?;
    let animation = if format == Format::Gif && w.max(h) <= s.max_width {
        animated_gif(bytes, s)?
    } else {
        None
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format(format));
    reader.limits(limits(s));
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    if decoder.total_bytes() > s.max_alloc {
        return Err(IntakeError::TooMuchMemory);
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    // A GIF decodes to its first frame.
    let mut img = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    if (img.width(), img.height()) != (w, h) {
        return Err(IntakeError::Corrupt("size differs from the header".into()));
    }
    img.apply_orientation(orientation);
    let alpha = img.color().has_alpha() && format != Format::Jpeg;
    let (width, height) = (img.width(), img.height());
    let data = if alpha {
        img.into_rgba8().into_raw()
    } else {
        img.into_rgb8().into_raw()
    };
    let mut pixels = Pixels {
        data,
        width,
        height,
        alpha,
    };
    // Scale the longer side down to the limit.
    let longest = width.max(height);
    if longest > s.max_width {
        let target = if width >= height {
            s.max_width
        } else {
            ((u64::from(width) * u64::from(s.max_width)) / u64::from(height)).max(1) as u32
        };
        pixels = pixels.resized(target)?;
    }
    // The processed original: its own format (a still GIF becomes a PNG, an animated one the
    // GIF written again), no metadata.
    let ext = match format {
        _ if animation.is_some() => "gif",
        Format::Jpeg => "jpg",
        Format::Png | Format::Gif => "png",
        _ => "webp",
    };
    let master = match animation {
        Some(gif) => gif,
        None => pixels.encode(ext, s, true)?,
    };
    let key = content_key(&master);
    let mut files = vec![OutFile {
        name: format!("{key}.{ext}"),
        bytes: master.clone().into(),
    }];
    let widths: Vec<u32> = s
        .widths
        .iter()
        .copied()
        .filter(|&v| v < pixels.width)
        .collect();
    for &v in &widths {
        let small = pixels.resized(v)?;
        // An animated GIF's variants are WebP stills only (see the module notes).
        if ext != "webp" && ext != "gif" {
            files.push(OutFile {
                name: variant_name(&key, v, ext),
                bytes: small.encode(ext, s, false)?.into(),
            });
        }
        files.push(OutFile {
            name: variant_name(&key, v, "webp"),
            bytes: small.encode("webp", s, false)?.into(),
        });
    }
    if ext != "webp" {
        files.push(OutFile {
            name: variant_name(&key, pixels.width, "webp"),
            bytes: pixels.encode("webp", s, false)?.into(),
        });
    }
    if s.keep_original {
        let orig_ext = match format {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
            _ => "webp",
        };
        files.push(OutFile {
            name: format!("{key}-original.{orig_ext}"),
            bytes: bytes::Bytes::copy_from_slice(bytes),
        });
    }
    Ok(Prepared {
        key,
        format,
        ext: ext.to_owned(),
        size: Some((pixels.width, pixels.height)),
        widths,
        bytes: master.len() as u64,
        original_kept: s.keep_original,
        files,
    })
}
