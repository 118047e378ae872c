-- The change feed: one row for every committed change readers could see, written in the same
-- transaction as the change itself. Every process (page cache, later search and webhooks)
-- follows it from its last seen id. Keep migrations/postgres/0005_changes.sql in step.
-- AUTOINCREMENT: ids must never be reused after old rows are pruned.
CREATE TABLE changes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('article.listed', 'article.edited', 'rating', 'category', 'site')),
    article_id   INTEGER,
    -- Every category the change touches (before and after), comma-separated ids.
    category_ids TEXT NOT NULL DEFAULT ''
);
CREATE INDEX changes_at ON changes(at);

-- The scheduler asks which published articles appear or expire in a window of time.
CREATE INDEX articles_status_expiry ON articles(status, expire_at);
