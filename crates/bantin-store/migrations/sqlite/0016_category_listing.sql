-- Category pages walk one index per category of the tree, newest first, instead of every
-- article newest first checking its categories (which grew with the archive, and with the
-- page number). article_categories carries its article's status, publish and expiry times for that (the index covers
-- the walk: no article row is read until the page's own are chosen):
-- the INSERT fills them, this trigger keeps them in step. Keep the other flavour's
-- 0016_category_listing.sql in step.
ALTER TABLE article_categories ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE article_categories ADD COLUMN publish_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE article_categories ADD COLUMN expire_at BIGINT;
UPDATE article_categories SET status = a.status, publish_at = a.publish_at, expire_at = a.expire_at
  FROM articles a WHERE a.id = article_categories.article_id;
CREATE INDEX article_categories_listing
    ON article_categories(category_id, status, publish_at, article_id, expire_at);
CREATE TRIGGER article_categories_follow AFTER UPDATE OF status, publish_at, expire_at ON articles
    WHEN OLD.status IS NOT NEW.status OR OLD.publish_at IS NOT NEW.publish_at
      OR OLD.expire_at IS NOT NEW.expire_at
BEGIN
    UPDATE article_categories SET status = NEW.status, publish_at = NEW.publish_at, expire_at = NEW.expire_at
     WHERE article_id = NEW.id;
END;
