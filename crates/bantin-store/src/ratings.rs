//! Rating votes: one per voter per article, a bounded number per address.

use bantin_core::{Rating, RatingSummary};

use crate::{Result, Store, StoreError, with_db};

/// What became of a vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteOutcome {
    /// Counted; the new totals.
    Recorded(RatingSummary),
    /// This voter already voted on this article; nothing changed.
    AlreadyVoted(RatingSummary),
    /// Too many votes on this article from the voter's address lately; nothing changed.
    AddressLimit(RatingSummary),
    /// No such article, or readers may not see it.
    NotFound,
}

/// A vote to record.
#[derive(Clone, Copy, Debug)]
pub struct Vote<'a> {
    /// Article voted on.
    pub article_id: i64,
    /// Durable voter key (from the signed voter cookie).
    pub voter: &'a str,
    /// Keyed hash of the voter's address (never the address itself).
    pub ip_hash: &'a str,
    /// Stars.
    pub rating: Rating,
}

impl Store {
    /// Records a vote unless the voter already voted on this article or its address cast
    /// `per_address_limit` votes on it since `window_start`. Votes on articles readers cannot
    /// see are refused as not found.
    pub async fn record_vote(
        &self,
        vote: Vote<'_>,
        now: i64,
        window_start: i64,
        per_address_limit: i64,
    ) -> Result<VoteOutcome> {
        let Some(article) = self.article(vote.article_id).await? else {
            return Ok(VoteOutcome::NotFound);
        };
        if !article.visibility().is_public(now) {
            return Ok(VoteOutcome::NotFound);
        }
        let current = article.rating();
        let (already, from_address) = with_db!(self, |p| {
            sqlx::query_as::<_, (i64, i64)>(
            "SELECT
                 CAST(COALESCE(SUM(CASE WHEN voter = $2 THEN 1 ELSE 0 END), 0) AS BIGINT),
                 CAST(COALESCE(SUM(CASE WHEN ip_hash = $3 AND created_at >= $4 THEN 1 ELSE 0 END), 0) AS BIGINT)
             FROM rating_votes WHERE article_id = $1"
        )
        .bind(vote.article_id)
        .bind(vote.voter)
        .bind(vote.ip_hash)
        .bind(window_start)
        .fetch_one(p)
        .await
        })?;
        if already > 0 {
            return Ok(VoteOutcome::AlreadyVoted(current));
        }
        if from_address >= per_address_limit {
            return Ok(VoteOutcome::AddressLimit(current));
        }
        // Write first inside the transaction: on SQLite a transaction that reads before it
        // writes can fail to upgrade its lock under concurrent votes.
        let outcome = with_db!(self, |p| {
            let mut tx = p.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO rating_votes (article_id, voter, ip_hash, points, created_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (article_id, voter) DO NOTHING",
            )
            .bind(vote.article_id)
            .bind(vote.voter)
            .bind(vote.ip_hash)
            .bind(vote.rating.points())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                tx.rollback().await?;
                return Ok(VoteOutcome::AlreadyVoted(current));
            }
            let (total, count): (i64, i64) = sqlx::query_as(
                "UPDATE articles SET rating_total = rating_total + $1, rating_count = rating_count + 1
                 WHERE id = $2 RETURNING rating_total, rating_count",
            )
            .bind(vote.rating.points())
            .bind(vote.article_id)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<VoteOutcome, StoreError>(VoteOutcome::Recorded(RatingSummary { total, count }))
        })?;
        if matches!(outcome, VoteOutcome::Recorded(_)) {
            self.bump();
        }
        Ok(outcome)
    }
}
