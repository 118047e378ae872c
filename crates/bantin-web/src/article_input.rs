//! The rules an article's fields must meet, in one place for every door: the admin form and the
//! JSON API read their own formats (a comma list or an array of tags, local or RFC 3339 times)
//! into [`ArticleFields`], and [`ArticleFields::validate`] decides, sanitises the body and makes
//! the [`NewArticle`] the services take. Problems come back per field, as catalogue keys.

use std::collections::BTreeMap;

use bantin_core::access::{Capability, Rights};
use bantin_core::{ArticleStatus, CategoryId, HtmlPolicy, Slug, UnixTime, nfc};
use bantin_store::{ArticleOptions, NewArticle};

/// Longest title, in characters.
pub(crate) const TITLE_MAX: usize = 300;
/// Largest body, bytes (before sanitising).
pub(crate) const BODY_MAX: usize = 2 * 1024 * 1024;
/// Most tags on one article.
pub(crate) const TAGS_MAX: usize = 20;
/// Longest tag, characters.
pub(crate) const TAG_MAX: usize = 60;
/// Longest meta description, characters: search engines cut snippets near 160, shares near
/// 300, so more would never be read.
pub(crate) const META_DESCRIPTION_MAX: usize = 300;

/// Problems by field name, each a catalogue key.
pub(crate) type FieldErrors = BTreeMap<&'static str, &'static str>;

/// An article's fields, read from a form or a request body but not yet judged. `None` in a
/// parsed field means the client sent something that did not parse.
#[derive(Clone, Debug, Default)]
pub(crate) struct ArticleFields<'a> {
    pub title: &'a str,
    /// Empty: made from the title.
    pub slug: &'a str,
    pub lead: &'a str,
    pub body: &'a str,
    pub category: Option<CategoryId>,
    pub extra: Option<Vec<CategoryId>>,
    pub tags: Vec<String>,
    pub author: &'a str,
    pub source: &'a str,
    pub image_url: &'a str,
    pub image_alt: &'a str,
    pub image_caption: &'a str,
    /// Empty: pages describe the article with its lead.
    pub meta_description: &'a str,
    pub publish_at: Option<UnixTime>,
    /// `Some(None)`: no expiry.
    pub expire_at: Option<Option<UnixTime>>,
    pub options: ArticleOptions,
}

/// Trimmed, NFC, at most `max` characters, no control characters but line breaks.
pub(crate) fn clean(s: &str, max: usize) -> Option<String> {
    let s = nfc(s.trim());
    (s.chars().count() <= max && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\r'))
        .then_some(s)
}

/// A meta description: one line (line breaks become spaces), NFC, at most
/// [`META_DESCRIPTION_MAX`] characters and plain text. Angle brackets are refused rather than
/// stripped: the text is escaped where it is shown, so they would only surface as literal
/// tags in a search result, which is never what the newsroom meant.
pub(crate) fn meta_description(s: &str) -> Result<String, &'static str> {
    let one_line = s.replace(['\r', '\n', '\t'], " ");
    let text = clean(&one_line, META_DESCRIPTION_MAX).ok_or("article.meta_description_too_long")?;
    if text.contains(['<', '>']) {
        return Err("article.meta_description_markup");
    }
    Ok(text)
}

/// A picture address an article may use: our media, or http(s).
pub(crate) fn image_url_ok(u: &str) -> bool {
    u.len() <= 2048
        && !u.chars().any(|c| c.is_control() || c.is_whitespace())
        && (u.starts_with("/media/") || u.starts_with("https://") || u.starts_with("http://"))
}

impl ArticleFields<'_> {
    /// The article the fields describe, in `status`, when `rights` allow writing in its
    /// categories; else each field's problem.
    pub(crate) fn validate(
        &self,
        rights: &Rights,
        html: &HtmlPolicy,
        status: ArticleStatus,
    ) -> Result<NewArticle, FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = clean(self.title, TITLE_MAX).filter(|t| !t.is_empty());
        if title.is_none() {
            errors.insert("title", "article.bad_title");
        }
        let slug = if self.slug.trim().is_empty() {
            title.as_deref().and_then(|t| Slug::from_title(t).ok())
        } else {
            Slug::parse(self.slug.trim()).ok()
        };
        if slug.is_none() {
            errors.insert("slug", "article.bad_slug");
        }
        let lead = clean(self.lead, 2000);
        let author = clean(self.author, 300);
        let source = clean(self.source, 300);
        let alt = clean(self.image_alt, 300);
        let caption = clean(self.image_caption, 1000);
        for (v, field) in [
            (&lead, "lead"),
            (&author, "author"),
            (&source, "source"),
            (&alt, "image_alt"),
            (&caption, "image_caption"),
        ] {
            if v.is_none() {
                errors.insert(field, "article.too_long");
            }
        }
        let description = meta_description(self.meta_description);
        if let Err(key) = description {
            errors.insert("meta_description", key);
        }
        if self.body.len() > BODY_MAX {
            errors.insert("body", "article.too_long");
        }
        let image_url = self.image_url.trim();
        if !image_url.is_empty() && !image_url_ok(image_url) {
            errors.insert("image_url", "article.bad_image_url");
        }
        let writable = |c: &CategoryId| rights.allows(Capability::Write, Some(*c));
        let category = self.category.filter(writable);
        if category.is_none() {
            errors.insert("category", "article.bad_category");
        }
        let extra = self.extra.as_ref().filter(|list| list.iter().all(writable));
        if extra.is_none() {
            errors.insert("extra", "article.bad_category");
        }
        let tags: Vec<String> = self
            .tags
            .iter()
            .map(|t| nfc(t.trim()))
            .filter(|t| !t.is_empty())
            .collect();
        if tags.len() > TAGS_MAX
            || tags
                .iter()
                .any(|t| t.chars().count() > TAG_MAX || t.chars().any(char::is_control))
        {
            errors.insert("tags", "article.bad_tags");
        }
        if self.publish_at.is_none() {
            errors.insert("publish_at", "article.bad_time");
        }
        match (self.publish_at, self.expire_at) {
            (_, None) => {
                errors.insert("expire_at", "article.bad_time");
            }
            (Some(p), Some(Some(e))) if e <= p => {
                errors.insert("expire_at", "article.expiry_before_publish");
            }
            _ => {}
        }
        let (
            Some(title),
            Some(slug),
            Some(category_id),
            Some(extra),
            Some(publish_at),
            Some(expire_at),
        ) = (
            title,
            slug,
            category,
            extra,
            self.publish_at,
            self.expire_at,
        )
        else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NewArticle {
            title,
            slug,
            lead: lead.unwrap_or_default(),
            body: html.sanitize(self.body),
            image_url: Some(image_url.to_owned()).filter(|u| !u.is_empty()),
            image_alt: alt.unwrap_or_default(),
            image_caption: caption.unwrap_or_default(),
            meta_description: description.unwrap_or_default(),
            author: author.unwrap_or_default(),
            source: source.unwrap_or_default(),
            tags,
            status,
            publish_at,
            expire_at,
            category_id,
            extra_category_ids: extra
                .iter()
                .copied()
                .filter(|c| *c != category_id)
                .collect(),
            options: self.options,
        })
    }
}

/// Makes `a`'s slug unique among articles: a slug made from the title gets a number when
/// another article has it; one the client typed (`typed`) and changed is refused by field
/// instead. `current` is the article being edited and its slug now.
pub(crate) async fn settle_slug(
    store: &bantin_store::Store,
    typed: bool,
    a: &mut NewArticle,
    current: Option<(bantin_core::ArticleId, &str)>,
) -> Result<Option<FieldErrors>, bantin_store::StoreError> {
    let except = current.map(|(id, _)| id);
    if typed {
        let unchanged = current.is_some_and(|(_, slug)| slug == a.slug.as_str());
        if !unchanged && store.slug_in_use(a.slug.as_str(), except).await? {
            return Ok(Some(FieldErrors::from([("slug", "article.slug_taken")])));
        }
        return Ok(None);
    }
    let base = a.slug.clone();
    let mut n = 1;
    while store.slug_in_use(a.slug.as_str(), except).await? {
        n += 1;
        if n > 1000 {
            break;
        }
        a.slug = base.numbered(n);
    }
    Ok(None)
}
