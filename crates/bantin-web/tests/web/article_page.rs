//! The seed article page, piece by piece as the seed shows it.

use crate::helpers::*;

const SEED_TEXT: &str = include_str!("fixtures/seed-article.txt");

#[tokio::test]
async fn seed_article_has_everything_the_seed_shows() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    let res = app.get(&url).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    let html = &res.body;

    assert!(html.contains(&format!("<h1>{SEED_TITLE}</h1>")));
    assert!(html.contains(
        r#"<time datetime="2022-10-25T13:19:00+07:00">Thứ ba - 25/10/2022 13:19</time>"#
    ));
    assert!(
        text_of(html).contains(
            "Tác giả bài viết: Đ/c Hà Ngọc Giáp, UVBTV Tỉnh ủy, Bí thư Thành ủy Cao Bằng"
        )
    );
    assert!(html.contains("Tổng số điểm của bài viết là: 0 trong 0 đánh giá"));
    assert!(
        !html.contains("Xếp hạng:"),
        "no rank line before the first vote"
    );
    assert!(html.contains("Click để đánh giá bài viết"));
    assert!(html.contains("<h2>Những tin mới hơn</h2>"));
    assert!(html.contains("<h2>Những tin cũ hơn</h2>"));
    assert!(html.contains("Lượt xem: 0"));
    // Anonymous readers never get the idle-login warning (it belongs to signed-in users).
    assert!(!html.contains("Bạn đã không sử dụng Site"));

    // Breadcrumbs: home, then the category.
    let crumbs = text_of(between(html, r#"<nav class="breadcrumbs""#, "</nav>"));
    assert!(crumbs.contains("Trang chủ Xây dựng Đảng"), "{crumbs}");
}

#[tokio::test]
async fn seed_body_is_reproduced_in_order() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    let html = app.get(&url).await.body;
    let article = between(&html, r#"<p class="sapo">"#, r#"<p class="author">"#);
    let text = text_of(article);

    // Every line of the seed between the date line and the author line, in order.
    let lines: Vec<&str> = SEED_TEXT.lines().map(str::trim).collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("Thứ ba - "))
        .unwrap()
        + 1;
    let end = lines
        .iter()
        .position(|l| l.starts_with("Tác giả bài viết:"))
        .unwrap();
    let alts = [
        "DSC 5191",
        "309993665 638201641009624 332414883047958941 n",
        "00702 MTS 00 00 01 24 Still001",
    ];
    let mut at = 0;
    // Alt texts live in attributes; they are checked with their figures below.
    for line in lines[start..end]
        .iter()
        .filter(|l| !l.is_empty() && !alts.contains(l))
    {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        let found = text[at..]
            .find(&line)
            .unwrap_or_else(|| panic!("missing or out of order: {line}"));
        at += found + line.len();
    }

    // The three images: alt text from the file name, caption as <figcaption>.
    for (alt, caption_start) in [
        ("DSC 5191", "Bí thư Thành ủy Hà Ngọc Giáp phát biểu"),
        (
            "309993665 638201641009624 332414883047958941 n",
            "Đ/c Tô Vũ Ninh",
        ),
        (
            "00702 MTS 00 00 01 24 Still001",
            "Việc tuyên truyền, quán triệt",
        ),
    ] {
        let tag = format!(r#"alt="{alt}""#);
        let figure = between(article, &tag, "</figure>");
        assert!(
            figure.contains(&format!("<figcaption>{caption_start}")),
            "{alt}: {figure}"
        );
    }
    assert_eq!(
        article.matches("<figure").count(),
        3,
        "the main image is not shown twice"
    );
}

#[tokio::test]
async fn newer_and_older_lists_hold_ten_of_the_same_category_with_dates() {
    let app = TestApp::with_demo().await;
    let (_, url) = app.seed().await;
    let html = app.get(&url).await.body;
    let newer = between(&html, "<h2>Những tin mới hơn</h2>", "</section>");
    let older = between(&html, "<h2>Những tin cũ hơn</h2>", "</section>");
    assert_eq!(newer.matches("<li>").count(), 10);
    assert_eq!(older.matches("<li>").count(), 10);
    for list in [newer, older] {
        for item in list.split("<li>").skip(1) {
            assert!(
                item.contains(r#"href="/xay-dung-dang/"#),
                "same main category: {item}"
            );
            let date = between(item, r#"<span class="date">("#, ")</span>");
            let parts: Vec<&str> = date.split('/').collect();
            assert!(
                parts.len() == 3
                    && parts[0].len() == 2
                    && parts[1].len() == 2
                    && parts[2].len() == 4,
                "{date}"
            );
        }
    }
    // Newer items are after the seed (2022-10-25) and ordered from the closest on.
    let years: Vec<String> = newer
        .split(r#"<span class="date">("#)
        .skip(1)
        .map(|s| {
            let d = &s[..10];
            format!("{}{}{}", &d[6..10], &d[3..5], &d[0..2])
        })
        .collect();
    assert!(years.windows(2).all(|w| w[0] <= w[1]), "{years:?}");
    assert!(years.iter().all(|d| d.as_str() >= "20221025"));
}

#[tokio::test]
async fn wrong_slug_or_category_redirects_to_the_canonical_url() {
    let app = TestApp::with_demo().await;
    let (id, url) = app.seed().await;
    for wrong in [
        format!("/xay-dung-dang/old-title-{id}.html"),
        format!("/kinh-te-xa-hoi/dang-bo-thanh-pho-hoc-tap-va-lam-theo-guong-bac-{id}.html"),
        format!("/no-such-category/whatever-{id}.html"),
        format!("/xay-dung-dang/{id}.html"),
    ] {
        let res = app.get(&wrong).await;
        assert_eq!(res.status, 301, "{wrong}");
        assert_eq!(res.location(), url, "{wrong}");
    }
    assert_eq!(app.get(&url).await.status, 200);
}

#[tokio::test]
async fn home_and_category_pages() {
    let app = TestApp::with_demo().await;
    let home = app.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Tin mới nhất"));
    for cat in [
        "Xây dựng Đảng",
        "Kinh tế - Xã hội",
        "Văn hóa - Thể thao",
        "Quốc phòng - An ninh",
    ] {
        assert!(
            home.body.contains(&format!(">{cat}</a></h2>")),
            "home block for {cat}"
        );
    }
    assert!(
        !home.body.contains(">Thông báo</a>"),
        "hidden categories stay off the home page and menu"
    );

    let cat = app.get("/xay-dung-dang/").await;
    assert_eq!(cat.status, 200);
    assert_eq!(cat.body.matches(r#"<article class="card">"#).count(), 20);
    assert!(
        cat.body
            .contains(r#"<link rel="next" href="/xay-dung-dang/?page=2">"#)
    );
    let page2 = app.get("/xay-dung-dang/?page=2").await;
    assert_eq!(page2.status, 200);
    assert!(page2.body.matches(r#"<article class="card">"#).count() >= 1);
    assert_eq!(app.get("/xay-dung-dang/?page=99").await.status, 404);
    assert_eq!(app.get("/xay-dung-dang/?page=abc").await.status, 400);
    assert_eq!(app.get("/xay-dung-dang/?page=0").await.status, 400);
    let bare = app.get("/xay-dung-dang").await;
    assert_eq!(
        (bare.status.as_u16(), bare.location()),
        (301, "/xay-dung-dang/")
    );
    // A hidden category is still reachable by its URL.
    assert_eq!(app.get("/thong-bao/").await.status, 200);
    assert_eq!(app.get("/khong-co/").await.status, 404);
}
