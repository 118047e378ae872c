-- The media library: one row per stored picture or document. Files live in the media
-- storage under content-addressed names (`key`.`ext`, variants `key`-`width`.`ext|webp`);
-- `widths` lists the variant widths made at intake, comma-separated. `search` is the folded
-- (lower-case, no diacritics) file name, alt text and caption the library's search reads.
-- Keep migrations/postgres/0011_media.sql in step.
CREATE TABLE media (
    id            INTEGER PRIMARY KEY,
    media_key     TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL CHECK (kind IN ('image', 'document')),
    file_name     TEXT NOT NULL,
    ext           TEXT NOT NULL,
    mime          TEXT NOT NULL,
    bytes         INTEGER NOT NULL,
    width         INTEGER,
    height        INTEGER,
    widths        TEXT NOT NULL DEFAULT '',
    original_kept BOOLEAN NOT NULL DEFAULT FALSE,
    alt           TEXT NOT NULL DEFAULT '',
    caption       TEXT NOT NULL DEFAULT '',
    search        TEXT NOT NULL DEFAULT '',
    uploaded_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX media_created ON media(created_at);
CREATE INDEX media_uploaded_by ON media(uploaded_by);
