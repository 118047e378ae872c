//! Small key–value facts about the installation (its signing secret, whether it was set up).

use crate::{Result, Store, Tx, with_db, with_tx};

impl Store {
    /// Reads a meta value.
    pub async fn meta_get(&self, key: &str) -> Result<Option<String>> {
        let v = with_db!(self, |p| sqlx::query_scalar::<_, String>(
            "SELECT value FROM meta WHERE key = $1"
        )
        .bind(key)
        .fetch_optional(p)
        .await)?;
        Ok(v)
    }

    /// Writes a meta value only if the key is absent; returns the value now stored. Several
    /// nodes starting at once therefore agree on one value.
    pub async fn meta_get_or_insert(&self, key: &str, value: &str) -> Result<String> {
        with_db!(self, |p| sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING"
        )
        .bind(key)
        .bind(value)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(self
            .meta_get(key)
            .await?
            .unwrap_or_else(|| value.to_owned()))
    }
}

impl Tx {
    /// Reads a meta value inside the transaction, locking its row on PostgreSQL so a
    /// read-then-write (the scheduler's mark) happens once across processes. SQLite
    /// transactions are serialised already.
    pub async fn meta_get_for_update(&mut self, key: &str) -> Result<Option<String>> {
        let v = match &mut self.inner {
            crate::TxInner::Sqlite(t) => {
                sqlx::query_scalar::<_, String>("SELECT value FROM meta WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&mut **t)
                    .await?
            }
            crate::TxInner::Postgres(t) => {
                sqlx::query_scalar::<_, String>("SELECT value FROM meta WHERE key = $1 FOR UPDATE")
                    .bind(key)
                    .fetch_optional(&mut **t)
                    .await?
            }
        };
        Ok(v)
    }

    /// Writes a meta value.
    pub async fn meta_set(&mut self, key: &str, value: &str) -> Result<()> {
        with_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *c)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }
}
