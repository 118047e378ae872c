//! Our cookies: their names, and the attributes every one of them carries.

use axum::http::HeaderValue;
use axum_extra::extract::cookie::{Cookie, SameSite};

/// The signed-in session: a random token and its MAC (see [`crate::signer::Signer`]), so a
/// forged value is told apart without a database lookup.
pub const SESSION_COOKIE: &str = "bantin_session";
/// Binds the sign-in form's CSRF token to this browser before there is a session.
pub const LOGIN_COOKIE: &str = "bantin_login";
/// A password-verified sign-in waiting for its two-step code.
pub const PENDING_COOKIE: &str = "bantin_2fa";
/// A two-step secret between showing its QR code and confirming a code.
pub const ENROL_COOKIE: &str = "bantin_totp_enrol";
/// The visitor's durable voter key (signed).
pub const VOTER_COOKIE: &str = "bantin_voter";

/// A cookie with the attributes every cookie of ours carries: HttpOnly, SameSite=Lax,
/// path `/`, `Secure` when `secure`.
pub fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_secure(secure);
    c.set_path("/");
    c
}

/// A `Set-Cookie` value that deletes cookie `name`.
pub fn removal(name: &'static str, secure: bool) -> HeaderValue {
    let mut c = cookie(name, String::new(), secure);
    c.make_removal();
    set_cookie(&c)
}

/// A `Set-Cookie` header value.
pub fn set_cookie(c: &Cookie<'static>) -> HeaderValue {
    HeaderValue::from_str(&c.encoded().to_string()).expect("cookie encodes to a header value")
}

/// The value of cookie `name` in a request's `Cookie` headers, without parsing the others.
pub fn find<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}
