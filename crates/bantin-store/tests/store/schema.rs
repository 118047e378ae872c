//! The two migration folders build the same schema, as `Store::schema` describes it; and the
//! description is complete and sharp enough for that comparison to mean something.

use std::collections::BTreeSet;

use bantin_store::SchemaItem;

use crate::helpers::{TestDb, postgres_url};

async fn describe(db: &TestDb) -> BTreeSet<String> {
    let items: Vec<SchemaItem> = db.store.schema().await.expect("describe the schema");
    let n = items.len();
    let set: BTreeSet<String> = items.into_iter().map(|SchemaItem(s)| s).collect();
    assert_eq!(set.len(), n, "schema() repeats items");
    set
}

/// Facts every migrated database must show, one of each kind the description covers.
const EXPECTED: &[&str] = &[
    "column users.username text not null",
    "column users.active boolean not null default true",
    "column users.totp_secret text null",
    "column users.id integer not null generated",
    "column categories.status text not null default 'active'",
    "column changes.id integer not null generated",
    "column changes.category_ids text not null default ''",
    "column rating_votes.points integer not null",
    "primary key rating_votes(article_id,voter)",
    "primary key meta(key)",
    "unique index users(username)",
    "unique index sessions(token_hash)",
    "index articles(category_id,status,publish_at,id)",
    "index changes(at)",
    "foreign key articles(category_id) -> categories(id) on update no action on delete restrict",
    "foreign key articles(created_by) -> users(id) on update no action on delete set null",
    "foreign key sessions(user_id) -> users(id) on update no action on delete cascade",
    "check rating_votes: ((points >= 1) AND (points <= 5))",
    "check users: (role IN ('administrator', 'editor-in-chief', 'editor'))",
    "check changes: (kind IN ('article.listed', 'article.edited', 'rating', 'category', 'site'))",
    "trigger audit_log before update for each row",
    "trigger audit_log before delete for each row",
];

fn check_sanity(backend: &str, items: &BTreeSet<String>) {
    let missing: Vec<_> = EXPECTED.iter().filter(|e| !items.contains(**e)).collect();
    assert!(missing.is_empty(), "{backend} lacks {missing:#?}");
    // Whatever the normaliser could not read must show, not vanish.
    let unread: Vec<_> = items
        .iter()
        .filter(|i| i.contains("unparsed") || i.contains("unknown type"))
        .collect();
    assert!(unread.is_empty(), "{backend}: {unread:#?}");
    // Bookkeeping tables stay out, and no table lacks a described column.
    assert!(
        !items
            .iter()
            .any(|i| i.contains("_sqlx_") || i.contains("sqlite_"))
    );
    for table in [
        "login_failures",
        "audit_log",
        "password_resets",
        "backup_codes",
    ] {
        assert!(
            items
                .iter()
                .any(|i| i.starts_with(&format!("column {table}."))),
            "{backend}: no columns of {table}"
        );
    }
}

#[tokio::test]
async fn sqlite_and_postgres_build_the_same_schema() {
    let sqlite = TestDb::sqlite(1).await;
    let lite = describe(&sqlite).await;
    check_sanity("SQLite", &lite);
    let Some(base) = postgres_url() else {
        return;
    };
    let pg = TestDb::postgres(&base, 1).await;
    let post = describe(&pg).await;
    check_sanity("PostgreSQL", &post);
    let only_sqlite: Vec<_> = lite.difference(&post).collect();
    let only_postgres: Vec<_> = post.difference(&lite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the migration folders disagree\nonly on SQLite: {only_sqlite:#?}\nonly on PostgreSQL: {only_postgres:#?}"
    );
}

/// The comparison can fail: a change of each kind shows in the description.
#[tokio::test]
async fn the_description_notices_a_schema_change() {
    let db = TestDb::new(1).await;
    let before = describe(&db).await;
    for ddl in [
        "CREATE TABLE extra (n BIGINT NOT NULL DEFAULT 3 CHECK (n BETWEEN 1 AND 9), t TEXT)",
        "CREATE UNIQUE INDEX extra_t ON extra(t)",
        "ALTER TABLE meta ADD COLUMN note TEXT NOT NULL DEFAULT 'x'",
    ] {
        db.raw.execute(ddl).await.unwrap();
    }
    let after = describe(&db).await;
    let added: Vec<_> = after.difference(&before).map(String::as_str).collect();
    assert_eq!(
        added,
        [
            "check extra: ((n >= 1) AND (n <= 9))",
            "column extra.n integer not null default 3",
            "column extra.t text null",
            "column meta.note text not null default 'x'",
            "unique index extra(t)",
        ]
    );
    assert!(before.is_subset(&after));
}
