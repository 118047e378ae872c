//! `bantin demo --articles N`: realistic synthetic articles for trying the site at scale and for
//! load tests. Titles, leads and bodies are put together from a vocabulary of real Vietnamese
//! phrases (so no two articles read alike and search has real work to do), dated over the past
//! ten years, spread over every category, with tags and some official document numbers.

use anyhow::{Result, bail};
use bantin_app::{Actor, App};
use bantin_core::{ArticleStatus, Clock, SanitizedHtml, Slug};
use bantin_store::NewArticle;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{CommonArgs, ServeArgs, Settings};

const SUBJECTS: &[&str] = &[
    "Ban Thường vụ Thành ủy",
    "Ủy ban nhân dân Thành phố",
    "Hội đồng nhân dân phường",
    "Đảng bộ xã",
    "Ban Tuyên giáo Tỉnh ủy",
    "Sở Giáo dục và Đào tạo",
    "Sở Y tế",
    "Hội Liên hiệp Phụ nữ",
    "Đoàn Thanh niên Cộng sản Hồ Chí Minh",
    "Mặt trận Tổ quốc Việt Nam huyện",
    "Công an Thành phố",
    "Hội Nông dân tỉnh",
    "Liên đoàn Lao động quận",
    "Trường Trung học phổ thông chuyên",
    "Bệnh viện Đa khoa tỉnh",
    "Chi bộ khu phố",
];

const ACTIONS: &[&str] = &[
    "tổ chức hội nghị",
    "triển khai kế hoạch",
    "sơ kết công tác",
    "tổng kết năm thực hiện",
    "phát động phong trào",
    "kiểm tra, giám sát",
    "đẩy mạnh",
    "học tập và làm theo",
    "quán triệt",
    "ra quân",
    "trao tặng",
    "đối thoại về",
    "ký kết chương trình phối hợp",
    "khánh thành",
    "hưởng ứng",
];

const TOPICS: &[&str] = &[
    "tư tưởng, đạo đức, phong cách Hồ Chí Minh",
    "chuyển đổi số trong cơ quan nhà nước",
    "cải cách hành chính",
    "xây dựng nông thôn mới",
    "bảo vệ môi trường đô thị",
    "phát triển du lịch cộng đồng",
    "an ninh trật tự trên địa bàn",
    "phòng, chống dịch bệnh",
    "chăm sóc sức khỏe nhân dân",
    "giảm nghèo bền vững",
    "công tác xây dựng Đảng ở cơ sở",
    "phát triển kinh tế tập thể",
    "an toàn giao thông",
    "khuyến học, khuyến tài",
    "đền ơn đáp nghĩa",
    "phòng, chống thiên tai",
    "thu hút đầu tư",
    "văn hóa, thể thao",
    "bình đẳng giới",
    "chăm lo đời sống công nhân",
];

const PLACES: &[&str] = &[
    "Hà Nội",
    "Đà Nẵng",
    "Huế",
    "Cần Thơ",
    "Hải Phòng",
    "Quảng Ninh",
    "Nghệ An",
    "Thanh Hóa",
    "Lâm Đồng",
    "Đắk Lắk",
    "Bình Định",
    "Khánh Hòa",
    "Sóc Trăng",
    "Lào Cai",
    "Cao Bằng",
    "phường Hòa Khánh",
    "xã Thủy Xuân",
    "quận Ngũ Hành Sơn",
];

const OPENINGS: &[&str] = &[
    "Thực hiện kế hoạch năm",
    "Sáng nay",
    "Trong không khí phấn khởi",
    "Nhằm cụ thể hóa nghị quyết",
    "Theo báo cáo của cơ quan chuyên môn",
    "Phát biểu tại hội nghị",
    "Qua một năm triển khai",
    "Với tinh thần đoàn kết",
    "Để kịp thời tháo gỡ khó khăn",
    "Bám sát chỉ đạo của cấp trên",
];

const MIDDLES: &[&str] = &[
    "các cơ quan, đơn vị đã chủ động triển khai nhiều giải pháp đồng bộ",
    "cán bộ, đảng viên và nhân dân đã tích cực hưởng ứng",
    "lãnh đạo địa phương đã lắng nghe ý kiến của cử tri",
    "nhiều mô hình hay, cách làm sáng tạo đã được nhân rộng",
    "công tác tuyên truyền được đổi mới cả nội dung và hình thức",
    "các chỉ tiêu chủ yếu đều đạt và vượt kế hoạch đề ra",
    "việc giải quyết thủ tục hành chính ngày càng thuận lợi cho người dân",
    "đời sống vật chất và tinh thần của nhân dân tiếp tục được nâng lên",
    "cấp ủy, chính quyền đã quan tâm lãnh đạo, chỉ đạo sát sao",
    "những hạn chế, tồn tại được chỉ rõ nguyên nhân và giải pháp khắc phục",
    "hơn một nghìn hộ gia đình đã được hỗ trợ kịp thời",
    "doanh nghiệp và người lao động cùng chung tay vượt qua khó khăn",
];

const CLOSINGS: &[&str] = &[
    "góp phần hoàn thành thắng lợi nhiệm vụ chính trị của địa phương.",
    "tạo chuyển biến tích cực trong nhận thức và hành động.",
    "được nhân dân đồng tình, ủng hộ.",
    "trong thời gian tới cần tiếp tục phát huy.",
    "đặt nền tảng cho giai đoạn phát triển mới.",
    "bảo đảm an toàn, tiết kiệm và hiệu quả.",
    "hướng tới mục tiêu xây dựng Thành phố văn minh, hiện đại.",
    "xứng đáng với niềm tin của nhân dân.",
];

const DOCUMENTS: &[(&str, &str)] = &[
    ("Chỉ thị số", "CT/TW"),
    ("Nghị quyết số", "NQ/TU"),
    ("Kết luận số", "KL/TW"),
    ("Quyết định số", "QĐ-UBND"),
    ("Kế hoạch số", "KH/TU"),
    ("Nghị quyết số", "NQ/TW"),
];

const TAGS: &[&str] = &[
    "xây dựng Đảng",
    "chuyển đổi số",
    "nông thôn mới",
    "cải cách hành chính",
    "an sinh xã hội",
    "giáo dục",
    "y tế",
    "môi trường",
    "du lịch",
    "thanh niên",
    "phụ nữ",
    "quốc phòng",
    "văn hóa",
    "kinh tế",
];

/// A small deterministic generator (SplitMix64): the same `--seed` makes the same articles.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or_default()
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len())]
    }
}

fn document_number(rng: &mut Rng) -> String {
    let (kind, code) = DOCUMENTS[rng.below(DOCUMENTS.len())];
    let n = 1 + rng.below(60);
    if code.starts_with("QĐ") {
        format!("{kind} {n}/{code}")
    } else {
        format!("{kind} {n:02}-{code}")
    }
}

fn sentence(rng: &mut Rng, place: &str) -> String {
    let mut s = format!(
        "{}, {} {}",
        rng.pick(OPENINGS),
        rng.pick(MIDDLES),
        rng.pick(CLOSINGS)
    );
    if rng.below(3) == 0 {
        s = s.replacen(", ", &format!(" tại {place}, "), 1);
    }
    s
}

/// One article's title, lead, body HTML and tags.
fn article(rng: &mut Rng) -> (String, String, String, Vec<String>) {
    let place = rng.pick(PLACES);
    let topic = rng.pick(TOPICS);
    let subject = rng.pick(SUBJECTS);
    let title = match rng.below(4) {
        0 => format!("{subject} {} {topic}", rng.pick(ACTIONS)),
        1 => format!("{place}: {} {topic}", rng.pick(ACTIONS)),
        2 => format!("Nâng cao hiệu quả {topic} tại {place}"),
        _ => format!(
            "{subject} {} {topic} năm {}",
            rng.pick(ACTIONS),
            2015 + rng.below(11)
        ),
    };
    let cited = (rng.below(4) == 0).then(|| document_number(rng));
    let lead = match &cited {
        Some(doc) => format!(
            "{}, {subject} triển khai thực hiện {doc} về {topic}.",
            rng.pick(OPENINGS)
        ),
        None => format!("{} về {topic}.", sentence(rng, place).trim_end_matches('.')),
    };
    let mut body = String::new();
    for p in 0..4 + rng.below(6) {
        body.push_str("<p>");
        for s in 0..2 + rng.below(4) {
            if s > 0 {
                body.push(' ');
            }
            body.push_str(&sentence(rng, place));
        }
        if p == 1
            && let Some(doc) = &cited
        {
            body.push_str(&format!(" Việc thực hiện {doc} được đánh giá nghiêm túc."));
        }
        body.push_str("</p>");
    }
    let tags = (0..rng.below(4))
        .map(|_| rng.pick(TAGS).to_owned())
        .collect();
    (title, lead, body, tags)
}

/// Adds `count` published articles dated over the past ten years (the first one a minute
/// ago), 1,000 per transaction.
pub(crate) async fn run(common: &CommonArgs, count: u32, seed: u64) -> Result<()> {
    let settings = Settings::load(common, &ServeArgs::default())?;
    let store = crate::open_store(&settings).await?;
    let app = App::new(store.clone(), Clock::system(), crate::policy(&settings.web));
    let actor = Actor::cli();
    // Listed categories only: articles in a hidden one would not show in the site's lists.
    let categories: Vec<_> = store
        .categories()
        .await?
        .into_iter()
        .filter(|c| c.status() == bantin_core::CategoryStatus::Active)
        .collect();
    if categories.is_empty() {
        bail!(
            "no categories: run `bantin serve` once (with the demo content) before `bantin demo`"
        );
    }
    let bar = ProgressBar::new(u64::from(count)).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} articles, {per_sec}, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let now = app.now();
    let mut rng = Rng(seed);
    let ten_years = 10 * 365 * 86_400;
    let mut batch = Vec::with_capacity(1000);
    for i in 0..count {
        let (title, lead, body, tags) = article(&mut rng);
        let slug = Slug::from_title(&title)?.numbered(i + 1);
        // Newest first, spread evenly over ten years (at most a day apart, so a few articles
        // stay recent) with some jitter: the first ones added are what the home page lists.
        let step = (ten_years / u64::from(count.max(1))).min(86_400);
        let age = i64::try_from(u64::from(i) * step + rng.next() % step.max(1)).unwrap_or_default();
        batch.push(NewArticle {
            slug,
            title,
            lead,
            body: SanitizedHtml::sanitize(&body),
            image_url: None,
            image_alt: String::new(),
            image_caption: String::new(),
            meta_description: String::new(),
            author: "Bài tổng hợp (nội dung mẫu)".to_owned(),
            source: String::new(),
            tags,
            status: ArticleStatus::Published,
            publish_at: now.minus(60 + age),
            expire_at: None,
            category_id: categories[rng.below(categories.len())].id,
            extra_category_ids: vec![],
            options: Default::default(),
        });
        if batch.len() == 1000 {
            app.import_articles(&actor, &batch).await?;
            bar.inc(batch.len() as u64);
            batch.clear();
        }
    }
    if !batch.is_empty() {
        app.import_articles(&actor, &batch).await?;
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    store.close().await;
    println!("added {count} articles");
    Ok(())
}
