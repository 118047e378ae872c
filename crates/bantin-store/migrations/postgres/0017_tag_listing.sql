-- Tag pages walk one index of the tag, newest first, instead of every published article
-- newest first until enough carry the tag (a rare tag's page grew with the archive) or every
-- row of a popular tag, sorted. article_tags carries its article's status, publish and expiry
-- times for that, as article_categories does since 0016 (the index covers the walk: no
-- article row is read until the page's own are chosen): the INSERTs fill them, this trigger
-- keeps them in step. Keep the other flavour's 0017_tag_listing.sql in step.
ALTER TABLE article_tags
    ADD COLUMN status TEXT NOT NULL DEFAULT '',
    ADD COLUMN publish_at BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN expire_at BIGINT;
UPDATE article_tags at SET status = a.status, publish_at = a.publish_at, expire_at = a.expire_at
  FROM articles a WHERE a.id = at.article_id;
CREATE INDEX article_tags_listing
    ON article_tags(tag_id, status, publish_at, article_id, expire_at);
CREATE FUNCTION article_tags_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE article_tags SET status = NEW.status, publish_at = NEW.publish_at, expire_at = NEW.expire_at
     WHERE article_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER article_tags_follow AFTER UPDATE OF status, publish_at, expire_at ON articles
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.publish_at IS DISTINCT FROM NEW.publish_at
          OR OLD.expire_at IS DISTINCT FROM NEW.expire_at)
    EXECUTE FUNCTION article_tags_follow();
