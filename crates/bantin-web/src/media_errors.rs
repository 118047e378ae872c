//! What the uploader is told when the media library refuses a file (a status and a message
//! from the catalogue naming the problem), and what an editor is told after pulling remote
//! pictures into it.

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

/// Why one remote picture was not pulled in, from the catalogue.
fn pull_error(c: &Catalog, e: &bantin_app::PullError) -> String {
    use bantin_app::{NetError, PullError as P};
    match e {
        P::Net(NetError::Scheme) => c.get("media.pull.error.scheme").to_owned(),
        P::Net(NetError::NotPublic { .. }) => c.get("media.pull.error.address").to_owned(),
        P::Net(NetError::Resolve { .. } | NetError::NoAddress(_)) => {
            c.get("media.pull.error.resolve").to_owned()
        }
        P::Net(NetError::Client(_)) | P::Transfer(_) => {
            c.get("media.pull.error.transfer").to_owned()
        }
        P::TooManyRedirects(_) => c.get("media.pull.error.redirects").to_owned(),
        P::Status(s) => c.format("media.pull.error.status", &[("status", &s.to_string())]),
        P::TooLarge { max } => {
            message(
                c,
                &bantin_media::IntakeError::TooLarge {
                    size: max + 1,
                    max: *max,
                },
            )
            .1
        }
        P::Timeout(s) => c.format("media.pull.error.timeout", &[("s", &s.to_string())]),
        P::NotAnImage => c.get("media.pull.error.not_image").to_owned(),
        P::Intake(e) => message(c, e).1,
        P::TooMany(n) => c.format("media.pull.error.too_many", &[("n", &n.to_string())]),
    }
}

/// The editor's notice after pulling remote pictures: how many came in, and each one that
/// did not with its reason.
pub(crate) fn pull_report(c: &Catalog, p: &bantin_app::Pulled) -> String {
    let mut s = if p.fetched.is_empty() && p.failed.is_empty() {
        c.get("media.pull.none").to_owned()
    } else {
        c.format("media.pull.done", &[("n", &p.fetched.len().to_string())])
    };
    if !p.failed.is_empty() {
        s.push(' ');
        s.push_str(c.get("media.pull.failed"));
        for (i, (url, e)) in p.failed.iter().enumerate() {
            s.push_str(if i == 0 { " " } else { "; " });
            s.push_str(url);
            s.push_str(" — ");
            s.push_str(&pull_error(c, e));
        }
    }
    s
}
