-- Tag pages list a tag's articles: read article_tags by tag. Keep the other flavour's
-- 0013_tag_listing.sql in step.
CREATE INDEX article_tags_tag ON article_tags(tag_id, article_id);
