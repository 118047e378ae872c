-- no-transaction
-- The newsroom's workflow: eight statuses, what expiry does, rejection reasons, revisions (every
-- save keeps one; a save carries the revision it started from, so a stale one is refused),
-- edit locks kept alive by a heartbeat, and autosaved drafts. Keep
-- migrations/postgres/0007_workflow.sql in step.
--
-- SQLite cannot change a CHECK constraint: the articles table is rebuilt (the documented
-- twelve-step procedure), with foreign keys off and its own transaction, hence no-transaction.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE articles_new (
    id               INTEGER PRIMARY KEY,
    slug             TEXT NOT NULL,
    title            TEXT NOT NULL,
    lead             TEXT NOT NULL DEFAULT '',
    body_html        TEXT NOT NULL DEFAULT '',
    image_url        TEXT,
    image_alt        TEXT NOT NULL DEFAULT '',
    image_caption    TEXT NOT NULL DEFAULT '',
    author           TEXT NOT NULL DEFAULT '',
    source           TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('draft', 'pending', 'rejected', 'scheduled', 'published', 'unpublished', 'archived', 'trash')),
    publish_at       INTEGER NOT NULL,
    expire_at        INTEGER,
    category_id      INTEGER NOT NULL REFERENCES categories(id) ON DELETE RESTRICT,
    view_count       INTEGER NOT NULL DEFAULT 0,
    rating_total     INTEGER NOT NULL DEFAULT 0,
    rating_count     INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    created_by       INTEGER REFERENCES users(id) ON DELETE SET NULL,
    expiry_action    TEXT NOT NULL DEFAULT 'archive' CHECK (expiry_action IN ('archive', 'unpublish')),
    rejection_reason TEXT NOT NULL DEFAULT '',
    allow_rating     BOOLEAN NOT NULL DEFAULT TRUE,
    show_on_home     BOOLEAN NOT NULL DEFAULT TRUE,
    trashed_at       INTEGER,
    revision         INTEGER NOT NULL DEFAULT 1,
    updated_by       INTEGER REFERENCES users(id) ON DELETE SET NULL
);
INSERT INTO articles_new (id, slug, title, lead, body_html, image_url, image_alt, image_caption, author, source,
                          status, publish_at, expire_at, category_id, view_count, rating_total, rating_count,
                          created_at, updated_at, created_by)
SELECT id, slug, title, lead, body_html, image_url, image_alt, image_caption, author, source,
       status, publish_at, expire_at, category_id, view_count, rating_total, rating_count,
       created_at, updated_at, created_by
FROM articles;
DROP TABLE articles;
ALTER TABLE articles_new RENAME TO articles;
CREATE INDEX articles_category_time ON articles(category_id, status, publish_at, id);
CREATE INDEX articles_status_time ON articles(status, publish_at, id);
CREATE INDEX articles_status_expiry ON articles(status, expire_at);

-- One row per save: who, when, and the whole content, for history, diffs and restore.
CREATE TABLE article_revisions (
    id            INTEGER PRIMARY KEY,
    article_id    INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    revision      INTEGER NOT NULL,
    at            INTEGER NOT NULL,
    user_id       INTEGER REFERENCES users(id) ON DELETE SET NULL,
    status        TEXT NOT NULL,
    title         TEXT NOT NULL,
    lead          TEXT NOT NULL DEFAULT '',
    body_html     TEXT NOT NULL DEFAULT '',
    image_url     TEXT,
    image_alt     TEXT NOT NULL DEFAULT '',
    image_caption TEXT NOT NULL DEFAULT '',
    author        TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT '',
    category_id   INTEGER NOT NULL,
    publish_at    INTEGER NOT NULL,
    expire_at     INTEGER,
    note          TEXT NOT NULL DEFAULT '',
    UNIQUE (article_id, revision)
);

-- Who is editing an article; a lock whose heartbeat stopped is stale and may be taken.
CREATE TABLE edit_locks (
    -- BIGINT, not INTEGER: the article id is given, not a rowid SQLite would make up.
    article_id   BIGINT NOT NULL PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    acquired_at  INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);

-- The newest unsaved text of an article per account (autosave), kept until a real save.
CREATE TABLE article_autosaves (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    base_revision INTEGER NOT NULL,
    content    TEXT NOT NULL,
    PRIMARY KEY (article_id, user_id)
);

PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;
