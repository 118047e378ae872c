//! The demo content loaded on first run: the seed article of a city Party committee's portal
//! and clearly marked sample articles. It is data (`demo/content.toml`, `demo/media/`), shipped
//! inside the binary.

use std::collections::HashMap;

use bantin_core::{
    ArticleStatus, CategoryId, CategoryStatus, SanitizedHtml, Slug, alt_from_filename,
};
use bantin_store::{ChangeKind, NewArticle, NewCategory, NewChange};
use include_dir::{Dir, include_dir};
use serde::Deserialize;

use crate::{Actor, App, AppError, Result};

const CONTENT: &str = include_str!("../demo/content.toml");
static MEDIA: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/demo/media");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Content {
    category: Vec<DemoCategory>,
    article: Vec<DemoArticle>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoCategory {
    slug: String,
    title: String,
    description: String,
    parent: Option<String>,
    position: i64,
    #[serde(default)]
    hidden: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoArticle {
    title: String,
    category: String,
    #[serde(default)]
    extra_categories: Vec<String>,
    published_at: jiff::Timestamp,
    lead: String,
    body: String,
    author: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    tags: Vec<String>,
    image: Option<String>,
    image_alt: Option<String>,
    #[serde(default)]
    image_caption: String,
}

/// What the demo loader created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Categories created.
    pub categories: usize,
    /// Articles created.
    pub articles: usize,
}

/// The demo pictures: `(path under the media folder, bytes)`.
pub fn media_files() -> Vec<(&'static str, &'static [u8])> {
    fn walk(dir: &'static Dir<'static>, out: &mut Vec<(&'static str, &'static [u8])>) {
        for file in dir.files() {
            if let Some(path) = file.path().to_str() {
                out.push((path, file.contents()));
            }
        }
        for sub in dir.dirs() {
            walk(sub, out);
        }
    }
    let mut out = Vec::new();
    walk(&MEDIA, &mut out);
    out
}

/// The demo pictures processed by the library, made once per process (tests build many
/// applications) and stored into each library that loads the demo.
static PREPARED: std::sync::OnceLock<Vec<(&'static str, bantin_media::Prepared)>> =
    std::sync::OnceLock::new();

impl App {
    /// The demo pictures as library items, stored in this application's library; none when
    /// there is no library (the pictures are then served from the media folder).
    async fn prepared_demo_media(&self) -> Result<Vec<(&'static str, bantin_media::Prepared)>> {
        let Some(media) = self.media() else {
            return Ok(Vec::new());
        };
        let prepared = match PREPARED.get() {
            Some(p) => p.clone(),
            None => {
                let mut out = Vec::new();
                for (path, bytes) in media_files() {
                    let p = media
                        .prepare(bytes::Bytes::from_static(bytes), path)
                        .await
                        .map_err(|e| bad(format!("{path}: {e}")))?;
                    out.push((path, p));
                }
                PREPARED.get_or_init(|| out).clone()
            }
        };
        for (_, p) in &prepared {
            media
                .store(p)
                .await
                .map_err(|e| AppError::Internal(Box::new(e)))?;
        }
        Ok(prepared)
    }
}

/// The bundled demo content is malformed (a build problem, caught by tests).
#[derive(Debug, thiserror::Error)]
#[error("demo content: {0}")]
struct BadDemo(String);

fn bad(msg: impl Into<String>) -> AppError {
    AppError::Internal(Box::new(BadDemo(msg.into())))
}

impl App {
    /// Loads the demo categories and articles, all published, in one transaction. Call on an
    /// empty database only.
    pub async fn load_demo(&self) -> Result<Loaded> {
        let now = self.now();
        let content: Content = toml::from_str(CONTENT).map_err(|e| bad(e.to_string()))?;
        let library = self.prepared_demo_media().await?;
        let mut tx = self.store().begin().await?;
        // The demo pictures become library items (with their variants) when there is a library.
        let mut urls: Vec<(String, String)> = Vec::new();
        for (path, prepared) in &library {
            let name = path.rsplit('/').next().unwrap_or(path);
            crate::media::record(&mut tx, self, &Actor::system(), prepared, name, None, now)
                .await?;
            urls.push((
                format!("/media/{path}"),
                bantin_media::url(&prepared.main_name()),
            ));
        }
        let relink = |text: &str| {
            urls.iter().fold(text.to_owned(), |t, (old, new)| {
                t.replace(old.as_str(), new)
            })
        };
        let mut ids: HashMap<String, CategoryId> = HashMap::new();
        for c in &content.category {
            let parent_id = match &c.parent {
                Some(parent) => Some(
                    *ids.get(parent)
                        .ok_or_else(|| bad(format!("unknown parent {parent}")))?,
                ),
                None => None,
            };
            let slug = Slug::parse(&c.slug).map_err(|e| bad(format!("{}: {e}", c.slug)))?;
            let status = if c.hidden {
                CategoryStatus::Hidden
            } else {
                CategoryStatus::Active
            };
            let new = NewCategory {
                parent_id,
                slug,
                title: c.title.clone(),
                description: c.description.clone(),
                position: c.position,
                status,
            };
            let id = tx.insert_category(&new, now).await?;
            ids.insert(c.slug.clone(), id);
        }
        let find = |slug: &str| {
            ids.get(slug)
                .copied()
                .ok_or_else(|| bad(format!("unknown category {slug}")))
        };
        for a in &content.article {
            let image_alt = match (&a.image_alt, &a.image) {
                (Some(alt), _) => alt.clone(),
                (None, Some(path)) => alt_from_filename(path),
                (None, None) => String::new(),
            };
            let slug = Slug::from_title(&a.title).map_err(|e| bad(format!("{}: {e}", a.title)))?;
            let new = NewArticle {
                title: a.title.clone(),
                slug,
                lead: a.lead.clone(),
                body: SanitizedHtml::sanitize(&relink(&a.body)),
                image_url: a
                    .image
                    .as_ref()
                    .map(|path| relink(&format!("/media/{path}"))),
                image_alt,
                image_caption: a.image_caption.clone(),
                meta_description: String::new(),
                author: a.author.clone(),
                source: a.source.clone(),
                tags: a.tags.clone(),
                status: ArticleStatus::Published,
                publish_at: a.published_at.into(),
                expire_at: None,
                category_id: find(&a.category)?,
                extra_category_ids: a
                    .extra_categories
                    .iter()
                    .map(|s| find(s))
                    .collect::<Result<_>>()?,
                options: Default::default(),
            };
            tx.insert_article(&new, None, now).await?;
        }
        let change = NewChange {
            kind: ChangeKind::Site,
            article: None,
            categories: Vec::new(),
        };
        tx.record_change(&change, now).await?;
        let detail = format!(
            "{} categories, {} articles",
            content.category.len(),
            content.article.len()
        );
        tx.audit(&Actor::system().entry("demo.loaded", "", &detail), now)
            .await?;
        tx.commit().await?;
        Ok(Loaded {
            categories: content.category.len(),
            articles: content.article.len(),
        })
    }
}
