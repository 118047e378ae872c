//! `POST /rate/{id}`: one star rating per visitor per article, enforced on the server with a
//! signed voter cookie backed by a per-address limit. Answers JSON to scripts and redirects
//! plain forms back to the article.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum_extra::extract::SignedCookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use bantin_app::{VoteRequest, random_hex};
use bantin_core::url::RatingNotice;
use bantin_core::{ArticleId, Rating, RatingSummary};
use bantin_store::VoteOutcome;
use serde::Serialize;

use crate::client_ip::{ClientIp, secure_cookies};
use crate::cookies::VOTER_COOKIE;
use crate::error::wants_json;
use crate::{AppState, WebError};

#[derive(Serialize)]
struct RateReply {
    ok: bool,
    message: String,
    total: Option<i64>,
    count: Option<i64>,
    average: Option<String>,
    summary: Option<String>,
    rank: Option<String>,
}

/// `POST /rate/{id}` with form fields `point` (1–5) and `token`.
pub(crate) async fn rate(
    State(state): State<AppState>,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    ClientIp(ip): ClientIp,
    jar: SignedCookieJar,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let json = wants_json(&headers);
    let catalog = state.catalog().clone();
    let fail = |status: StatusCode, key: &str| -> Response {
        let message = catalog.get(key).to_owned();
        if json {
            let reply = RateReply {
                ok: false,
                message,
                total: None,
                count: None,
                average: None,
                summary: None,
                rank: None,
            };
            (status, Json(reply)).into_response()
        } else if status == StatusCode::NOT_FOUND {
            WebError::NotFound.into_response()
        } else {
            WebError::Refused(status, message).into_response()
        }
    };

    let id = match path.ok().and_then(|Path(id)| id.parse::<ArticleId>().ok()) {
        Some(id) => id,
        None => return fail(StatusCode::NOT_FOUND, "rating.not_found"),
    };
    let mut point = None;
    let mut token = None;
    for (k, v) in form_urlencoded::parse(&body).take(16) {
        match k.as_ref() {
            "point" => point = Some(v.into_owned()),
            "token" => token = Some(v.into_owned()),
            _ => {}
        }
    }
    let Some(rating) = point.as_deref().and_then(|p| Rating::parse(p).ok()) else {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, "rating.bad_point");
    };
    let token_ok = token
        .as_deref()
        .is_some_and(|t| state.signer().verify("rate", id.to_string().as_bytes(), t));
    if !token_ok {
        return fail(StatusCode::FORBIDDEN, "rating.bad_token");
    }

    let (jar, voter) = match jar.get(VOTER_COOKIE).map(|c| c.value().to_owned()) {
        Some(v) if v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()) => (jar, v),
        _ => {
            let key = match random_hex(16) {
                Ok(k) => k,
                Err(e) => return WebError::from_app(e, state.catalog()).into_response(),
            };
            let cookie = Cookie::build((VOTER_COOKIE, key.clone()))
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(secure_cookies(&state, &headers))
                .max_age(time_one_year())
                .build();
            (jar.add(cookie), key)
        }
    };

    let ip_hash = state.signer().token("ip", ip.to_string().as_bytes());
    let vote = VoteRequest {
        article: id,
        voter: &voter,
        ip_hash: &ip_hash,
        rating,
    };
    let outcome = match state.app().vote(vote).await {
        Ok(o) => o,
        Err(e) => return WebError::from_app(e, state.catalog()).into_response(),
    };
    let (status, notice, summary) = match outcome {
        VoteOutcome::Recorded(sum) => (StatusCode::OK, RatingNotice::Thanks, sum),
        VoteOutcome::AlreadyVoted(sum) => (StatusCode::CONFLICT, RatingNotice::Already, sum),
        VoteOutcome::AddressLimit(sum) => (
            StatusCode::TOO_MANY_REQUESTS,
            RatingNotice::AddressLimit,
            sum,
        ),
        VoteOutcome::NotFound => return fail(StatusCode::NOT_FOUND, "rating.not_found"),
    };
    if matches!(outcome, VoteOutcome::Recorded(_)) {
        tracing::info!(article = %id, points = rating.points(), "rating recorded");
    }
    if json {
        let reply = reply(
            &state,
            status == StatusCode::OK,
            notice.message_key(),
            summary,
        );
        return (status, jar, Json(reply)).into_response();
    }
    let url = match article_url(&state, id).await {
        Ok(url) => url,
        Err(e) => return e.into_response(),
    };
    (
        jar,
        Redirect::to(&format!("{url}?danh-gia={}#danh-gia", notice.as_str())),
    )
        .into_response()
}

fn reply(state: &AppState, ok: bool, key: &str, sum: RatingSummary) -> RateReply {
    let c = state.catalog();
    let total = sum.total.to_string();
    let count = sum.count.to_string();
    let average = sum.average_vi();
    RateReply {
        ok,
        message: c.get(key).to_owned(),
        total: Some(sum.total),
        count: Some(sum.count),
        summary: Some(c.format("rating.total", &[("total", &total), ("count", &count)])),
        rank: average
            .as_ref()
            .map(|a| c.format("rating.rank", &[("average", a), ("count", &count)])),
        average,
    }
}

async fn article_url(state: &AppState, id: ArticleId) -> Result<String, WebError> {
    let article = state.store().article(id).await?.ok_or(WebError::NotFound)?;
    let site = state.site_cache().get(state.store()).await?;
    Ok(site.article_url(article.category_id, &article.slug, article.id))
}

fn time_one_year() -> time::Duration {
    time::Duration::days(365)
}
