-- A new-article form carries a random key; the article it created is kept under it, so a
-- double-clicked or resent form finds that article instead of creating a second one.
-- Keep migrations/postgres/0009_article_form_keys.sql in step.
CREATE TABLE article_form_keys (
    form_key   TEXT NOT NULL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX article_form_keys_created ON article_form_keys(created_at);
