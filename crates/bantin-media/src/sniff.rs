//! What a file is, from its first bytes, never from its name or declared type.

/// The kinds of file the library takes, by content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG.
    Png,
    /// WebP (`RIFF….WEBP`).
    WebP,
    /// GIF (the first frame makes the variants).
    Gif,
    /// PDF, kept as an attachment.
    Pdf,
    /// An Office Open XML or OpenDocument file (a ZIP container), kept as an attachment.
    OfficeZip,
    /// A legacy Office file (OLE2 compound document), kept as an attachment.
    OfficeOle,
}

impl Format {
    /// Images get variants; documents are attachments.
    pub fn is_image(self) -> bool {
        matches!(self, Self::Jpeg | Self::Png | Self::WebP | Self::Gif)
    }

    /// The media type served.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
            Self::Gif => "image/gif",
            Self::Pdf => "application/pdf",
            Self::OfficeZip | Self::OfficeOle => "application/octet-stream",
        }
    }
}

/// Content we recognise and refuse, so the message can name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// SVG: a document that can carry scripts.
    Svg,
    /// AVIF/HEIF: no decoder in this build.
    Avif,
    /// HTML or other markup.
    Markup,
    /// Anything else.
    Unknown,
}

/// Identifies `bytes`. `name` only tells a ZIP/OLE container's document type apart (a
/// `.docx` from a `.zip`); its extension must then be an office one.
pub fn sniff(bytes: &[u8], name: &str) -> Result<Format, Refused> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Format::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(Format::Png);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(Format::WebP);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Ok(Format::Gif);
    }
    if bytes.starts_with(b"%PDF-") {
        return Ok(Format::Pdf);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return Err(Refused::Avif);
    }
    if bytes.starts_with(b"PK\x03\x04")
        && matches!(
            ext.as_str(),
            "docx" | "xlsx" | "pptx" | "odt" | "ods" | "odp"
        )
    {
        return Ok(Format::OfficeZip);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
        && matches!(ext.as_str(), "doc" | "xls" | "ppt")
    {
        return Ok(Format::OfficeOle);
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    if head.contains("<svg") {
        return Err(Refused::Svg);
    }
    let trimmed = head.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('<') {
        return Err(Refused::Markup);
    }
    Err(Refused::Unknown)
}

/// Whether a JPEG's data runs to its end-of-image marker: walks the marker segments and the
/// entropy-coded scans (several in a progressive file) until `FF D9`. A file cut short (an
/// interrupted upload or copy) has none; bytes after the marker (a phone's appended video)
/// are allowed.
pub fn jpeg_complete(bytes: &[u8]) -> bool {
    let mut i = 2; // after SOI
    let n = bytes.len();
    loop {
        // Find the next marker (fill bytes FF FF… allowed).
        if i >= n || bytes[i] != 0xFF {
            return false;
        }
        while i < n && bytes[i] == 0xFF {
            i += 1;
        }
        if i >= n {
            return false;
        }
        let marker = bytes[i];
        i += 1;
        match marker {
            0xD9 => return true,
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        if i + 2 > n {
            return false;
        }
        let len = usize::from(u16::from_be_bytes([bytes[i], bytes[i + 1]]));
        if len < 2 || i + len > n {
            return false;
        }
        i += len;
        if marker == 0xDA {
            // Entropy-coded data: runs to the next marker other than a stuffed 00 or a restart.
            loop {
                if i + 1 >= n {
                    return false;
                }
                if bytes[i] == 0xFF
                    && bytes[i + 1] != 0x00
                    && !(0xD0..=0xD7).contains(&bytes[i + 1])
                    && bytes[i + 1] != 0xFF
                {
                    break;
                }
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_content_not_name() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest", "x.png"), Ok(Format::Jpeg));
        assert_eq!(sniff(b"hello world", "photo.jpg"), Err(Refused::Unknown));
        assert_eq!(sniff(b"", "photo.jpg"), Err(Refused::Unknown));
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?><svg onload=alert(1)>", "a.png"),
            Err(Refused::Svg)
        );
        assert_eq!(sniff(b"<html><script>", "a.jpg"), Err(Refused::Markup));
        assert_eq!(sniff(b"%PDF-1.7\n", "a.bin"), Ok(Format::Pdf));
        assert_eq!(sniff(b"PK\x03\x04....", "a.docx"), Ok(Format::OfficeZip));
        assert_eq!(sniff(b"PK\x03\x04....", "a.zip"), Err(Refused::Unknown));
        assert_eq!(
            sniff(b"\0\0\0\x1cftypavif\0\0\0\0", "a.avif"),
            Err(Refused::Avif)
        );
    }
}
