//! The scheduler: when a published article's publish time arrives or its expiry passes, no
//! row changes, yet readers must see it appear or go. The scheduler announces each such moment
//! on the change feed once, even with several processes on one database: the window it
//! covers is recorded in `meta` in the same transaction, under a row lock.

use std::time::Duration;

use bantin_core::UnixTime;
use bantin_store::{ChangeKind, NewChange};

use crate::{App, Result};

/// The `meta` key holding the instant up to which transitions were announced.
const MARK: &str = "schedule_mark";

/// Announces scheduled publications and expiries.
#[derive(Clone, Debug)]
pub struct Scheduler {
    app: App,
}

impl Scheduler {
    /// A scheduler over the services' store and clock.
    pub fn new(app: App) -> Self {
        Self { app }
    }

    async fn mark(&self) -> Result<Option<UnixTime>> {
        Ok(self
            .app
            .store()
            .meta_get(MARK)
            .await?
            .and_then(|v| v.parse().ok())
            .map(UnixTime::from_second))
    }

    /// Publishes scheduled articles whose time has come and archives or unpublishes expired
    /// ones, each once however many processes tick (one statement flips each row), with a
    /// revision, an audit entry and a change-feed row; returns how many. Cheap when nothing is
    /// due: one indexed read.
    pub async fn run_workflow(&self) -> Result<usize> {
        let now = self.app.now();
        let store = self.app.store();
        if !store.workflow_due(now).await? {
            return Ok(0);
        }
        let mut tx = store.begin().await?;
        let published = tx.publish_due(now).await?;
        let expired = tx.expire_due(now).await?;
        let actor = crate::Actor::system();
        for (id, action) in published
            .iter()
            .map(|id| (id, "article.published_on_schedule"))
            .chain(expired.iter().map(|id| (id, "article.expired")))
        {
            tx.record_revision(*id, None, action, now).await?;
            let categories = tx
                .article_placement(*id)
                .await?
                .map(|p| p.categories)
                .unwrap_or_default();
            let change = NewChange {
                kind: ChangeKind::ArticleListed,
                article: Some(*id),
                categories,
            };
            tx.record_change(&change, now).await?;
            tx.audit(&actor.entry(action, &format!("article:{id}"), ""), now)
                .await?;
        }
        tx.commit().await?;
        let n = published.len() + expired.len();
        if n > 0 {
            tracing::info!(
                published = published.len(),
                expired = expired.len(),
                "scheduled workflow done"
            );
        }
        Ok(n)
    }

    /// Runs the workflow's timed steps ([`Scheduler::run_workflow`]), then announces what
    /// became visible or expired by time alone since the last announcement; returns how many
    /// articles. Cheap when nothing is due: indexed reads, no write.
    pub async fn tick(&self) -> Result<usize> {
        let moved = self.run_workflow().await?;
        let now = self.app.now();
        let store = self.app.store();
        // Everything read before the transaction: a pool read while holding SQLite's write lock
        // could wait for a connection that writers waiting on that lock hold.
        let seen = self.mark().await?;
        let due = match seen {
            Some(mark) if now <= mark => return Ok(moved),
            Some(mark) => store.visibility_transitions(mark, now).await?,
            None => Vec::new(),
        };
        if seen.is_some() && due.is_empty() {
            return Ok(moved);
        }
        let mut tx = store.begin().await?;
        let mark = tx
            .meta_get_for_update(MARK)
            .await?
            .and_then(|v| v.parse().ok())
            .map(UnixTime::from_second);
        if mark != seen {
            // Another process announced a window meanwhile; the next tick takes the rest.
            return Ok(moved);
        }
        for (article, categories) in &due {
            let change = NewChange {
                kind: ChangeKind::ArticleListed,
                article: Some(*article),
                categories: categories.clone(),
            };
            tx.record_change(&change, now).await?;
        }
        tx.meta_set(MARK, &now.as_second().to_string()).await?;
        tx.commit().await?;
        if !due.is_empty() {
            tracing::info!(
                articles = due.len(),
                "scheduled publications and expiries announced"
            );
        }
        Ok(moved + due.len())
    }

    /// Ticks every `every` until the task is dropped; errors are logged and retried.
    pub async fn run(self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "the scheduler failed; retrying");
            }
        }
    }
}
