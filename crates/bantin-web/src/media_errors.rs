//! What the uploader is told when the media library refuses a file: a status and a message
//! from the catalogue naming the problem.

use axum::http::StatusCode;

use crate::Catalog;

/// The uploader's message for a refused file, from the catalogue.
pub(crate) fn message(c: &Catalog, e: &bantin_media::IntakeError) -> (StatusCode, String) {
    use bantin_media::IntakeError as E;
    match e {
        E::Empty => (
            StatusCode::BAD_REQUEST,
            c.get("media.error.empty").to_owned(),
        ),
        E::TooLarge { max, .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            c.format(
                "media.error.too_large",
                &[("mib", &(max / (1024 * 1024)).to_string())],
            ),
        ),
        E::Svg => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            c.get("media.error.svg").to_owned(),
        ),
        E::Avif => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            c.get("media.error.avif").to_owned(),
        ),
        E::NotAccepted => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            c.get("media.error.not_accepted").to_owned(),
        ),
        E::Truncated => (
            StatusCode::BAD_REQUEST,
            c.get("media.error.truncated").to_owned(),
        ),
        E::TooManyPixels {
            width,
            height,
            max_pixels,
            ..
        } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            c.format(
                "media.error.too_many_pixels",
                &[
                    (
                        "size",
                        &if *width > 0 {
                            format!("{width}×{height}")
                        } else {
                            "?".into()
                        },
                    ),
                    ("mp", &(max_pixels / 1_000_000).to_string()),
                ],
            ),
        ),
        E::TooMuchMemory => (
            StatusCode::PAYLOAD_TOO_LARGE,
            c.get("media.error.memory").to_owned(),
        ),
        E::Corrupt(_) => (
            StatusCode::BAD_REQUEST,
            c.get("media.error.corrupt").to_owned(),
        ),
        E::Encode(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            c.get("media.error.failed").to_owned(),
        ),
    }
}
