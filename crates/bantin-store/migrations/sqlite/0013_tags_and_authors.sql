-- Tag pages list a tag's articles: read article_tags by tag. Keep the other flavour's
-- 0013_tags_and_authors.sql in step.
CREATE INDEX article_tags_tag ON article_tags(tag_id, article_id);

-- Author pages list the articles of one author line, by its slug (filled by the application:
-- the slug rule is Rust's).
ALTER TABLE articles ADD COLUMN author_slug TEXT NOT NULL DEFAULT '';
CREATE INDEX articles_author ON articles(author_slug, status, publish_at);
