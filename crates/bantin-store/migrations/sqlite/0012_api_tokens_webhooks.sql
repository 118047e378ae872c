-- API tokens and webhooks. Keep migrations/postgres/0012_api_tokens_webhooks.sql in step.

-- A token acts for its account with the account's rights at the time of each request (or
-- fewer: read_only). Like sessions, only the SHA-256 of the random token is stored.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    read_only    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT,
    last_used_ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- Addresses told about published, updated, unpublished and deleted articles. The secret signs
-- each delivery (HMAC-SHA256), so it is kept as given to the receiver.
CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    -- Comma-separated event names.
    events     TEXT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL
);

-- One row per event per webhook, written once (by whichever process reads the change feed
-- first, under a lock) and then delivered by whichever process claims its lease.
CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY,
    webhook_id   INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    change_id    BIGINT NOT NULL,
    event        TEXT NOT NULL,
    article_id   BIGINT,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts     BIGINT NOT NULL DEFAULT 0,
    next_at      BIGINT NOT NULL,
    lease_until  BIGINT NOT NULL DEFAULT 0,
    last_status  BIGINT,
    last_error   TEXT NOT NULL DEFAULT '',
    delivered_at BIGINT,
    UNIQUE (webhook_id, change_id, event)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_at);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);

-- Whether readers could see each article when the webhook feed last looked, so a change is
-- told as the event it was (published, updated, unpublished, deleted). No foreign key: a
-- deleted article's row is what tells that it was public.
CREATE TABLE webhook_article_state (
    article_id BIGINT NOT NULL PRIMARY KEY,
    public     BOOLEAN NOT NULL,
    revision   BIGINT NOT NULL
);
