//! The site's category tree as every page needs it (menu, breadcrumbs, URLs, the old slugs of
//! renamed categories), read once and kept until the change feed says categories changed; and
//! the URLs of categories and articles, built in one place.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bantin_core::time::format_rfc3339;
use bantin_core::{ArticleId, CategoryId, CategoryStatus, SiteZone, format_date};
use bantin_store::{ArticleSummary, Category, Store, StoreError};
use serde::Serialize;

/// The category tree.
pub struct Site {
    categories: Vec<Category>,
    by_id: HashMap<CategoryId, usize>,
    by_slug: HashMap<String, usize>,
    /// Old slugs of renamed categories → the category's index.
    redirects: HashMap<String, usize>,
}

/// A menu entry.
#[derive(Serialize)]
pub struct NavItem {
    title: String,
    url: String,
    children: Vec<NavItem>,
}

/// A breadcrumb.
#[derive(Serialize)]
pub struct Crumb {
    title: String,
    url: String,
}

impl Crumb {
    /// Its title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// Its path.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// What lists show of an article.
#[derive(Serialize)]
pub struct Item {
    title: String,
    url: String,
    date: String,
    datetime: String,
    lead: String,
    image_url: Option<String>,
    image_alt: String,
    category_title: String,
    category_url: String,
    /// The main image's responsive sources, when it is a library picture.
    thumb: Option<Thumb>,
}

/// A list thumbnail's sources: WebP and own-format `srcset`s of a library picture.
#[derive(Serialize)]
pub(crate) struct Thumb {
    /// WebP candidates.
    pub(crate) webp: String,
    /// Candidates in the picture's own format.
    pub(crate) own: String,
    /// The fallback `src`.
    pub(crate) src: String,
}

impl Item {
    /// The main image's URL.
    pub(crate) fn image_url(&self) -> Option<&str> {
        self.image_url.as_deref()
    }

    /// Shows the main image from `thumb`'s sources, or (`None`: its library item was deleted)
    /// not at all rather than as a broken image.
    pub(crate) fn set_thumb(&mut self, thumb: Option<Thumb>) {
        if thumb.is_none() {
            self.image_url = None;
        }
        self.thumb = thumb;
    }
}

/// The URL of a category page.
pub fn category_url(c: &Category) -> String {
    format!("/{}/", c.slug)
}

impl Site {
    fn new(categories: Vec<Category>, redirects: Vec<(String, CategoryId)>) -> Self {
        let by_id: HashMap<CategoryId, usize> = categories
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i))
            .collect();
        let by_slug = categories
            .iter()
            .enumerate()
            .map(|(i, c)| (c.slug.clone(), i))
            .collect();
        let redirects = redirects
            .into_iter()
            .filter_map(|(slug, id)| by_id.get(&id).map(|&i| (slug, i)))
            .collect();
        Self {
            categories,
            by_id,
            by_slug,
            redirects,
        }
    }

    /// A category by id.
    pub fn get(&self, id: CategoryId) -> Option<&Category> {
        self.by_id.get(&id).map(|&i| &self.categories[i])
    }

    /// A category by URL segment.
    pub fn by_slug(&self, slug: &str) -> Option<&Category> {
        self.by_slug.get(slug).map(|&i| &self.categories[i])
    }

    /// The category a renamed category's old slug now stands for.
    pub fn redirected(&self, old_slug: &str) -> Option<&Category> {
        self.redirects.get(old_slug).map(|&i| &self.categories[i])
    }

    /// The direct children of `id` (`None`: the top level), in menu order.
    pub fn children(&self, id: Option<CategoryId>) -> impl Iterator<Item = &Category> {
        self.categories.iter().filter(move |c| c.parent_id == id)
    }

    /// `id` and every category below it: the categories a category page lists articles of.
    pub fn subtree(&self, id: CategoryId) -> Vec<CategoryId> {
        let mut out = vec![id];
        let mut i = 0;
        // Bounded by the number of categories, so corrupt data with a cycle cannot loop.
        while i < out.len() && out.len() <= self.categories.len() {
            let parent = out[i];
            out.extend(
                self.children(Some(parent))
                    .map(|c| c.id)
                    .filter(|c| *c != id),
            );
            i += 1;
        }
        out
    }

    /// Listed categories in menu order, depth first.
    pub fn listed_in_order(&self) -> Vec<&Category> {
        fn walk<'a>(site: &'a Site, parent: Option<CategoryId>, out: &mut Vec<&'a Category>) {
            for c in site
                .children(parent)
                .filter(|c| c.status() == CategoryStatus::Active)
            {
                if out.len() > site.categories.len() {
                    return;
                }
                out.push(c);
                walk(site, Some(c.id), out);
            }
        }
        let mut out = Vec::new();
        walk(self, None, &mut out);
        out
    }

    /// The menu: listed top-level categories and their listed children.
    pub fn nav(&self) -> Vec<NavItem> {
        self.children(None)
            .filter(|c| c.status() == CategoryStatus::Active)
            .map(|c| NavItem {
                title: c.title.clone(),
                url: category_url(c),
                children: self
                    .children(Some(c.id))
                    .filter(|c| c.status() == CategoryStatus::Active)
                    .map(|c| NavItem {
                        title: c.title.clone(),
                        url: category_url(c),
                        children: Vec::new(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// The trail of a page outside the category tree: home only.
    pub fn breadcrumbs_home(&self, home: &str) -> Vec<Crumb> {
        vec![Crumb {
            title: home.to_owned(),
            url: "/".to_owned(),
        }]
    }

    /// Home (titled `home`), then the category's ancestors from the top, then the category.
    pub fn breadcrumbs(&self, home: &str, id: CategoryId) -> Vec<Crumb> {
        let mut chain = Vec::new();
        let mut cur = self.get(id);
        // The depth bound guards against a cycle in corrupt data.
        while let Some(c) = cur
            && chain.len() < 16
        {
            chain.push(Crumb {
                title: c.title.clone(),
                url: category_url(c),
            });
            cur = c.parent_id.and_then(|p| self.get(p));
        }
        chain.push(Crumb {
            title: home.to_owned(),
            url: "/".to_owned(),
        });
        chain.reverse();
        chain
    }

    /// The canonical URL of an article: its main category, its slug and its id.
    pub fn article_url(&self, category_id: CategoryId, slug: &str, id: ArticleId) -> String {
        let cat = self
            .get(category_id)
            .map_or("bai-viet", |c| c.slug.as_str());
        format!("/{cat}/{slug}-{id}.html")
    }

    /// A list entry of an article.
    pub fn item(&self, zone: &SiteZone, a: &ArticleSummary) -> Item {
        let cat = self.get(a.category_id);
        Item {
            title: a.title.clone(),
            url: self.article_url(a.category_id, &a.slug, a.id),
            date: format_date(a.publish_at, zone),
            datetime: format_rfc3339(a.publish_at, zone),
            lead: a.lead.clone(),
            image_url: a.image_url.clone(),
            image_alt: a.image_alt.clone(),
            category_title: cat.map(|c| c.title.clone()).unwrap_or_default(),
            category_url: cat.map(category_url).unwrap_or_default(),
            thumb: None,
        }
    }

    /// List entries of articles.
    pub fn items(&self, zone: &SiteZone, list: &[ArticleSummary]) -> Vec<Item> {
        list.iter().map(|a| self.item(zone, a)).collect()
    }
}

/// The current category tree, read on first use and dropped when the change feed reports a
/// category or site change.
#[derive(Default)]
pub struct SiteCache {
    current: RwLock<Option<Arc<Site>>>,
    /// Bumped by every invalidation, so a read that raced one is not kept.
    generation: std::sync::atomic::AtomicU64,
}

impl SiteCache {
    /// The tree, reading it from `store` if it is not held.
    pub async fn get(&self, store: &Store) -> Result<Arc<Site>, StoreError> {
        if let Some(site) = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return Ok(site);
        }
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        let site = Arc::new(Site::new(
            store.categories().await?,
            store.category_redirects().await?,
        ));
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(std::sync::atomic::Ordering::Acquire) == generation {
            *current = Some(site.clone());
        }
        Ok(site)
    }

    /// Forgets the tree; the next page reads it again.
    pub fn invalidate(&self) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        *current = None;
    }
}

/// The page of a tag.
pub fn tag_url(slug: &str) -> String {
    format!("/tag/{slug}/")
}

/// The page of an author line.
pub fn author_url(slug: &str) -> String {
    format!("/tac-gia/{slug}/")
}
