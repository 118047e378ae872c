-- Sessions, sign-in failures, two-step codes, category rights and the audit log.
-- Keep migrations/postgres/0003_sessions.sql in step.
ALTER TABLE users ADD COLUMN all_categories BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN totp_secret TEXT;
-- The last time step a two-step code was accepted for, so no code works twice.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN created_by INTEGER REFERENCES users(id) ON DELETE SET NULL;

-- The categories an editor or editor-in-chief may act in when not all_categories.
CREATE TABLE user_categories (
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    category_id INTEGER NOT NULL REFERENCES categories(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, category_id)
);

-- Server-side sessions; the cookie holds a random token, the table only its SHA-256.
CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_failures (
    username TEXT NOT NULL,
    ip       TEXT NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX login_failures_pair ON login_failures(username, ip, at);

-- One-time backup codes of two-step sign-in, stored hashed.
CREATE TABLE backup_codes (
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (user_id, code_hash)
);

-- Who did what, when and from where. The application only ever inserts.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    user_id  INTEGER,
    username TEXT NOT NULL DEFAULT '',
    action   TEXT NOT NULL,
    target   TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT '',
    ip       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log(at, id);
CREATE INDEX audit_log_user ON audit_log(user_id, at);
CREATE INDEX audit_log_action ON audit_log(action, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
