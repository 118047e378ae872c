-- Tag pages walk one index of the tag, newest first, instead of every published article
-- newest first until enough carry the tag (a rare tag's page grew with the archive) or every
-- row of a popular tag, sorted. article_tags carries its article's status, publish and expiry
-- times for that, as article_categories does since 0016 (the index covers the walk: no
-- article row is read until the page's own are chosen): the INSERTs fill them, this trigger
-- keeps them in step. Keep the other flavour's 0017_tag_listing.sql in step.
ALTER TABLE article_tags ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE article_tags ADD COLUMN publish_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE article_tags ADD COLUMN expire_at BIGINT;
UPDATE article_tags SET status = a.status, publish_at = a.publish_at, expire_at = a.expire_at
  FROM articles a WHERE a.id = article_tags.article_id;
CREATE INDEX article_tags_listing
    ON article_tags(tag_id, status, publish_at, article_id, expire_at);
CREATE TRIGGER article_tags_follow AFTER UPDATE OF status, publish_at, expire_at ON articles
    WHEN OLD.status IS NOT NEW.status OR OLD.publish_at IS NOT NEW.publish_at
      OR OLD.expire_at IS NOT NEW.expire_at
BEGIN
    UPDATE article_tags SET status = NEW.status, publish_at = NEW.publish_at, expire_at = NEW.expire_at
     WHERE article_id = NEW.id;
END;
