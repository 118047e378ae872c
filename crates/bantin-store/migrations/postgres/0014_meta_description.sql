-- A per-article meta description: what search engines and social shares show instead of the
-- lead when the newsroom writes one (empty: the lead is used). Revisions keep it too, so
-- history, diffs and restore carry it. Keep migrations/sqlite/0014_meta_description.sql in
-- step.
ALTER TABLE articles ADD COLUMN meta_description TEXT NOT NULL DEFAULT '';
ALTER TABLE article_revisions ADD COLUMN meta_description TEXT NOT NULL DEFAULT '';
