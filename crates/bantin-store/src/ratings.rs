//! Rating votes: one per voter per article, a bounded number per address.

use bantin_core::{ArticleId, Rating, RatingSummary, UnixTime, Visibility};

use crate::{Result, Tx, with_tx};

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
    pub article_id: ArticleId,
    /// Durable voter key (from the signed voter cookie).
    pub voter: &'a str,
    /// Keyed hash of the voter's address (never the address itself).
    pub ip_hash: &'a str,
    /// Stars.
    pub rating: Rating,
}

impl Tx {
    /// Records a vote unless the voter already voted on this article or its address cast
    /// `per_address_limit` votes on it since `window_start`. Votes on articles readers cannot
    /// see are refused as not found. The count and the insert are atomic: concurrent votes
    /// from one address are serialised by [`Tx::lock`], so the cap holds exactly.
    pub async fn record_vote(
        &mut self,
        vote: Vote<'_>,
        now: UnixTime,
        window_start: UnixTime,
        per_address_limit: i64,
    ) -> Result<VoteOutcome> {
        self.lock(&format!("vote:{}:{}", vote.article_id, vote.ip_hash))
            .await?;
        let article = with_tx!(self, |c| {
            sqlx::query_as::<_, (String, UnixTime, Option<UnixTime>, i64, i64)>(
                "SELECT status, publish_at, expire_at, rating_total, rating_count FROM articles WHERE id = $1",
            )
            .bind(vote.article_id)
            .fetch_optional(&mut *c)
            .await
        })?;
        let Some((status, publish_at, expire_at, total, count)) = article else {
            return Ok(VoteOutcome::NotFound);
        };
        let visibility = Visibility {
            status: status
                .parse()
                .unwrap_or(bantin_core::ArticleStatus::Unpublished),
            publish_at,
            expire_at,
        };
        if !visibility.is_public(now) {
            return Ok(VoteOutcome::NotFound);
        }
        let current = RatingSummary { total, count };
        let (already, from_address) = with_tx!(self, |c| {
            sqlx::query_as::<_, (i64, i64)>(
                "SELECT
                     CAST(COALESCE(SUM(CASE WHEN voter = $2 THEN 1 ELSE 0 END), 0) AS BIGINT),
                     CAST(COALESCE(SUM(CASE WHEN ip_hash = $3 AND created_at >= $4 THEN 1 ELSE 0 END), 0) AS BIGINT)
                 FROM rating_votes WHERE article_id = $1",
            )
            .bind(vote.article_id)
            .bind(vote.voter)
            .bind(vote.ip_hash)
            .bind(window_start)
            .fetch_one(&mut *c)
            .await
        })?;
        if already > 0 {
            return Ok(VoteOutcome::AlreadyVoted(current));
        }
        if from_address >= per_address_limit {
            return Ok(VoteOutcome::AddressLimit(current));
        }
        with_tx!(self, |c| {
            let inserted = sqlx::query(
                "INSERT INTO rating_votes (article_id, voter, ip_hash, points, created_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (article_id, voter) DO NOTHING",
            )
            .bind(vote.article_id)
            .bind(vote.voter)
            .bind(vote.ip_hash)
            .bind(vote.rating.points())
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected();
            if inserted == 0 {
                // The same voter, concurrently, on another connection.
                return Ok(VoteOutcome::AlreadyVoted(current));
            }
            let (total, count): (i64, i64) = sqlx::query_as(
                "UPDATE articles SET rating_total = rating_total + $1, rating_count = rating_count + 1
                 WHERE id = $2 RETURNING rating_total, rating_count",
            )
            .bind(vote.rating.points())
            .bind(vote.article_id)
            .fetch_one(&mut *c)
            .await?;
            Ok(VoteOutcome::Recorded(RatingSummary { total, count }))
        })
    }
}
