//! Articles: reading what readers may see, writing new ones, counting views.

use bantin_core::workflow::ExpiryAction;
use bantin_core::{
    ArticleId, ArticleStatus, CategoryId, SanitizedHtml, Slug, UnixTime, UserId, Visibility, nfc,
};

use crate::{Result, Store, StoreError, Tx, with_db, with_tx};

/// Largest page of a list query, whatever the caller asks for.
pub const PAGE_MAX: i64 = 100;

/// An article to create.
#[derive(Clone, Debug)]
pub struct NewArticle {
    /// Title.
    pub title: String,
    /// URL slug (the service derives it from the title unless the newsroom gave one).
    pub slug: Slug,
    /// Lead paragraph, plain text.
    pub lead: String,
    /// Body, already sanitised.
    pub body: SanitizedHtml,
    /// Main image URL.
    pub image_url: Option<String>,
    /// Main image alt text.
    pub image_alt: String,
    /// Main image caption.
    pub image_caption: String,
    /// What search engines and shares show instead of the lead (empty: the lead).
    pub meta_description: String,
    /// Author line.
    pub author: String,
    /// Source.
    pub source: String,
    /// Tags, in order.
    pub tags: Vec<String>,
    /// Workflow status.
    pub status: ArticleStatus,
    /// Publish time.
    pub publish_at: UnixTime,
    /// Expiry time.
    pub expire_at: Option<UnixTime>,
    /// Main category.
    pub category_id: CategoryId,
    /// Other categories it is listed in.
    pub extra_category_ids: Vec<CategoryId>,
    /// What expiry does, and how it is shown.
    pub options: ArticleOptions,
}

/// How an article behaves beyond its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArticleOptions {
    /// What happens when its expiry time passes.
    pub expiry_action: ExpiryAction,
    /// Readers may rate it.
    pub allow_rating: bool,
    /// It may appear in the home page's lists.
    pub show_on_home: bool,
}

impl Default for ArticleOptions {
    fn default() -> Self {
        Self {
            expiry_action: ExpiryAction::Archive,
            allow_rating: true,
            show_on_home: true,
        }
    }
}

fn expiry_str(e: ExpiryAction) -> &'static str {
    match e {
        ExpiryAction::Archive => "archive",
        ExpiryAction::Unpublish => "unpublish",
    }
}

/// What became of an edit that named the revision it started from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    /// Saved as this new revision.
    Revision(i64),
    /// Someone saved in between: the article is at this revision now; nothing changed.
    Stale(i64),
    /// No such article.
    Missing,
}

impl NewArticle {
    /// Every category it is listed in, the main one first.
    pub fn categories(&self) -> Vec<CategoryId> {
        std::iter::once(self.category_id)
            .chain(self.extra_category_ids.iter().copied())
            .collect()
    }
}

/// Where an article is listed and whether readers see it: what decides which pages a change
/// to it touches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticlePlacement {
    /// URL slug.
    pub slug: String,
    /// Main category.
    pub main: CategoryId,
    /// Every category it is listed in, the main one included.
    pub categories: Vec<CategoryId>,
    /// Status and times.
    pub visibility: Visibility,
}

/// Binds an article's content as `$1`…`$13` (slug, title, lead, body, image, alt, caption,
/// author, source, status, publish, expiry, category), the order both the INSERT and the
/// UPDATE use.
macro_rules! bind_content {
    ($query:expr, $slug:expr, $title:expr, $a:expr) => {
        $query
            .bind($slug.as_str())
            .bind($title)
            .bind(nfc($a.lead.trim()))
            .bind($a.body.as_str())
            .bind($a.image_url.as_deref())
            .bind(nfc($a.image_alt.trim()))
            .bind(nfc($a.image_caption.trim()))
            .bind(nfc($a.author.trim()))
            .bind(nfc($a.source.trim()))
            .bind($a.status.as_str())
            .bind($a.publish_at)
            .bind($a.expire_at)
            .bind($a.category_id)
    };
}

/// Writes an article's category and tag rows inside the transaction `$tx` (the same text for
/// both backends, expanded inside each arm of `with_db!`).
macro_rules! write_links {
    ($tx:ident, $id:expr, $a:expr, $tags:expr) => {
        sqlx::query("UPDATE articles SET author_slug = $1 WHERE id = $2")
            .bind(author_slug(&$a.author))
            .bind($id)
            .execute(&mut *$tx)
            .await?;
        for category_id in
            std::iter::once($a.category_id).chain($a.extra_category_ids.iter().copied())
        {
            sqlx::query(
                "INSERT INTO article_categories (article_id, category_id, status, publish_at, expire_at)
                 SELECT a.id, $2, a.status, a.publish_at, a.expire_at FROM articles a WHERE a.id = $1
                 ON CONFLICT (article_id, category_id) DO NOTHING",
            )
            .bind($id)
            .bind(category_id)
            .execute(&mut *$tx)
            .await?;
        }
        for (position, (name, slug)) in $tags.iter().enumerate() {
            let tag_id: i64 = sqlx::query_scalar(
                "INSERT INTO tags (name, slug) VALUES ($1, $2)
                 ON CONFLICT (slug) DO UPDATE SET slug = excluded.slug RETURNING id",
            )
            .bind(name)
            .bind(slug.as_str())
            .fetch_one(&mut *$tx)
            .await?;
            // With its article's status and times, for the tag pages' index (migration 0017).
            sqlx::query(
                "INSERT INTO article_tags (article_id, tag_id, position, status, publish_at, expire_at)
                 SELECT a.id, $2, $3, a.status, a.publish_at, a.expire_at FROM articles a WHERE a.id = $1",
            )
            .bind($id)
            .bind(tag_id)
            .bind(position as i64)
            .execute(&mut *$tx)
            .await?;
        }
    };
}

/// The URL segment of an author line's page (`/tac-gia/{slug}/`), empty without an author.
pub fn author_slug(author: &str) -> String {
    Slug::from_title(&nfc(author.trim()))
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default()
}

/// An article's derived values: NFC title, slug (given or from the title), distinct tags.
struct Prepared<'a> {
    a: &'a NewArticle,
    title: String,
    slug: Slug,
    tags: Vec<(String, Slug)>,
}

fn prepare(a: &NewArticle) -> Result<Prepared<'_>> {
    let title = nfc(a.title.trim());
    let slug = a.slug.clone();
    let mut tags: Vec<(String, Slug)> = Vec::new();
    for name in &a.tags {
        let name = nfc(name.trim());
        if let Ok(slug) = Slug::from_title(&name)
            && !tags.iter().any(|(_, s)| *s == slug)
        {
            tags.push((name, slug));
        }
    }
    Ok(Prepared {
        a,
        title,
        slug,
        tags,
    })
}

impl Store {
    /// Whether a scheduled article is due to be published, or a published one to expire, at
    /// `now`: the scheduler's cheap check before it takes the write lock.
    pub async fn workflow_due(&self, now: UnixTime) -> Result<bool> {
        let due = with_db!(self, |p| {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM (
                     SELECT id FROM articles WHERE status = 'scheduled' AND publish_at <= $1
                     UNION ALL
                     SELECT id FROM articles WHERE status = 'published' AND expire_at <= $1
                     LIMIT 1
                 ) due",
            )
            .bind(now)
            .fetch_one(p)
            .await
        })?;
        Ok(due > 0)
    }

    /// Published articles that appear (publish time) or expire in `(after, until]`, with
    /// where they are listed: what the scheduler announces on the change feed.
    pub async fn visibility_transitions(
        &self,
        after: UnixTime,
        until: UnixTime,
    ) -> Result<Vec<(ArticleId, Vec<CategoryId>)>> {
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, (ArticleId, CategoryId)>(
                "SELECT ac.article_id, ac.category_id FROM article_categories ac
                 WHERE ac.article_id IN (
                     SELECT id FROM articles WHERE status = 'published' AND publish_at > $1 AND publish_at <= $2
                     UNION
                     SELECT id FROM articles WHERE status = 'published' AND expire_at > $1 AND expire_at <= $2
                 )
                 ORDER BY ac.article_id, ac.category_id",
            )
            .bind(after)
            .bind(until)
            .fetch_all(p)
            .await
        })?;
        let mut out: Vec<(ArticleId, Vec<CategoryId>)> = Vec::new();
        for (a, c) in rows {
            match out.last_mut() {
                Some((last, cats)) if *last == a => cats.push(c),
                _ => out.push((a, vec![c])),
            }
        }
        Ok(out)
    }

    /// Adds counted views, `(article id, views)`, in one transaction.
    pub async fn add_views(&self, batch: &[(ArticleId, i64)]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        with_db!(self, |p| {
            let mut tx = p.begin().await?;
            for (id, n) in batch {
                sqlx::query("UPDATE articles SET view_count = view_count + $1 WHERE id = $2")
                    .bind(*n)
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })
    }

    /// Article counts by (main category, status), for dashboards to sum over the categories
    /// an account may act in.
    pub async fn article_counts(&self) -> Result<Vec<(CategoryId, String, i64)>> {
        let rows = with_db!(self, |p| {
            sqlx::query_as::<_, (CategoryId, String, i64)>(
                "SELECT category_id, status, CAST(COUNT(*) AS BIGINT) FROM articles
                 GROUP BY category_id, status",
            )
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }
}

impl Tx {
    /// Creates an article with its categories and tags; returns its id. Text is stored as
    /// NFC.
    pub async fn insert_article(
        &mut self,
        a: &NewArticle,
        by: Option<UserId>,
        now: UnixTime,
    ) -> Result<ArticleId> {
        let Prepared {
            a,
            title,
            slug,
            tags,
        } = prepare(a)?;
        with_tx!(self, |c| {
            let id: ArticleId = bind_content!(sqlx::query_scalar(
                "INSERT INTO articles (slug, title, lead, body_html, image_url, image_alt, image_caption, author, source,
                                       status, publish_at, expire_at, category_id, created_at, updated_at, created_by,
                                       expiry_action, allow_rating, show_on_home, updated_by, meta_description)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16, $17, $18, $15, $19)
                 RETURNING id",
            ), slug, &title, a)
            .bind(now)
            .bind(by)
            .bind(expiry_str(a.options.expiry_action))
            .bind(a.options.allow_rating)
            .bind(a.options.show_on_home)
            .bind(nfc(a.meta_description.trim()))
            .fetch_one(&mut *c)
            .await?;
            write_links!(c, id, a, tags);
            Ok(id)
        })
    }

    /// Where an article is listed now (read inside the transaction, before changing it).
    pub async fn article_placement(&mut self, id: ArticleId) -> Result<Option<ArticlePlacement>> {
        let row = with_tx!(self, |c| {
            sqlx::query_as::<_, (String, CategoryId, String, UnixTime, Option<UnixTime>)>(
                "SELECT slug, category_id, status, publish_at, expire_at FROM articles WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *c)
            .await
        })?;
        let Some((slug, main, status, publish_at, expire_at)) = row else {
            return Ok(None);
        };
        let categories = with_tx!(self, |c| {
            sqlx::query_scalar::<_, CategoryId>(
                "SELECT category_id FROM article_categories WHERE article_id = $1 ORDER BY category_id",
            )
            .bind(id)
            .fetch_all(&mut *c)
            .await
        })?;
        Ok(Some(ArticlePlacement {
            slug,
            main,
            categories,
            visibility: Visibility {
                status: status.parse().unwrap_or(ArticleStatus::Unpublished),
                publish_at,
                expire_at,
            },
        }))
    }

    /// Replaces an article's content, categories and tags (an edit) by `by`, if it is still at
    /// revision `base` (`None`: whatever its revision, for imports). View counts and ratings
    /// are kept; the revision number goes up by one.
    pub async fn update_article(
        &mut self,
        id: ArticleId,
        a: &NewArticle,
        base: Option<i64>,
        by: Option<UserId>,
        now: UnixTime,
    ) -> Result<Saved> {
        let Prepared {
            a,
            title,
            slug,
            tags,
        } = prepare(a)?;
        let revision = with_tx!(self, |c| {
            bind_content!(sqlx::query_scalar::<_, i64>(
                "UPDATE articles SET slug = $1, title = $2, lead = $3, body_html = $4, image_url = $5, image_alt = $6,
                        image_caption = $7, author = $8, source = $9, status = $10, publish_at = $11,
                        expire_at = $12, category_id = $13, updated_at = $14, expiry_action = $16,
                        allow_rating = $17, show_on_home = $18, updated_by = $19, meta_description = $21,
                        revision = revision + 1
                 WHERE id = $15 AND (CAST($20 AS BIGINT) IS NULL OR revision = $20)
                 RETURNING revision",
            ), slug, &title, a)
            .bind(now)
            .bind(id)
            .bind(expiry_str(a.options.expiry_action))
            .bind(a.options.allow_rating)
            .bind(a.options.show_on_home)
            .bind(by)
            .bind(base)
            .bind(nfc(a.meta_description.trim()))
            .fetch_optional(&mut *c)
            .await
        })?;
        let Some(revision) = revision else {
            return Ok(match self.article_revision(id).await? {
                Some(current) => Saved::Stale(current),
                None => Saved::Missing,
            });
        };
        with_tx!(self, |c| {
            sqlx::query("DELETE FROM article_categories WHERE article_id = $1")
                .bind(id)
                .execute(&mut *c)
                .await?;
            sqlx::query("DELETE FROM article_tags WHERE article_id = $1")
                .bind(id)
                .execute(&mut *c)
                .await?;
            write_links!(c, id, a, tags);
            Ok::<(), crate::StoreError>(())
        })?;
        Ok(Saved::Revision(revision))
    }

    /// An article's revision number now.
    pub async fn article_revision(&mut self, id: ArticleId) -> Result<Option<i64>> {
        let r = with_tx!(self, |c| {
            sqlx::query_scalar::<_, i64>("SELECT revision FROM articles WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *c)
                .await
        })?;
        Ok(r)
    }

    /// Keeps the article as it is now as a revision (who, when, and a note such as "restored
    /// from 3").
    pub async fn record_revision(
        &mut self,
        id: ArticleId,
        by: Option<UserId>,
        note: &str,
        now: UnixTime,
    ) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO article_revisions (article_id, revision, at, user_id, status, title, lead, body_html,
                                                image_url, image_alt, image_caption, author, source, category_id,
                                                publish_at, expire_at, note, meta_description)
                 SELECT id, revision, $2, $3, status, title, lead, body_html, image_url, image_alt, image_caption,
                        author, source, category_id, publish_at, expire_at, $4, meta_description
                 FROM articles WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .bind(by)
            .bind(note)
            .execute(&mut *c)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Moves an article from status `from` to `to` (a workflow action), with the reviewer's
    /// reason when rejected; false when it is no longer in `from` (someone acted first). Entering
    /// the trash records when, so it can be purged after 30 days.
    pub async fn set_article_status(
        &mut self,
        id: ArticleId,
        from: ArticleStatus,
        to: ArticleStatus,
        reason: &str,
        by: Option<UserId>,
        now: UnixTime,
    ) -> Result<bool> {
        let n = with_tx!(self, |c| {
            sqlx::query(
                "UPDATE articles SET status = $1, rejection_reason = $2,
                        trashed_at = CASE WHEN $1 = 'trash' THEN $3 ELSE NULL END,
                        updated_at = $3, updated_by = $4, revision = revision + 1
                 WHERE id = $5 AND status = $6",
            )
            .bind(to.as_str())
            .bind(nfc(reason.trim()))
            .bind(now)
            .bind(by)
            .bind(id)
            .bind(from.as_str())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }

    /// Publishes every scheduled article whose publish time has come; returns them. One
    /// statement flips each row once, so several processes never publish one twice.
    pub async fn publish_due(&mut self, now: UnixTime) -> Result<Vec<ArticleId>> {
        let ids = with_tx!(self, |c| {
            sqlx::query_scalar::<_, ArticleId>(
                "UPDATE articles SET status = 'published', updated_at = $1, revision = revision + 1
                 WHERE status = 'scheduled' AND publish_at <= $1 RETURNING id",
            )
            .bind(now)
            .fetch_all(&mut *c)
            .await
        })?;
        Ok(ids)
    }

    /// Archives or unpublishes (as each says) every published article whose expiry time has
    /// passed; returns them. Never deletes.
    pub async fn expire_due(&mut self, now: UnixTime) -> Result<Vec<ArticleId>> {
        let ids = with_tx!(self, |c| {
            sqlx::query_scalar::<_, ArticleId>(
                "UPDATE articles
                 SET status = CASE expiry_action WHEN 'unpublish' THEN 'unpublished' ELSE 'archived' END,
                     updated_at = $1, revision = revision + 1
                 WHERE status = 'published' AND expire_at IS NOT NULL AND expire_at <= $1 RETURNING id",
            )
            .bind(now)
            .fetch_all(&mut *c)
            .await
        })?;
        Ok(ids)
    }

    /// Deletes articles in the trash since before `before` (30 days by the workflow's rule);
    /// returns how many.
    pub async fn purge_trash(&mut self, before: UnixTime) -> Result<u64> {
        let n = with_tx!(self, |c| {
            sqlx::query("DELETE FROM articles WHERE status = 'trash' AND trashed_at < $1")
                .bind(before)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n)
    }

    /// Changes an article's status and times; false if there is no such article.
    pub async fn set_article_visibility(
        &mut self,
        id: ArticleId,
        v: &Visibility,
        now: UnixTime,
    ) -> Result<bool> {
        let n = with_tx!(self, |c| {
            sqlx::query(
                "UPDATE articles SET status = $1, publish_at = $2, expire_at = $3, updated_at = $4,
                        revision = revision + 1
                 WHERE id = $5",
            )
            .bind(v.status.as_str())
            .bind(v.publish_at)
            .bind(v.expire_at)
            .bind(now)
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }
}

/// Which articles the newsroom's list shows.
#[derive(Clone, Debug, Default)]
pub struct ArticleFilter {
    /// Only this status.
    pub status: Option<ArticleStatus>,
    /// Only articles whose main category is one of these (the account's scope); `None`: all.
    pub scope: Option<Vec<CategoryId>>,
    /// Only this main category.
    pub category: Option<CategoryId>,
    /// Only articles this account created.
    pub author: Option<UserId>,
    /// Only titles containing this text (case-insensitive for ASCII).
    pub title: Option<String>,
    /// Publish time from…
    pub from: Option<UnixTime>,
    /// …until before.
    pub until: Option<UnixTime>,
    /// Order of the rows.
    pub sort: ArticleSort,
}

/// The order of the newsroom's list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ArticleSort {
    /// Most recently changed first.
    #[default]
    Updated,
    /// Latest publish time first.
    PublishNewest,
    /// Earliest publish time first (what is due next, for scheduled articles).
    PublishOldest,
    /// By title.
    Title,
}

impl ArticleSort {
    /// Every order.
    pub const ALL: [Self; 4] = [
        Self::Updated,
        Self::PublishNewest,
        Self::PublishOldest,
        Self::Title,
    ];

    /// The name used in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Updated => "updated",
            Self::PublishNewest => "newest",
            Self::PublishOldest => "oldest",
            Self::Title => "title",
        }
    }

    /// The order named `s`, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    fn order_by(self) -> &'static str {
        match self {
            Self::Updated => "updated_at DESC, id DESC",
            Self::PublishNewest => "publish_at DESC, id DESC",
            Self::PublishOldest => "publish_at, id",
            Self::Title => "title, id",
        }
    }
}

/// A row of the newsroom's article list.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NewsroomArticle {
    /// Id.
    pub id: ArticleId,
    /// Title.
    pub title: String,
    /// URL slug.
    pub slug: String,
    status: String,
    /// Main category.
    pub category_id: CategoryId,
    /// Publish time.
    pub publish_at: UnixTime,
    /// Last change.
    pub updated_at: UnixTime,
    /// Who created it.
    pub created_by: Option<UserId>,
    /// Revision number.
    pub revision: i64,
    /// Why a reviewer sent it back (rejected articles).
    pub rejection_reason: String,
}

impl NewsroomArticle {
    /// Workflow status.
    pub fn status(&self) -> ArticleStatus {
        self.status.parse().unwrap_or(ArticleStatus::Unpublished)
    }
}

impl Store {
    /// The newsroom's list: articles matching `f`, most recently changed first, `limit` from
    /// `offset`.
    pub async fn newsroom_articles(
        &self,
        f: &ArticleFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<NewsroomArticle>> {
        // Only numbered placeholders are generated; every value is bound.
        let mut sql = String::from(
            "SELECT id, title, slug, status, category_id, publish_at, updated_at, created_by, revision,
                    rejection_reason
             FROM articles WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR category_id = $2)
               AND ($3 IS NULL OR created_by = $3) AND ($4 IS NULL OR LOWER(title) LIKE $4)
               AND ($5 IS NULL OR publish_at >= $5) AND ($6 IS NULL OR publish_at < $6)",
        );
        let scope = f.scope.clone().unwrap_or_default();
        if f.scope.is_some() {
            if scope.is_empty() {
                return Ok(Vec::new());
            }
            let marks: Vec<String> = (0..scope.len()).map(|i| format!("${}", i + 9)).collect();
            sql.push_str(&format!(" AND category_id IN ({})", marks.join(", ")));
        }
        sql.push_str(" ORDER BY ");
        sql.push_str(f.sort.order_by());
        sql.push_str(" LIMIT $7 OFFSET $8");
        let like = f.title.as_ref().map(|t| {
            let t = t.to_lowercase().replace(['%', '_'], "");
            format!("%{t}%")
        });
        let rows = with_db!(self, |p| {
            let mut q = sqlx::query_as::<_, NewsroomArticle>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(f.status.map(ArticleStatus::as_str))
                .bind(f.category)
                .bind(f.author)
                .bind(like.as_deref())
                .bind(f.from)
                .bind(f.until)
                .bind(limit.clamp(1, PAGE_MAX))
                .bind(offset.max(0));
            for c in &scope {
                q = q.bind(*c);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows)
    }
}

impl Store {
    /// Whether an article other than `except` has the slug `slug`.
    pub async fn slug_in_use(&self, slug: &str, except: Option<ArticleId>) -> Result<bool> {
        let n = with_db!(self, |p| {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM articles WHERE slug = $1 AND ($2 IS NULL OR id <> $2)",
            )
            .bind(slug)
            .bind(except)
            .fetch_one(p)
            .await
        })?;
        Ok(n > 0)
    }
}

impl Store {
    /// Whether article `id` already holds exactly what `a` would save (its text, times,
    /// categories, tags and options) — a save sent twice finds its own work done.
    pub async fn article_holds(&self, id: ArticleId, a: &NewArticle) -> Result<bool> {
        let Some(now) = self.article(id).await? else {
            return Ok(false);
        };
        let p = prepare(a)?;
        let same_text = now.slug == p.slug.as_str()
            && now.title == p.title
            && now.lead == nfc(a.lead.trim())
            && now.body().as_str() == a.body.as_str()
            && now.image_url == a.image_url
            && now.image_alt == nfc(a.image_alt.trim())
            && now.image_caption == nfc(a.image_caption.trim())
            && now.meta_description == nfc(a.meta_description.trim())
            && now.author == nfc(a.author.trim())
            && now.source == nfc(a.source.trim())
            && now.publish_at == a.publish_at
            && now.expire_at == a.expire_at
            && now.category_id == a.category_id
            && now.options() == a.options;
        if !same_text {
            return Ok(false);
        }
        let mut extra = a.extra_category_ids.clone();
        extra.retain(|c| *c != a.category_id);
        extra.sort_unstable();
        extra.dedup();
        let tags: Vec<String> = p.tags.into_iter().map(|(name, _)| name).collect();
        Ok(self.extra_categories(id).await? == extra && self.article_tags(id).await? == tags)
    }
}

impl Store {
    /// The other categories an article is listed in (its main one left out).
    pub async fn extra_categories(&self, id: ArticleId) -> Result<Vec<CategoryId>> {
        let rows = with_db!(self, |p| {
            sqlx::query_scalar::<_, CategoryId>(
                "SELECT ac.category_id FROM article_categories ac JOIN articles a ON a.id = ac.article_id
                 WHERE ac.article_id = $1 AND ac.category_id <> a.category_id ORDER BY ac.category_id",
            )
            .bind(id)
            .fetch_all(p)
            .await
        })?;
        Ok(rows)
    }
}
