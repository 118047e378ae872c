//! Reader pages must cost the same on ten thousand articles as on a million: no query a
//! reader page runs may scan the articles table whole. Read from each database's own
//! planner (`EXPLAIN QUERY PLAN` on SQLite; `EXPLAIN` with sequential scans priced out on
//! PostgreSQL). Also: category listings follow status, publish and expiry changes, which
//! reach their index through a trigger.

use bantin_core::{ArticleId, ArticleStatus, CategoryId, CategoryStatus, Slug};
use bantin_store::{NewCategory, PlanSample, reader_queries};

use crate::helpers::{NOW, TestDb, article, category};

/// Whether a plan line reads every row of `articles` (alias `a` everywhere): SQLite says
/// `SCAN a` (with or without an index: a whole index is no better), PostgreSQL
/// `Seq Scan on articles`.
fn scans_articles(line: &str) -> bool {
    let l = line.trim_start_matches(['-', '>', ' ']);
    l.starts_with("SCAN a ")
        || l == "SCAN a"
        || l.starts_with("SCAN articles")
        || line.contains("Seq Scan on articles")
}

/// The steps of a plan that read the articles table whole: a scan, or a walk of every
/// published article (SQLite's `(status=? AND publish_at<?)` range) that cannot stop early:
/// its rows are sorted afterwards, or it runs once per row of something else (a correlated
/// subquery). A walk newest first under a LIMIT stops early and passes.
fn full_reads(plan: &[String]) -> Vec<&str> {
    let sorted = plan
        .iter()
        .any(|l| l.contains("USE TEMP B-TREE FOR ORDER BY"));
    plan.iter()
        .enumerate()
        .filter(|&(i, line)| {
            let every_published = line.trim_start().starts_with("SEARCH a USING INDEX")
                && line.ends_with("(status=? AND publish_at<?)");
            let correlated = i > 0 && plan[i - 1].contains("CORRELATED");
            scans_articles(line) || (every_published && (sorted || correlated))
        })
        .map(|(_, l)| l.as_str())
        .collect()
}

#[test]
fn the_full_read_rule_recognises_both_planners() {
    let plan = |lines: &[&str]| lines.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>();
    for scanning in [
        plan(&["SCAN a"]),
        plan(&["SCAN a USING INDEX articles_status_time"]),
        plan(&[
            "Limit",
            "  ->  Seq Scan on articles a  (cost=10000000000.00..1)",
        ]),
        plan(&[
            "SEARCH a USING INDEX articles_status_time (status=? AND publish_at<?)",
            "USE TEMP B-TREE FOR ORDER BY",
        ]),
        plan(&[
            "SCAN t USING INDEX sqlite_autoindex_tags_2",
            "CORRELATED SCALAR SUBQUERY 1",
            "SEARCH a USING INDEX articles_status_time (status=? AND publish_at<?)",
        ]),
    ] {
        assert!(!full_reads(&scanning).is_empty(), "{scanning:?}");
    }
    for fine in [
        plan(&[
            "SEARCH a USING INDEX articles_category_time (category_id=? AND status=? AND publish_at<?)",
        ]),
        plan(&["SEARCH a USING INDEX articles_status_time (status=? AND publish_at<?)"]),
        plan(&["SCAN ac USING INDEX article_categories_listing"]),
        plan(&["Index Scan Backward using articles_status_time on articles a"]),
    ] {
        assert!(full_reads(&fine).is_empty(), "{fine:?}");
    }
}

#[tokio::test]
async fn no_reader_page_query_scans_the_articles_table() {
    let db = TestDb::new(2).await;
    let mut tx = db.store.begin().await.unwrap();
    let parent = category(&mut tx, "tin-tuc").await;
    let position = tx.next_category_position(Some(parent)).await.unwrap();
    let child = tx
        .insert_category(
            &NewCategory {
                parent_id: Some(parent),
                slug: Slug::parse("tin-vui").unwrap(),
                title: "Tin vui".to_owned(),
                description: String::new(),
                position,
                status: CategoryStatus::Active,
            },
            NOW,
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..30 {
        let c = if i % 3 == 0 { child } else { parent };
        ids.push(article(&mut tx, c, &format!("Bài số {i}")).await);
    }
    tx.commit().await.unwrap();
    // PostgreSQL plans from statistics: give it some.
    if db.store.backend() == bantin_store::Backend::Postgres {
        db.raw.execute("ANALYZE").await.unwrap();
    }
    let a = db.store.article(ids[10]).await.unwrap().unwrap();
    let tree = [parent, child];
    let sample = PlanSample {
        now: NOW,
        article: &a,
        tree: &tree,
        tag: 1,
        author: "nguoi-viet",
    };
    let mut scanning = Vec::new();
    for q in reader_queries(&sample) {
        let plan = db.store.query_plan(&q).await.unwrap();
        assert!(!plan.is_empty(), "{} has no plan", q.name);
        if !full_reads(&plan).is_empty() {
            scanning.push(format!("{}:\n  {}", q.name, plan.join("\n  ")));
        }
    }
    assert!(
        scanning.is_empty(),
        "reader queries scanning articles:\n{}",
        scanning.join("\n")
    );
}

/// The ids category `c` lists at [`NOW`], and how many it counts.
async fn listing(db: &TestDb, c: CategoryId) -> (Vec<ArticleId>, i64) {
    let ids = db
        .store
        .category_articles(c, NOW, 10, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    (
        ids,
        db.store.category_article_count(c, NOW, 10).await.unwrap(),
    )
}

/// Moves `id` between two statuses through the store.
async fn set_status(db: &TestDb, id: ArticleId, from: ArticleStatus, to: ArticleStatus) {
    let mut tx = db.store.begin().await.unwrap();
    tx.set_article_status(id, from, to, "", None, NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn category_listings_follow_status_publish_and_expiry() {
    let db = TestDb::new(2).await;
    let mut tx = db.store.begin().await.unwrap();
    let c = category(&mut tx, "thoi-su").await;
    let first = article(&mut tx, c, "Bài một").await;
    let second = article(&mut tx, c, "Bài hai").await;
    tx.commit().await.unwrap();
    // Same publish time: the higher id first.
    assert_eq!(listing(&db, c).await, (vec![second, first], 2));

    use ArticleStatus::{Published, Unpublished};
    set_status(&db, first, Published, Unpublished).await;
    assert_eq!(listing(&db, c).await, (vec![second], 1));
    set_status(&db, first, Unpublished, Published).await;
    assert_eq!(listing(&db, c).await, (vec![second, first], 2));

    // Times changed behind the store's back (as any later write path might) reach the
    // listing too: the trigger keeps its index in step.
    for (sql, expected) in [
        (
            "UPDATE articles SET publish_at = publish_at + 60 WHERE title = 'Bài một'",
            (vec![first, second], 2),
        ),
        (
            "UPDATE articles SET publish_at = publish_at - 120 WHERE title = 'Bài một'",
            (vec![second, first], 2),
        ),
        // Scheduled in the future: not listed yet.
        (
            "UPDATE articles SET publish_at = 1800000000 WHERE title = 'Bài hai'",
            (vec![first], 1),
        ),
        // Expired: gone.
        (
            "UPDATE articles SET expire_at = 1600000000 WHERE title = 'Bài một'",
            (vec![], 0),
        ),
    ] {
        db.raw.execute(sql).await.unwrap();
        assert_eq!(listing(&db, c).await, expected, "{sql}");
    }
}
