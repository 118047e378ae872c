//! Search: `/search?q=…&cat=…&from=…&to=…&page=N` for readers and `/api/v1/search` (the same
//! parameters, JSON). Any query is plain text; empty, one-letter and overlong queries get a
//! page that says what to do. Results are never page-cached (the path is not a reader page).

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{Html, IntoResponse, Response};
use bantin_core::time::{day_start, format_date, format_rfc3339};
use bantin_search::Request;
use bantin_store::SearchFilter;
use minijinja::{Value, context};

use crate::layout::{Head, layout};
use crate::origin::Origin;
use crate::site::category_url;
use crate::{AppState, WebError};

/// Results per page.
const PER_PAGE: usize = 10;
/// Deepest page offered.
const MAX_PAGE: usize = 100;
/// Longest query, in characters.
pub(crate) const MAX_QUERY: usize = 200;

/// What the reader asked for, read leniently: unknown or malformed parameters are ignored.
#[derive(Default)]
struct Params {
    q: String,
    cat: String,
    from: String,
    to: String,
    page: usize,
}

fn params(raw: Option<&str>) -> Params {
    let mut p = Params {
        page: 1,
        ..Params::default()
    };
    for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        // Control characters are only separators; the first value of each name counts.
        let v: String = v
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        match k.as_ref() {
            "q" if p.q.is_empty() => p.q = v.trim().to_owned(),
            "cat" if p.cat.is_empty() => p.cat = v.trim().chars().take(100).collect(),
            "from" if p.from.is_empty() => p.from = v.trim().chars().take(10).collect(),
            "to" if p.to.is_empty() => p.to = v.trim().chars().take(10).collect(),
            "page" => p.page = v.trim().parse().unwrap_or(1).clamp(1, MAX_PAGE),
            _ => {}
        }
    }
    p
}

/// Why a query is not searched, as a catalogue key.
fn refusal(q: &str) -> Option<&'static str> {
    let n = q.chars().count();
    if q.chars().all(|c| !c.is_alphanumeric()) {
        Some("search.empty")
    } else if n > MAX_QUERY {
        Some("search.too_long")
    } else if q.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
        Some("search.too_short")
    } else {
        None
    }
}

/// One page of results, the same for both forms.
struct Page {
    params: Params,
    notice: Option<&'static str>,
    total: usize,
    items: Vec<serde_json::Value>,
    indexed: bool,
}

async fn run(state: &AppState, raw: Option<&str>) -> Result<Page, WebError> {
    let params = params(raw);
    let site = state.site_cache().get(state.store()).await?;
    let zone = &state.settings().zone;
    let mut page = Page {
        notice: refusal(&params.q),
        params,
        total: 0,
        items: Vec::new(),
        indexed: state.search().ready(),
    };
    if page.notice.is_some() {
        return Ok(page);
    }
    let p = &page.params;
    let mut filter = SearchFilter {
        from: day_start(&p.from, zone),
        until: day_start(&p.to, zone).map(|t| t.plus(86_400)),
        ..SearchFilter::default()
    };
    if let Some(c) = site.by_slug(&p.cat) {
        filter.categories = site.subtree(c.id);
    }
    let results = state
        .search()
        .search(&Request {
            text: &p.q,
            filter,
            now: state.now(),
            offset: (p.page - 1) * PER_PAGE,
            limit: PER_PAGE,
        })
        .await
        .map_err(|e| WebError::Internal(Box::new(e)))?;
    page.total = results.total;
    page.indexed = results.indexed;
    page.items = results
        .hits
        .into_iter()
        .map(|h| {
            let cat = site.get(h.category_id);
            serde_json::json!({
                "id": h.id.get(),
                "title": h.title,
                "title_html": h.title_html,
                "url": site.article_url(h.category_id, &h.slug, h.id),
                "date": format_date(h.publish_at, zone),
                "datetime": format_rfc3339(h.publish_at, zone),
                "category": cat.map(|c| c.title.clone()).unwrap_or_default(),
                "category_url": cat.map(category_url).unwrap_or_default(),
                "snippet_html": h.snippet_html,
            })
        })
        .collect();
    if page.total == 0 {
        page.notice = Some("search.none");
    }
    Ok(page)
}

fn page_url(p: &Params, n: usize) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("q", &p.q);
    for (k, v) in [("cat", &p.cat), ("from", &p.from), ("to", &p.to)] {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    if n > 1 {
        s.append_pair("page", &n.to_string());
    }
    format!("/search?{}", s.finish())
}

/// `GET /search`.
pub(crate) async fn search(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let page = run(&state, raw.as_deref()).await?;
    let site = state.site_cache().get(state.store()).await?;
    let cat = state.catalog();
    let p = &page.params;
    let last = page.total.div_ceil(PER_PAGE).clamp(1, MAX_PAGE);
    let pages: Vec<_> = (1..=last)
        .filter(|n| *n == 1 || *n == last || n.abs_diff(p.page) <= 2)
        .map(|n| context! { n => n, url => page_url(p, n), current => n == p.page })
        .collect();
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|i| {
            context! {
                title_html => Value::from_safe_string(i["title_html"].as_str().unwrap_or_default().to_owned()),
                snippet_html => Value::from_safe_string(i["snippet_html"].as_str().unwrap_or_default().to_owned()),
                url => i["url"].as_str(),
                date => i["date"].as_str(),
                datetime => i["datetime"].as_str(),
                category => i["category"].as_str(),
                category_url => i["category_url"].as_str(),
            }
        })
        .collect();
    let categories: Vec<_> = site
        .listed_in_order()
        .into_iter()
        .map(|c| context! { slug => c.slug.clone(), title => c.title.clone(), selected => c.slug == p.cat })
        .collect();
    let title = if p.q.is_empty() || page.notice == Some("search.too_long") {
        cat.get("search.title").to_owned()
    } else {
        cat.format("search.title_for", &[("q", &p.q)])
    };
    let shown_q: String = p.q.chars().take(MAX_QUERY).collect();
    let ctx = context! {
        // Search results are no page of their own for search engines: no canonical URL.
        layout => layout(&state, Some(&*site), &Origin(None), Head { title: &title, ..Head::default() }),
        q => shown_q.clone(),
        from => p.from.clone(),
        to => p.to.clone(),
        categories => categories,
        notice => page.notice.map(|k| cat.format(k, &[("q", &shown_q), ("max", &MAX_QUERY.to_string())])),
        count => (page.total > 0).then(|| cat.format("search.count", &[("n", &page.total.to_string()), ("q", &shown_q)])),
        items => items,
        indexed => page.indexed,
        pager => context! {
            last => last,
            prev_url => (p.page > 1).then(|| page_url(p, p.page - 1)),
            next_url => (p.page < last).then(|| page_url(p, p.page + 1)),
            pages => pages,
        },
    };
    let mut res = Html(state.renderer().render("search.html", ctx)?).into_response();
    // Results follow every change at once; neither browsers nor proxies should keep them.
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// `GET /api/v1/search`: the same results as JSON.
pub(crate) async fn search_json(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let page = run(&state, raw.as_deref()).await?;
    let p = &page.params;
    let mut res = Json(serde_json::json!({
        "query": p.q.chars().take(MAX_QUERY).collect::<String>(),
        "page": p.page,
        "per_page": PER_PAGE,
        "total": page.total,
        "notice": page.notice.map(|k| state.catalog().format(k, &[("q", ""), ("max", &MAX_QUERY.to_string())])),
        "indexed": page.indexed,
        "results": page.items,
    }))
    .into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}
