-- bantin schema, SQLite flavour. Instants are Unix seconds (UTC) in INTEGER columns so the
-- same queries run on PostgreSQL's BIGINT; keep migrations/postgres in step.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE categories (
    id          INTEGER PRIMARY KEY,
    parent_id   INTEGER REFERENCES categories(id) ON DELETE RESTRICT,
    slug        TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'hidden')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX categories_parent ON categories(parent_id, position);

CREATE TABLE articles (
    id            INTEGER PRIMARY KEY,
    slug          TEXT NOT NULL,
    title         TEXT NOT NULL,
    lead          TEXT NOT NULL DEFAULT '',
    body_html     TEXT NOT NULL DEFAULT '',
    image_url     TEXT,
    image_alt     TEXT NOT NULL DEFAULT '',
    image_caption TEXT NOT NULL DEFAULT '',
    author        TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('draft', 'pending', 'published', 'unpublished')),
    publish_at    INTEGER NOT NULL,
    expire_at     INTEGER,
    category_id   INTEGER NOT NULL REFERENCES categories(id) ON DELETE RESTRICT,
    view_count    INTEGER NOT NULL DEFAULT 0,
    rating_total  INTEGER NOT NULL DEFAULT 0,
    rating_count  INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX articles_category_time ON articles(category_id, status, publish_at, id);
CREATE INDEX articles_status_time ON articles(status, publish_at, id);

-- Every category an article is listed in, its main category included.
CREATE TABLE article_categories (
    article_id  INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    category_id INTEGER NOT NULL REFERENCES categories(id) ON DELETE CASCADE,
    PRIMARY KEY (article_id, category_id)
);
CREATE INDEX article_categories_category ON article_categories(category_id, article_id);

CREATE TABLE tags (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    slug TEXT NOT NULL UNIQUE
);

CREATE TABLE article_tags (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    tag_id     INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, tag_id)
);

-- One row per vote; the primary key is the one-vote-per-voter rule.
CREATE TABLE rating_votes (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    voter      TEXT NOT NULL,
    ip_hash    TEXT NOT NULL,
    points     INTEGER NOT NULL CHECK (points BETWEEN 1 AND 5),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (article_id, voter)
);
CREATE INDEX rating_votes_ip ON rating_votes(article_id, ip_hash, created_at);
