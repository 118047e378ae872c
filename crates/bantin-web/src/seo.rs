//! Structured data for search engines (schema.org JSON-LD): the news article with its
//! publisher and rating, breadcrumbs, and the organisation and web site with its search.
//! Every URL in it is absolute, made with the request's [`Origin`].

use bantin_core::time::format_rfc3339;
use bantin_store::Article;
use serde_json::{Value, json};

use crate::AppState;
use crate::origin::Origin;
use crate::site::Crumb;

/// `path` absolute, unless it already is.
fn absolute(origin: &Origin, path: &str) -> String {
    if path.starts_with("https://") || path.starts_with("http://") {
        path.to_owned()
    } else {
        origin.url(path)
    }
}

/// The publishing organisation, with its logo.
pub(crate) fn organization(state: &AppState, origin: &Origin) -> Value {
    json!({
        "@type": "Organization",
        "name": state.settings().site_name,
        "url": origin.url("/"),
        "logo": { "@type": "ImageObject", "url": origin.url(state.assets().url("logo.svg")) },
    })
}

/// The home page's description of the site: the organisation, and the web site with the
/// search it offers.
pub(crate) fn home(state: &AppState, origin: &Origin) -> Vec<Value> {
    let mut org = organization(state, origin);
    org["@context"] = json!("https://schema.org");
    vec![
        org,
        json!({
            "@context": "https://schema.org",
            "@type": "WebSite",
            "name": state.settings().site_name,
            "url": origin.url("/"),
            "inLanguage": state.catalog().get("lang.code"),
            "potentialAction": {
                "@type": "SearchAction",
                "target": { "@type": "EntryPoint", "urlTemplate": origin.url("/search?q={search_term_string}") },
                "query-input": "required name=search_term_string",
            },
        }),
    ]
}

/// The breadcrumb trail, the page itself last (when it is not the trail's last crumb).
pub(crate) fn breadcrumbs(origin: &Origin, crumbs: &[Crumb], page: Option<(&str, &str)>) -> Value {
    let mut items: Vec<(&str, &str)> = crumbs.iter().map(|c| (c.title(), c.url())).collect();
    if let Some(p) = page {
        items.push(p);
    }
    let list: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, (name, path))| {
            json!({ "@type": "ListItem", "position": i + 1, "name": name, "item": absolute(origin, path) })
        })
        .collect();
    json!({ "@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": list })
}

/// What a `NewsArticle` says beyond the article itself.
pub(crate) struct ArticleMeta<'a> {
    /// Its canonical path.
    pub path: &'a str,
    /// The title of its main category.
    pub section: Option<&'a str>,
    /// Its tags.
    pub tags: &'a [String],
    /// Its main image, when the page still has it (not a deleted library item).
    pub image: Option<&'a str>,
}

/// A `NewsArticle`: headline, images, times, author, publisher and, once there are votes,
/// the rating.
pub(crate) fn news_article(
    state: &AppState,
    origin: &Origin,
    a: &Article,
    ArticleMeta {
        path,
        section,
        tags,
        image,
    }: ArticleMeta<'_>,
) -> Value {
    let zone = &state.settings().zone;
    let mut v = json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": a.title,
        "url": origin.url(path),
        "mainEntityOfPage": { "@type": "WebPage", "@id": origin.url(path) },
        "datePublished": format_rfc3339(a.publish_at, zone),
        "dateModified": format_rfc3339(a.updated_at.max(a.publish_at), zone),
        "inLanguage": state.catalog().get("lang.code"),
        "publisher": organization(state, origin),
    });
    if !a.meta_description.is_empty() {
        v["description"] = json!(a.meta_description);
    } else if !a.lead.is_empty() {
        v["description"] = json!(a.lead);
    }
    if let Some(img) = image {
        v["image"] = json!([absolute(origin, img)]);
    }
    v["author"] = if a.author.is_empty() {
        organization(state, origin)
    } else {
        json!({ "@type": "Person", "name": a.author })
    };
    if let Some(s) = section {
        v["articleSection"] = json!(s);
    }
    if !tags.is_empty() {
        v["keywords"] = json!(tags.join(", "));
    }
    let r = a.rating();
    if r.count > 0 {
        v["aggregateRating"] = json!({
            "@type": "AggregateRating",
            "ratingValue": ((r.average() * 10.0).round() / 10.0),
            "ratingCount": r.count,
            "bestRating": 5,
            "worstRating": 1,
        });
    }
    v
}
