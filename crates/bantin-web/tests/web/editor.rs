//! The article editor (`assets/editor.js`, built from `editor/`) in headless Chromium, under
//! the site's own Content-Security-Policy: typing with the toolbar and its prompts, pastes from
//! Word, Google Docs and a web page, and the HTML the form posts.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use bantin_core::SanitizedHtml;
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{AddScriptOnNewDocument, browser, chromedriver, start_driver};
use crate::helpers::{Agent, PASSWORD, TestApp};

pub(crate) const WORD: &str = include_str!("fixtures/editor/word.html");
const GOOGLE_DOCS: &str = include_str!("fixtures/editor/gdocs.html");
const WEB_PAGE: &str = include_str!("fixtures/editor/web.html");
const PHOTO: &[u8] = include_bytes!("../../../bantin-app/demo/media/samples/anh-mau-1.jpg");

/// What an article being edited already holds: a picture as the seed article has them, and
/// alignment and a video frame the sanitiser allows, which the editor has no button for and
/// must not lose.
const STORED: &str = r#"<figure class="image"><img src="/media/anh-mau.jpg" alt="DSC 5191" width="800" height="533"><figcaption>Bí thư Thành ủy Hà Ngọc Giáp phát biểu chỉ đạo tại buổi làm việc với Chi bộ Phòng Kinh tế thành phố</figcaption></figure><p style="text-align:center">Giữa bài</p><iframe src="https://www.youtube.com/embed/abc" width="560" height="315" allowfullscreen=""></iframe>"#;

/// Records, before any script of the page runs, what must not happen: CSP violations, errors
/// (thrown, unhandled, logged, or a resource that failed to load) and warnings.
const PROBE_JS: &str = r#"(function () {
  var problems = (window.__editorProblems = []);
  function note(kind, text) { problems.push(kind + ": " + String(text).slice(0, 300)); }
  document.addEventListener("securitypolicyviolation", function (e) {
    note("csp", e.violatedDirective + " " + (e.blockedURI || "") + " " + (e.sample || "") +
      " at " + e.sourceFile + ":" + e.lineNumber);
  }, true);
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && t.tagName) note("load", t.tagName + " " + (t.src || t.href));
    else note("error", e.message + " at " + e.filename + ":" + e.lineno);
  }, true);
  window.addEventListener("unhandledrejection", function (e) { note("rejection", e.reason); });
  ["error", "warn"].forEach(function (level) {
    var original = console[level];
    console[level] = function () {
      note("console." + level, Array.prototype.join.call(arguments, " "));
      return original.apply(console, arguments);
    };
  });
})();"#;

/// A paste as the browser delivers one from another program's clipboard.
const PASTE_JS: &str = r#"var editor = document.querySelector(".ProseMirror");
var data = new DataTransfer();
data.setData("text/html", arguments[0]);
data.setData("text/plain", "");
editor.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));"#;

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[derive(Clone)]
struct Page {
    html: Arc<String>,
    csp: Arc<String>,
    posted: Arc<Mutex<Option<String>>>,
}

async fn page(State(p): State<Page>) -> impl IntoResponse {
    (
        [(header::CONTENT_SECURITY_POLICY, p.csp.as_str().to_owned())],
        Html(p.html.as_str().to_owned()),
    )
}

async fn save(
    State(p): State<Page>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> impl IntoResponse {
    *p.posted.lock().unwrap() = form.get("body").cloned();
    (
        [(header::CONTENT_SECURITY_POLICY, p.csp.as_str().to_owned())],
        Html("<!doctype html><title>Đã lưu</title><p id=saved>Đã lưu</p>"),
    )
}

async fn photo() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/jpeg")], PHOTO)
}

pub(crate) async fn key(client: &Client, keys: &str) {
    client
        .active_element()
        .await
        .unwrap()
        .send_keys(keys)
        .await
        .unwrap();
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Answers the next `window.prompt`, which may open a moment after the previous one closed.
pub(crate) async fn answer_prompt(client: &Client, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    let question = loop {
        match client.get_alert_text().await {
            Ok(q) => break q,
            Err(e) => {
                assert!(Instant::now() < deadline, "no prompt opened: {e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    client.send_alert_text(text).await.unwrap();
    client.accept_alert().await.unwrap();
    question
}

/// Waits for an element, for at most ten seconds.
pub(crate) async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

pub(crate) async fn paste(client: &Client, html: &str) {
    client.execute(PASTE_JS, vec![json!(html)]).await.unwrap();
}

async fn problems(client: &Client) -> Vec<String> {
    let v = client
        .execute("return window.__editorProblems || ['no probe']", vec![])
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chromium), ignore = "needs Debian's chromium and chromium-driver")]
async fn the_editor_works_under_the_sites_csp_and_posts_clean_html() {
    let started = Instant::now();
    let path = chromedriver();
    let driver = start_driver(path).await;
    // The product itself: its CSP header, and the fingerprinted assets it serves.
    let app = TestApp::with_demo().await;
    let csp = app
        .get("/healthz")
        .await
        .header("content-security-policy")
        .expect("the product sends a CSP")
        .to_owned();
    // The editor's URLs as the product's own article form links them (fingerprinted).
    app.add_user("bientap", bantin_core::account::Role::Editor)
        .await;
    let mut editor = Agent::new(&app, "198.51.100.110:4000");
    editor.sign_in("bientap", PASSWORD).await;
    let form = editor.get("/admin/articles/new").await.body;
    let linked = |ext: &str| {
        form.split('"')
            .find(|s| s.starts_with("/assets/editor.") && s.ends_with(ext))
            .unwrap_or_else(|| panic!("the article form links editor {ext}"))
            .to_owned()
    };
    let (js, css) = (linked(".js"), linked(".css"));
    let html = format!(
        r#"<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Soạn bài</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{css}"><script src="{js}" defer></script></head>
<body><form method="post" action="/save"><label for="body">Nội dung</label>
<textarea id="body" name="body" data-editor>{}</textarea>
<button type="submit" id="save">Lưu</button></form></body></html>"#,
        escape_text(STORED)
    );
    let state = Page {
        html: Arc::new(html),
        csp: Arc::new(csp),
        posted: Arc::new(Mutex::new(None)),
    };
    let router = Router::new()
        .route("/editor", get(page))
        .route("/save", post(save))
        .route("/media/anh-mau.jpg", get(photo))
        .with_state(state.clone())
        .fallback_service(app.router.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });

    let client = browser(&driver, true).await;
    client
        .issue_cmd(AddScriptOnNewDocument(PROBE_JS.to_owned()))
        .await
        .expect("install the probe through the DevTools protocol");
    client.goto(&format!("{base}/editor")).await.unwrap();
    let editor = wait_for(&client, ".ProseMirror").await;
    let textarea = client.find(Locator::Css("#body")).await.unwrap();
    assert!(
        !textarea.is_displayed().await.unwrap(),
        "the textarea is replaced"
    );

    // Typing with the toolbar, from the end of the stored article.
    editor.click().await.unwrap();
    key(&client, &(Key::Control + &Key::End)).await;
    click(&client, r#"[data-action="h2"]"#).await;
    key(&client, &format!("Hội nghị tổng kết{}", Key::Enter)).await;
    key(&client, "Đoạn mở đầu ").await;
    click(&client, r#"[data-action="bold"]"#).await;
    key(&client, "quan trọng").await;
    click(&client, r#"[data-action="bold"]"#).await;
    click(&client, r#"[data-action="italic"]"#).await;
    key(&client, " của bài viết").await;
    click(&client, r#"[data-action="italic"]"#).await;
    key(&client, &format!(".{}", Key::Enter)).await;
    click(&client, r#"[data-action="bullet-list"]"#).await;
    key(
        &client,
        &format!(
            "Mục thứ nhất{}Mục thứ hai{}{}",
            Key::Enter,
            Key::Enter,
            Key::Enter
        ),
    )
    .await;
    key(&client, &format!("Xem chi tiết{}", Key::Shift + &Key::Home)).await;
    click(&client, r#"[data-action="link"]"#).await;
    let question = answer_prompt(&client, "https://example.gov.vn/chi-tiet").await;
    assert!(question.starts_with("Địa chỉ liên kết"), "{question}");
    key(&client, &format!("{}{}", Key::End, Key::Enter)).await;

    click(&client, r#"[data-action="table"]"#).await;
    let table_tools = client
        .find(Locator::Css(r#"[role="toolbar"][aria-label="Sửa bảng"]"#))
        .await
        .unwrap();
    assert!(
        table_tools.is_displayed().await.unwrap(),
        "table tools show"
    );
    key(
        &client,
        &format!("A1{}B1{}A2{}B2", Key::Tab, Key::Tab, Key::Tab),
    )
    .await;
    key(&client, &(Key::Control + &Key::End)).await;

    click(&client, r#"[data-action="figure"]"#).await;
    answer_prompt(&client, "/media/anh-mau.jpg").await;
    answer_prompt(&client, "Ảnh hội nghị").await;
    answer_prompt(&client, "Toàn cảnh hội nghị").await;
    wait_for(&client, ".ProseMirror figure img").await;
    // The cursor is at the caption's end: Enter leaves the figure for a new paragraph
    // rather than splitting it in two.
    let in_caption = client
        .execute(
            "return !!window.getSelection().anchorNode.parentElement.closest('figcaption')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(in_caption, json!(true));
    key(&client, &format!("{}Sau ảnh.", Key::Enter)).await;

    // Pastes, each into an empty paragraph of its own at the end.
    for fragment in [WORD, GOOGLE_DOCS, WEB_PAGE] {
        key(&client, &(Key::Control + &Key::End)).await;
        key(&client, &Key::Enter.to_string()).await;
        paste(&client, fragment).await;
    }

    // Undo takes the last paste back, redo restores it; the textarea follows both.
    let value = r#"return document.getElementById("body").value"#;
    let before = client.execute(value, vec![]).await.unwrap();
    click(&client, r#"[data-action="undo"]"#).await;
    let undone = client.execute(value, vec![]).await.unwrap();
    assert!(!undone.as_str().unwrap().contains("Tin từ trang báo khác"));
    click(&client, r#"[data-action="redo"]"#).await;
    assert_eq!(client.execute(value, vec![]).await.unwrap(), before);

    // Usable on a phone: at 360 px the toolbar wraps inside the page and every button stays
    // at least 40 px square.
    client.set_window_size(360, 740).await.unwrap();
    let layout = client
        .execute(
            r#"var bar = document.querySelector(".bantin-editor-toolbar");
var sizes = Array.prototype.map.call(bar.querySelectorAll("button"), function (b) {
  var r = b.getBoundingClientRect(); return [r.width, r.height]; });
return { overflow: bar.scrollWidth - bar.clientWidth, page: document.documentElement.scrollWidth,
  view: document.documentElement.clientWidth, sizes: sizes };"#,
            vec![],
        )
        .await
        .unwrap();
    let view = layout["view"].as_f64().unwrap();
    assert!(view <= 360.0, "not at phone width: {layout}");
    assert_eq!(layout["overflow"], json!(0), "{layout}");
    assert!(layout["page"].as_f64().unwrap() <= view, "{layout}");
    for size in layout["sizes"].as_array().unwrap() {
        assert!(
            size[0].as_f64().unwrap() >= 40.0 && size[1].as_f64().unwrap() >= 40.0,
            "{layout}"
        );
    }

    // The page's record, read before the form submission replaces the page.
    let found = problems(&client).await;
    let synced = client.execute(value, vec![]).await.unwrap();
    click(&client, "#save").await;
    wait_for(&client, "#saved").await;
    let posted = state
        .posted
        .lock()
        .unwrap()
        .clone()
        .expect("the form posted");
    assert!(found.is_empty(), "{found:#?}\nposted:\n{posted}");
    // The textarea followed every change; submitting had nothing left to add.
    assert_eq!(synced, json!(posted));

    // What was typed.
    assert!(posted.starts_with(STORED), "{posted}");
    for expected in [
        "<h2>Hội nghị tổng kết</h2><p>Đoạn mở đầu <strong>quan trọng</strong><em> của bài viết</em>.</p>",
        "<ul><li><p>Mục thứ nhất</p></li><li><p>Mục thứ hai</p></li></ul>",
        r#"<p><a href="https://example.gov.vn/chi-tiet">Xem chi tiết</a></p>"#,
        "<table><tbody><tr><td><p>A1</p></td><td><p>B1</p></td></tr><tr><td><p>A2</p></td><td><p>B2</p></td></tr></tbody></table>",
        r#"<figure class="image"><img src="/media/anh-mau.jpg" alt="Ảnh hội nghị"><figcaption>Toàn cảnh hội nghị</figcaption></figure><p>Sau ảnh.</p>"#,
    ] {
        assert!(posted.contains(expected), "{expected}\nnot in\n{posted}");
    }
    assert_eq!(posted.matches("<figure").count(), 3, "{posted}");
    // What was pasted: the structure of each source.
    for expected in [
        // Word: heading, bold/italic, link, list paragraphs made real nested lists (bulleted,
        // then numbered), the table.
        "<h2>Kết quả hội nghị Word</h2>",
        "<strong>ba nội dung trọng tâm</strong> và <em>giao nhiệm vụ</em>",
        r#"<a href="https://example.gov.vn/nghi-quyet">nghị quyết</a>"#,
        "<ul><li><p>Nâng cao chất lượng công vụ</p><ul><li><p>Cải cách thủ tục hành chính</p></li></ul></li><li><p>Xây dựng nếp sống văn minh</p></li></ul><ol><li><p>Bước thứ nhất</p></li><li><p>Bước thứ hai</p></li></ol>",
        "<tr><td><p><strong>Đơn vị</strong></p></td><td><p><strong>Kết quả</strong></p></td></tr>",
        "<p>Đoạn cuối từ Word.</p>",
        // Google Docs: no bold wrapper, bold and italic from the styled spans, nested list.
        "<h2>Lịch tiếp công dân từ Google Docs</h2>",
        "<p>Lãnh đạo <strong>UBND thành phố</strong><em> tiếp công dân</em> vào thứ năm hằng tuần, xem <a href=\"https://example.gov.vn/lich\">lịch chi tiết</a>.</p>",
        "<ul><li><p>Mang theo căn cước công dân</p><ul><li><p>Bản chính hoặc bản sao có chứng thực</p></li></ul></li><li><p>Đăng ký trước qua điện thoại</p></li></ul>",
        "<tr><td><p><strong>Ngày</strong></p></td><td><p><strong>Người tiếp</strong></p></td></tr>",
        // A web page: its figure, quote and safe link; not its script or unsafe link.
        r#"<figure class="image"><img src="/media/anh-mau.jpg" alt="Ảnh minh họa"><figcaption>Chú thích ảnh từ trang báo</figcaption></figure>"#,
        "<blockquote><p>Một câu trích dẫn.</p></blockquote>",
        r#"<a href="https://example.vn/bai-viet.html">tin vui</a>, mở ngay."#,
    ] {
        assert!(posted.contains(expected), "{expected}\nnot in\n{posted}");
    }
    // The one style attribute is the stored article's alignment, carried through.
    let rest = posted
        .replacen(r#"<p style="text-align:center">"#, "<p>", 1)
        .replace(r#"<figure class="image">"#, "<figure>");
    assert_eq!(rest.matches("<figure>").count(), 3);
    for clutter in [
        "style=",
        "class=",
        "mso-",
        "Mso",
        "<o:p",
        "o:p>",
        "docs-internal-guid",
        "<span",
        "<font",
        "<b ",
        "<b>",
        " id=",
        "dir=",
        "file:",
        "javascript:",
        "Ghi chú ẩn",
        "chạy từ trang khác",
        "<p></p>",
        "<br",
        "<!--",
        "[if",
    ] {
        assert!(!rest.contains(clutter), "{clutter:?} in\n{posted}");
    }
    // The server's sanitiser keeps all of it (it only adds `rel` to links).
    let kept = SanitizedHtml::sanitize(&posted)
        .into_string()
        .replace(r#" rel="noopener noreferrer""#, "");
    assert_eq!(kept, posted, "the sanitiser changed the editor's output");

    client.close().await.unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
}
