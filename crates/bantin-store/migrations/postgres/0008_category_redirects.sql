-- Categories keep their old addresses: when a category's slug changes, the old slug is kept
-- here and its URLs answer 301 to the category's current ones. A slug is either a live
-- category's or a redirect's, never both (taking a slug deletes its redirect row). Keep
-- migrations/sqlite/0008_category_redirects.sql in step.
CREATE TABLE category_redirects (
    slug        TEXT NOT NULL PRIMARY KEY,
    category_id BIGINT NOT NULL REFERENCES categories(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL
);
CREATE INDEX category_redirects_category ON category_redirects(category_id);

-- Articles looked up by slug (checking that a slug is free).
CREATE INDEX articles_slug ON articles(slug);
