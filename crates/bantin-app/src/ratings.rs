//! Rating votes from readers: the vote and its change-feed row (which purges that article's
//! page, and only it) in one transaction.

use bantin_core::{ArticleId, Rating};
use bantin_store::{ChangeKind, NewChange, Vote, VoteOutcome};

use crate::{App, Result};

/// A reader's vote.
#[derive(Clone, Copy, Debug)]
pub struct VoteRequest<'a> {
    /// The article.
    pub article: ArticleId,
    /// Durable voter key (from the signed voter cookie).
    pub voter: &'a str,
    /// Keyed hash of the voter's address.
    pub ip_hash: &'a str,
    /// Stars.
    pub rating: Rating,
}

impl App {
    /// Records a vote: once per voter per article, at most
    /// [`crate::Policy::rating_votes_per_address`] per address per article per window, only
    /// on articles readers can see.
    pub async fn vote(&self, v: VoteRequest<'_>) -> Result<VoteOutcome> {
        let now = self.now();
        let p = self.policy();
        let mut tx = self.store().begin().await?;
        let outcome = tx
            .record_vote(
                Vote {
                    article_id: v.article,
                    voter: v.voter,
                    ip_hash: v.ip_hash,
                    rating: v.rating,
                },
                now,
                now.minus(p.rating_window),
                p.rating_votes_per_address,
            )
            .await?;
        if matches!(outcome, VoteOutcome::Recorded(_)) {
            let change = NewChange {
                kind: ChangeKind::Rating,
                article: Some(v.article),
                categories: Vec::new(),
            };
            tx.record_change(&change, now).await?;
            tx.commit().await?;
        }
        Ok(outcome)
    }
}
