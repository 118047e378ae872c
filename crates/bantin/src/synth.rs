//! Synthetic articles for load tests: realistic sizes, spread over the categories and over
//! the past years, so lists and the newer/older queries work on a large table.

use anyhow::{Result, bail};
use bantin_app::{Actor, App};
use bantin_core::{ArticleStatus, Clock, SanitizedHtml, Slug};
use bantin_store::NewArticle;

use crate::config::{CommonArgs, ServeArgs, Settings};

const TOPICS: &[&str] = &[
    "công tác xây dựng Đảng ở cơ sở",
    "phát triển kinh tế - xã hội",
    "cải cách hành chính",
    "chuyển đổi số trong cơ quan nhà nước",
    "xây dựng nông thôn mới",
    "bảo vệ môi trường đô thị",
    "phát triển du lịch cộng đồng",
    "an ninh trật tự trên địa bàn",
];

const PARAGRAPH: &str = "Thực hiện kế hoạch năm, các cơ quan, đơn vị đã chủ động triển khai nhiều giải pháp đồng bộ, bám sát chỉ đạo của cấp ủy, huy động sự tham gia của cán bộ, đảng viên và nhân dân. Kết quả bước đầu cho thấy chuyển biến tích cực, nhiều chỉ tiêu đạt và vượt kế hoạch đề ra, đời sống vật chất và tinh thần của nhân dân tiếp tục được nâng lên.";

/// Adds `count` published articles, one hour apart going back from now, 1,000 per transaction.
pub(crate) async fn run(common: &CommonArgs, count: u32) -> Result<()> {
    let settings = Settings::load(common, &ServeArgs::default())?;
    let store = crate::open_store(&settings).await?;
    let app = App::new(store.clone(), Clock::system(), crate::policy(&settings.web));
    let actor = Actor::cli();
    let categories = store.categories().await?;
    if categories.is_empty() {
        bail!(
            "no categories: run `bantin serve` once (with the demo content) before `bantin synth`"
        );
    }
    let now = app.now();
    let body = SanitizedHtml::sanitize(&format!("<p>{PARAGRAPH}</p>").repeat(6));
    let mut batch = Vec::with_capacity(1000);
    for i in 0..count {
        let topic = TOPICS[i as usize % TOPICS.len()];
        let title = format!("Bài tổng hợp số {} về {topic}", i + 1);
        batch.push(NewArticle {
            slug: Slug::from_title(&title)?,
            title,
            lead: format!(
                "Bài viết tổng hợp dùng để đo tải, số {}, về {topic} trên địa bàn Thành phố.",
                i + 1
            ),
            body: body.clone(),
            image_url: None,
            image_alt: String::new(),
            image_caption: String::new(),
            author: "Bài tổng hợp (đo tải)".to_owned(),
            source: String::new(),
            tags: vec![],
            status: ArticleStatus::Published,
            publish_at: now.minus(3600 * (i64::from(i) + 1)),
            expire_at: None,
            category_id: categories[i as usize % categories.len()].id,
            extra_category_ids: vec![],
            options: Default::default(),
        });
        if batch.len() == 1000 {
            app.import_articles(&actor, &batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        app.import_articles(&actor, &batch).await?;
    }
    store.close().await;
    println!("added {count} articles");
    Ok(())
}
