//! The category tree's writes (renames keep redirects, no cycles, reordering among siblings)
//! and tags (rename, merge without duplicate rows, suggestions with and without diacritics).

use bantin_core::{CategoryId, CategoryStatus, Slug, TagId};
use bantin_store::{CategoryUpdate, CategoryUpdated, Direction, NewCategory, StoreError, Tx};

use crate::helpers::{NOW, TestDb, article, category};

fn update(parent: Option<CategoryId>, slug: &str) -> CategoryUpdate {
    CategoryUpdate {
        parent_id: parent,
        slug: Slug::parse(slug).unwrap(),
        title: format!("Chuyên mục {slug}"),
        description: String::new(),
        status: CategoryStatus::Active,
    }
}

async fn child(tx: &mut Tx, parent: CategoryId, slug: &str) -> CategoryId {
    let position = tx.next_category_position(Some(parent)).await.unwrap();
    tx.insert_category(
        &NewCategory {
            parent_id: Some(parent),
            slug: Slug::parse(slug).unwrap(),
            title: slug.to_owned(),
            description: String::new(),
            position,
            status: CategoryStatus::Active,
        },
        NOW,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn renames_keep_redirects_and_a_slug_is_live_or_redirected_never_both() {
    let db = TestDb::new(2).await;
    let mut tx = db.store.begin().await.unwrap();
    let a = category(&mut tx, "tin-tuc").await;
    let b = category(&mut tx, "su-kien").await;
    let r = tx
        .update_category(a, &update(None, "tin-moi"), NOW)
        .await
        .unwrap();
    assert!(matches!(r, CategoryUpdated::Updated(before) if before.slug == "tin-tuc"));
    // Renamed again: both old slugs lead to it.
    tx.update_category(a, &update(None, "tin-nong"), NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Another category's slug is a conflict (which ends a PostgreSQL transaction).
    let mut tx = db.store.begin().await.unwrap();
    assert!(matches!(
        tx.update_category(a, &update(None, "su-kien"), NOW).await,
        Err(StoreError::Conflict)
    ));
    drop(tx);
    for old in ["tin-tuc", "tin-moi"] {
        assert_eq!(db.store.category_redirect(old).await.unwrap(), Some(a));
    }
    assert_eq!(db.store.category_redirect("tin-nong").await.unwrap(), None);

    // Taking an old slug back removes its redirect row; so does another category taking one.
    let mut tx = db.store.begin().await.unwrap();
    tx.update_category(a, &update(None, "tin-tuc"), NOW)
        .await
        .unwrap();
    tx.update_category(b, &update(None, "tin-moi"), NOW)
        .await
        .unwrap();
    let c = category(&mut tx, "tin-nong").await;
    tx.commit().await.unwrap();
    assert_eq!(db.store.category_redirect("tin-tuc").await.unwrap(), None);
    assert_eq!(db.store.category_redirect("tin-moi").await.unwrap(), None);
    assert_eq!(db.store.category_redirect("tin-nong").await.unwrap(), None);
    assert_eq!(
        db.store.category_redirect("su-kien").await.unwrap(),
        Some(b)
    );
    let live: Vec<String> = db
        .store
        .categories()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.slug)
        .collect();
    for (slug, _) in db.store.category_redirects().await.unwrap() {
        assert!(!live.contains(&slug), "{slug} is live and redirected");
    }
    assert!(db.store.category(c).await.unwrap().is_some());
}

#[tokio::test]
async fn a_category_cannot_go_under_itself_or_its_descendants() {
    let db = TestDb::new(2).await;
    let mut tx = db.store.begin().await.unwrap();
    let top = category(&mut tx, "top").await;
    let mid = child(&mut tx, top, "mid").await;
    let low = child(&mut tx, mid, "low").await;
    let other = category(&mut tx, "other").await;
    for parent in [top, mid, low] {
        assert!(
            matches!(
                tx.update_category(top, &update(Some(parent), "top"), NOW)
                    .await
                    .unwrap(),
                CategoryUpdated::Cycle
            ),
            "top under {parent}"
        );
    }
    // Under a sibling tree is fine, and it goes last there.
    let moved = tx
        .update_category(mid, &update(Some(other), "mid"), NOW)
        .await
        .unwrap();
    assert!(matches!(moved, CategoryUpdated::Updated(_)));
    assert!(matches!(
        tx.update_category(CategoryId::new(999_999), &update(None, "x"), NOW)
            .await
            .unwrap(),
        CategoryUpdated::Missing
    ));
    tx.commit().await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    assert!(matches!(
        tx.update_category(low, &update(Some(CategoryId::new(999_999)), "low"), NOW)
            .await,
        Err(StoreError::UnknownReference)
    ));
    drop(tx);
    let mid_row = db.store.category(mid).await.unwrap().unwrap();
    assert_eq!(mid_row.parent_id, Some(other));
}

#[tokio::test]
async fn moving_swaps_neighbours_and_renumbers_siblings() {
    let db = TestDb::new(2).await;
    let mut tx = db.store.begin().await.unwrap();
    // Three top-level categories all at position 0: ordered by id until renumbered.
    let a = category(&mut tx, "a").await;
    let b = category(&mut tx, "b").await;
    let c = category(&mut tx, "c").await;
    assert_eq!(
        tx.move_category(c, Direction::Up, NOW).await.unwrap(),
        Some(true)
    );
    assert_eq!(
        tx.move_category(a, Direction::Up, NOW).await.unwrap(),
        Some(false)
    );
    assert_eq!(
        tx.move_category(b, Direction::Down, NOW).await.unwrap(),
        Some(false),
        "b is last now"
    );
    assert_eq!(
        tx.move_category(CategoryId::new(999_999), Direction::Up, NOW)
            .await
            .unwrap(),
        None
    );
    tx.commit().await.unwrap();
    let order: Vec<(CategoryId, i64)> = db
        .store
        .categories()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.position))
        .collect();
    assert_eq!(order, vec![(a, 0), (c, 1), (b, 2)]);
}

async fn tag_id(db: &TestDb, name: &str) -> TagId {
    db.store
        .tag_by_name(name)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no tag {name}"))
}

#[tokio::test]
async fn tags_rename_merge_and_suggest() {
    let db = TestDb::new(2).await;
    let mut tx = db.store.begin().await.unwrap();
    let cat = category(&mut tx, "tin").await;
    // `article` tags each article "Thử".
    let one = article(&mut tx, cat, "Bài một").await;
    let two = article(&mut tx, cat, "Bài hai").await;
    tx.commit().await.unwrap();
    let thu = tag_id(&db, "Thử").await;

    // A second tag on the first article only: "Giáo dục".
    let other = {
        let mut tx = db.store.begin().await.unwrap();
        let slug = Slug::parse("giao-duc").unwrap();
        // Renaming "Thử" to a name whose slug another tag has is a conflict; build one.
        let a = db.store.article(one).await.unwrap().unwrap();
        let mut new = bantin_store::NewArticle {
            title: a.title.clone(),
            slug: Slug::parse(&a.slug).unwrap(),
            lead: a.lead.clone(),
            body: a.body(),
            image_url: None,
            image_alt: String::new(),
            image_caption: String::new(),
            meta_description: String::new(),
            author: String::new(),
            source: String::new(),
            tags: vec!["Thử".to_owned(), "Giáo dục".to_owned()],
            status: a.status(),
            publish_at: a.publish_at,
            expire_at: None,
            category_id: cat,
            extra_category_ids: Vec::new(),
            options: Default::default(),
        };
        tx.update_article(one, &new, None, None, NOW).await.unwrap();
        new.tags = vec!["Giáo viên".to_owned()];
        new.title = "Bài ba".to_owned();
        new.slug = Slug::parse("bai-ba").unwrap();
        tx.insert_article(&new, None, NOW).await.unwrap();
        tx.commit().await.unwrap();
        let id = tag_id(&db, "Giáo dục").await;
        assert_eq!(db.store.tag(id).await.unwrap().unwrap().slug, slug.as_str());
        id
    };

    // Suggestions: by prefix, with or without diacritics, exact spellings first.
    for typed in ["Giáo", "giáo", "giao", "GIAO", "gi"] {
        let got = db.store.tag_suggestions(typed, 10).await.unwrap();
        assert_eq!(got.len(), 2, "{typed}: {got:?}");
        assert!(got.contains(&"Giáo dục".to_owned()), "{typed}: {got:?}");
    }
    assert_eq!(
        db.store.tag_suggestions("giao d", 10).await.unwrap(),
        vec!["Giáo dục".to_owned()]
    );
    assert!(
        db.store
            .tag_suggestions("duc", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(db.store.tag_suggestions("%", 10).await.unwrap().is_empty());
    assert_eq!(db.store.tag_suggestions("g", 1).await.unwrap().len(), 1);

    // The list counts articles and filters by text with or without diacritics.
    let all = db.store.tags(None, 50, 0).await.unwrap();
    let count = |name: &str| all.iter().find(|t| t.name == name).map(|t| t.articles);
    assert_eq!(count("Thử"), Some(2));
    assert_eq!(count("Giáo dục"), Some(1));
    let found = db.store.tags(Some("duc"), 50, 0).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].id, other);

    // Rename: a name another tag has is a conflict.
    let mut tx = db.store.begin().await.unwrap();
    assert!(matches!(
        tx.rename_tag(thu, "Giáo dục", &Slug::parse("giao-duc").unwrap())
            .await,
        Err(StoreError::Conflict)
    ));
    drop(tx);
    let mut tx = db.store.begin().await.unwrap();
    assert!(
        tx.rename_tag(thu, "Thử nghiệm", &Slug::parse("thu-nghiem").unwrap())
            .await
            .unwrap()
    );
    assert!(
        !tx.rename_tag(TagId::new(999_999), "X", &Slug::parse("x").unwrap())
            .await
            .unwrap()
    );
    // Merge "Thử nghiệm" (on both articles) into "Giáo dục" (on the first already).
    assert!(!tx.merge_tags(thu, thu).await.unwrap());
    assert!(!tx.merge_tags(thu, TagId::new(999_999)).await.unwrap());
    assert!(tx.merge_tags(thu, other).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(
        db.store.article_tags(one).await.unwrap(),
        vec!["Giáo dục".to_owned()]
    );
    assert_eq!(
        db.store.article_tags(two).await.unwrap(),
        vec!["Giáo dục".to_owned()]
    );
    assert!(db.store.tag(thu).await.unwrap().is_none());
    assert_eq!(db.store.tag(other).await.unwrap().unwrap().articles, 2);
}

#[tokio::test]
async fn the_home_page_blocks_are_read_for_any_number_of_categories() {
    let db = TestDb::new(2).await;
    let mut tx = db.store.begin().await.unwrap();
    let mut ids = Vec::new();
    // More than SQLite's 500 parts of one compound SELECT.
    for i in 0..520 {
        ids.push(category(&mut tx, &format!("c{i}")).await);
    }
    article(&mut tx, ids[0], "Bài đầu").await;
    article(&mut tx, ids[519], "Bài cuối").await;
    tx.commit().await.unwrap();
    let got = db.store.articles_per_category(&ids, NOW, 3).await.unwrap();
    let mut titles: Vec<String> = got.into_iter().map(|a| a.title).collect();
    titles.sort();
    assert_eq!(titles, ["Bài cuối", "Bài đầu"]);
}
