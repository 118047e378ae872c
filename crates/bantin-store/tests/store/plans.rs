//! Reader pages must cost the same on ten thousand articles as on a million: no query a
//! reader page runs may scan the articles table whole. Read from each database's own
//! planner (`EXPLAIN QUERY PLAN` on SQLite; `EXPLAIN` with sequential scans priced out on
//! PostgreSQL); tag pages choose their articles from their own index. Also: category and
//! tag listings follow status, publish and expiry changes, which reach their indexes through
//! triggers.

use bantin_core::{
    ArticleId, ArticleStatus, CategoryId, CategoryStatus, Slug, TagId, UnixTime, Visibility,
};
use bantin_store::{NewCategory, PlanSample, reader_queries};

use crate::helpers::{NOW, TestDb, article, article_tagged, category};

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

/// The queries of a tag page.
const TAG_PAGE: [&str; 3] = ["tag_articles", "tag_count", "tag_author"];

/// What is wrong with a tag page query's plan: its articles must be chosen from the
/// `article_tags_listing` index alone, walked by tag, status and publish time (newest first:
/// the walk stops with the page), and only the chosen article rows read. Walking every
/// published article newest first until enough carry the tag reads the whole archive for a
/// rare tag; reading the tag's rows by another index reads all of a popular tag's, to sort
/// them.
fn off_tag_index(plan: &[String]) -> Vec<String> {
    let mut wrong = Vec::new();
    let walks_listing = plan.iter().enumerate().any(|(i, l)| {
        l.contains("article_tags_listing (tag_id=? AND status=? AND publish_at<?)")
            || (l.contains("using article_tags_listing on article_tags at")
                && plan.get(i + 1).is_some_and(|c| {
                    c.contains("Index Cond: ((tag_id = ")
                        && c.contains("(status = ")
                        && c.contains("(publish_at <= ")
                }))
    });
    if !walks_listing {
        wrong.push("article_tags_listing is not walked by tag, status and time".to_owned());
    }
    for l in plan {
        let t = l.trim_start_matches(['-', '>', ' ']);
        // SQLite: the tag's rows by another index; articles other than by id.
        let sqlite_tag_rows = (t.starts_with("SEARCH at ") || t.starts_with("SCAN at"))
            && !t.contains("article_tags_listing");
        let sqlite_articles = (t.starts_with("SEARCH a ") || t.starts_with("SCAN a"))
            && !t.starts_with("SEARCH a USING INTEGER PRIMARY KEY");
        // PostgreSQL: the same; a hash join over published articles (which it picks for the
        // test's few rows) is not a walk in publish order and is left to the general rule.
        let postgres_tag_rows =
            l.contains("on article_tags at") && !l.contains("article_tags_listing");
        let postgres_articles = l.contains("using articles_status_time on articles a");
        if sqlite_tag_rows || sqlite_articles || postgres_tag_rows || postgres_articles {
            wrong.push(l.clone());
        }
    }
    wrong
}

#[test]
fn the_tag_index_rule_recognises_both_planners() {
    let plan = |lines: &[&str]| lines.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>();
    for off in [
        // Every published article newest first, looking for the tag's.
        plan(&[
            "SEARCH a USING INDEX articles_status_time (status=? AND publish_at<?)",
            "SEARCH at USING COVERING INDEX sqlite_autoindex_article_tags_1 (article_id=? AND tag_id=?)",
        ]),
        // All of the tag's rows, sorted.
        plan(&[
            "SEARCH at USING COVERING INDEX article_tags_tag (tag_id=?)",
            "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)",
            "USE TEMP B-TREE FOR ORDER BY",
        ]),
        plan(&[
            "Limit",
            "  ->  Nested Loop",
            "        ->  Index Scan Backward using articles_status_time on articles a",
            "              Index Cond: ((status = 'published'::text) AND (publish_at <= '1'::bigint))",
            "        ->  Index Only Scan using article_tags_tag on article_tags at",
            "              Index Cond: ((tag_id = '1'::bigint) AND (article_id = a.id))",
        ]),
        // The listing index by tag only: every row of the tag, to sort.
        plan(&[
            "Sort",
            "  ->  Index Only Scan using article_tags_listing on article_tags at",
            "        Index Cond: (tag_id = '1'::bigint)",
        ]),
    ] {
        assert!(!off_tag_index(&off).is_empty(), "{off:?}");
    }
    for fine in [
        plan(&[
            "CO-ROUTINE p",
            "SEARCH at USING COVERING INDEX article_tags_listing (tag_id=? AND status=? AND publish_at<?)",
            "SCAN p",
            "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)",
            "USE TEMP B-TREE FOR ORDER BY",
        ]),
        plan(&[
            "Aggregate",
            "  ->  Limit",
            "        ->  Index Only Scan Backward using article_tags_listing on article_tags at",
            "              Index Cond: ((tag_id = '1'::bigint) AND (status = 'published'::text) AND (publish_at <= '1'::bigint))",
        ]),
    ] {
        assert!(off_tag_index(&fine).is_empty(), "{fine:?}");
    }
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
    let queries = reader_queries(&sample);
    for name in TAG_PAGE {
        assert!(
            queries.iter().any(|q| q.name == name),
            "{name} is not checked"
        );
    }
    for q in queries {
        let plan = db.store.query_plan(&q).await.unwrap();
        assert!(!plan.is_empty(), "{} has no plan", q.name);
        let mut wrong: Vec<String> = full_reads(&plan).into_iter().map(str::to_owned).collect();
        if TAG_PAGE.contains(&q.name) {
            wrong.extend(off_tag_index(&plan));
        }
        if !wrong.is_empty() {
            scanning.push(format!(
                "{} ({}):\n  {}",
                q.name,
                wrong.join("; "),
                plan.join("\n  ")
            ));
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

/// The ids tag `tag` lists at `at`, and how many it counts.
async fn tag_listing(db: &TestDb, tag: TagId, at: UnixTime) -> (Vec<ArticleId>, i64) {
    let ids = db
        .store
        .tag_articles(tag.get(), at, 10, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    (
        ids,
        db.store.tag_article_count(tag.get(), at, 10).await.unwrap(),
    )
}

/// Sets `id`'s status and times through the store.
async fn set_visibility(
    db: &TestDb,
    id: ArticleId,
    status: ArticleStatus,
    publish_at: UnixTime,
    expire_at: Option<UnixTime>,
) {
    let v = Visibility {
        status,
        publish_at,
        expire_at,
    };
    let mut tx = db.store.begin().await.unwrap();
    assert!(tx.set_article_visibility(id, &v, NOW).await.unwrap());
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn tag_listings_follow_status_publish_expiry_trash_and_merges() {
    use ArticleStatus::{Draft, Published, Scheduled, Trash, Unpublished};
    let db = TestDb::new(2).await;
    let mut tx = db.store.begin().await.unwrap();
    let c = category(&mut tx, "thoi-su").await;
    // `article` tags each "Thử", published an hour ago.
    let first = article(&mut tx, c, "Bài một").await;
    let second = article(&mut tx, c, "Bài hai").await;
    let third = article_tagged(&mut tx, c, "Bài ba", &["Khác"]).await;
    tx.commit().await.unwrap();
    let thu = db.store.tag_by_name("Thử").await.unwrap().unwrap();
    let khac = db.store.tag_by_name("Khác").await.unwrap().unwrap();
    let both = (vec![second, first], 2);
    // Same publish time: the higher id first.
    assert_eq!(tag_listing(&db, thu, NOW).await, both);

    // Unpublished, published again.
    set_status(&db, first, Published, Unpublished).await;
    assert_eq!(tag_listing(&db, thu, NOW).await, (vec![second], 1));
    set_status(&db, first, Unpublished, Published).await;
    assert_eq!(tag_listing(&db, thu, NOW).await, both);

    // Scheduled an hour ahead: not listed now; the scheduler publishes it when due, newest.
    set_visibility(&db, first, Scheduled, NOW.plus(3600), None).await;
    assert_eq!(tag_listing(&db, thu, NOW).await, (vec![second], 1));
    let later = NOW.plus(7200);
    let mut tx = db.store.begin().await.unwrap();
    assert_eq!(tx.publish_due(later).await.unwrap(), vec![first]);
    tx.commit().await.unwrap();
    assert_eq!(tag_listing(&db, thu, NOW).await, (vec![second], 1));
    assert_eq!(tag_listing(&db, thu, later).await, (vec![first, second], 2));

    // Expiring: gone once past its expiry, and still after the expiry run archives it.
    set_visibility(&db, first, Published, NOW.minus(3600), Some(NOW.plus(60))).await;
    assert_eq!(tag_listing(&db, thu, NOW).await, both);
    assert_eq!(tag_listing(&db, thu, NOW.plus(60)).await, (vec![second], 1));
    let mut tx = db.store.begin().await.unwrap();
    assert_eq!(tx.expire_due(NOW.plus(60)).await.unwrap(), vec![first]);
    tx.commit().await.unwrap();
    assert_eq!(tag_listing(&db, thu, NOW).await, (vec![second], 1));
    set_visibility(&db, first, Published, NOW.minus(3600), None).await;
    assert_eq!(tag_listing(&db, thu, NOW).await, both);

    // Trashed, restored.
    set_status(&db, second, Published, Trash).await;
    assert_eq!(tag_listing(&db, thu, NOW).await, (vec![first], 1));
    set_status(&db, second, Trash, Published).await;
    assert_eq!(tag_listing(&db, thu, NOW).await, both);

    // Changed behind the store's back: the trigger keeps the index in step.
    for (sql, expected) in [
        (
            "UPDATE articles SET status = 'draft' WHERE title = 'Bài hai'",
            (vec![first], 1),
        ),
        (
            "UPDATE articles SET status = 'published' WHERE title = 'Bài hai'",
            both.clone(),
        ),
        (
            "UPDATE articles SET publish_at = publish_at + 60 WHERE title = 'Bài một'",
            (vec![first, second], 2),
        ),
        (
            "UPDATE articles SET publish_at = publish_at - 60 WHERE title = 'Bài một'",
            both.clone(),
        ),
    ] {
        db.raw.execute(sql).await.unwrap();
        assert_eq!(tag_listing(&db, thu, NOW).await, expected, "{sql}");
    }

    // Merged into "Khác" while the first is a draft: its row keeps the draft out, and follows
    // it when published.
    set_status(&db, first, Published, Draft).await;
    let mut tx = db.store.begin().await.unwrap();
    assert!(tx.merge_tags(thu, khac).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(tag_listing(&db, thu, NOW).await, (vec![], 0));
    assert_eq!(tag_listing(&db, khac, NOW).await, (vec![third, second], 2));
    set_status(&db, first, Draft, Published).await;
    assert_eq!(
        tag_listing(&db, khac, NOW).await,
        (vec![third, second, first], 3)
    );
}
