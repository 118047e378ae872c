//! The browser half: headless Chromium with `alert`, `confirm`, `prompt` and `print` replaced,
//! before any page script runs, by a trap that reports to the test server. Captured responses
//! are replayed from that server, many to a page, at the site's own origin; a page with a hit
//! is replayed again one response at a time to name the culprit.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder};
use serde_json::json;

use crate::browser::{AddScriptOnNewDocument, Driver};

/// Reports every call of the four functions. `window.event` and `document.currentScript` say
/// which element ran it, and the markers of the replay page which response that element came
/// from; the beacon reaches the server even if the page navigates away.
const TRAP_JS: &str = r#"(function () {
  var hitUrl = "HIT_URL";
  // The response an element came from: the last marker before it (none: the page's first).
  function docOf(el) {
    var found = "";
    try {
      var marks = el.ownerDocument.querySelectorAll("template[data-xss-doc]");
      for (var i = 0; i < marks.length; i++) {
        if (!(marks[i].compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING)) break;
        found = marks[i].getAttribute("data-xss-doc");
      }
    } catch (_) {}
    return found;
  }
  function report(kind, args) {
    var el = null;
    try { var e = window.event; if (e && e.target && e.target.outerHTML) el = e.target; } catch (_) {}
    try { if (!el && document.currentScript) el = document.currentScript; } catch (_) {}
    var msg = JSON.stringify({ kind: kind, args: String(args).slice(0, 80),
      url: String(location.href).slice(0, 200), doc: el ? docOf(el) || "first" : "",
      where: el ? String(el.outerHTML).slice(0, 300) : "" });
    try { navigator.sendBeacon(hitUrl, msg); } catch (_) {}
    try { (window.top.__xssHits = window.top.__xssHits || []).push(msg); } catch (_) {}
  }
  ["alert", "confirm", "prompt", "print"].forEach(function (name) {
    var trap = function () {
      report(name, Array.prototype.join.call(arguments, ","));
      return name === "confirm" ? false : null;
    };
    try { Object.defineProperty(window, name, { value: trap, writable: true, configurable: true }); }
    catch (_) { window[name] = trap; }
  });
})();"#;

/// A captured response to render, and what it was the answer to.
pub struct Doc {
    pub label: String,
    /// Index into the corpus, when the response is about one payload.
    pub payload: Option<usize>,
    pub body: String,
}

/// A trap hit, pinned to the response that caused it when replaying alone found one.
#[derive(Debug)]
pub struct Hit {
    pub doc: Option<usize>,
    pub report: String,
}

#[derive(Default)]
struct Shared {
    docs: Mutex<Arc<Vec<String>>>,
    /// Replay pages: the responses each one concatenates.
    pages: Mutex<Vec<Vec<usize>>>,
    hits: Mutex<Vec<String>>,
}

async fn replay(State(s): State<Arc<Shared>>, Path(n): Path<usize>) -> impl IntoResponse {
    let ids = s.pages.lock().unwrap().get(n).cloned().unwrap_or_default();
    let docs = s.docs.lock().unwrap().clone();
    // Whole documents one after another: the parser ignores the repeated `html`, `head` and
    // `body` tags, and each response keeps the contexts its text was written for. An inert
    // marker before each but the first (whose doctype must come first) says where it starts.
    let mut body = String::new();
    for (k, i) in ids.iter().enumerate() {
        if k > 0 {
            body.push_str(&format!("<template data-xss-doc=\"{i}\"></template>"));
        }
        body.push_str(&docs[*i]);
    }
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body)
}

async fn record(State(s): State<Arc<Shared>>, body: String) {
    s.hits.lock().unwrap().push(body);
}

/// Chromium with the trap, and the server it reads the site and the replays from.
pub struct Browser {
    /// Two windows of their own (two renderer processes), so both cores render.
    clients: Vec<Client>,
    _driver: Driver,
    base: String,
    shared: Arc<Shared>,
}

/// Loads `url`, waits for late handlers (timers, media errors), and returns the hits it
/// reported. A native dialog means the trap was missing: that counts too.
async fn visit(client: &Client, shared: &Shared, url: &str, settle: Duration) -> Vec<String> {
    let went = client.goto(url).await;
    tokio::time::sleep(settle).await;
    // The page's own record first (a beacon from an opaque origin such as `data:` may not
    // reach the loopback server), then the beacons, each report once. A page that cannot be
    // read had a native dialog open (ChromeDriver dismisses it and says so): the trap was
    // missing, and that counts too.
    let mut hits = match client
        .execute("return window.__xssHits || []", vec![])
        .await
    {
        Ok(v) => serde_json::from_value::<Vec<String>>(v).unwrap_or_default(),
        Err(e) => vec![format!("page not readable at {url}: {e}")],
    };
    let beacons = std::mem::take(&mut *shared.hits.lock().unwrap());
    // Beacons of the other window's page stay for it.
    let (here, there): (Vec<String>, Vec<String>) = beacons
        .into_iter()
        .partition(|h| page_named(h).is_none_or(|n| url.ends_with(&format!("/{n}"))));
    shared.hits.lock().unwrap().extend(there);
    for h in here {
        if !hits.contains(&h) {
            hits.push(h);
        }
    }
    if went.is_err() || client.dismiss_alert().await.is_ok() {
        while client.dismiss_alert().await.is_ok() {}
        hits.push(format!("native dialog or failed load at {url}: {went:?}"));
    }
    hits
}

async fn open(driver: &Driver, base: &str) -> Client {
    let profile = tempfile::tempdir().unwrap().keep();
    let options = json!({
        "binary": std::env::var("BANTIN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned()),
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--window-size=800,600",
            // A payload that got through must not reach out: every name but the loopback
            // fails at once.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            format!("--user-data-dir={}", profile.display()),
        ],
    });
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".to_owned(), options);
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("open a Chromium session");
    client
        .update_timeouts(TimeoutConfiguration::new(
            Some(Duration::from_secs(30)),
            Some(Duration::from_secs(60)),
            None,
        ))
        .await
        .unwrap();
    let trap = TRAP_JS.replace("HIT_URL", &format!("{base}/__xss/hit"));
    client
        .issue_cmd(AddScriptOnNewDocument(trap))
        .await
        .expect("install the trap through the DevTools protocol");
    client
}

impl Browser {
    /// Serves `site` on a loopback port with the replay routes in front, and opens Chromium.
    pub async fn start(driver: Driver, site: Router) -> Self {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/__xss/page/{n}", get(replay))
            .route("/__xss/hit", post(record))
            .with_state(shared.clone())
            .fallback_service(site);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        let base = format!("http://{addr}");
        let clients = vec![open(&driver, &base).await, open(&driver, &base).await];
        Self {
            clients,
            _driver: driver,
            base,
            shared,
        }
    }

    /// Navigates to `url` and returns the hits (for the positive controls).
    pub async fn hits_at(&mut self, url: &str) -> Vec<String> {
        visit(
            &self.clients[0],
            &self.shared,
            url,
            Duration::from_millis(300),
        )
        .await
    }

    /// Renders every doc, many to a page of at most `page_bytes`, and pins each hit down to
    /// its doc by replaying a page with hits one doc at a time.
    pub async fn render(&mut self, docs: &[Doc], page_bytes: usize) -> Vec<Hit> {
        *self.shared.docs.lock().unwrap() = Arc::new(docs.iter().map(|d| d.body.clone()).collect());
        let mut groups: Vec<Vec<usize>> = vec![Vec::new()];
        let mut size = 0;
        for (i, d) in docs.iter().enumerate() {
            if size + d.body.len() > page_bytes && !groups.last().unwrap().is_empty() {
                groups.push(Vec::new());
                size = 0;
            }
            size += d.body.len();
            groups.last_mut().unwrap().push(i);
        }
        let started = Instant::now();
        let pages: Vec<usize> = groups.iter().map(|g| self.add_page(g.clone())).collect();
        // (page, report): a beacon names its page; one that does not (a navigation to a
        // script URL, say) is put on the page being shown.
        let queue = Arc::new(Mutex::new(pages.clone()));
        let mut workers = tokio::task::JoinSet::new();
        for client in &self.clients {
            let (client, queue, shared) = (client.clone(), queue.clone(), self.shared.clone());
            let base = self.base.clone();
            workers.spawn(async move {
                let mut reports: Vec<(usize, String)> = Vec::new();
                loop {
                    let Some(n) = queue.lock().unwrap().pop() else {
                        return reports;
                    };
                    let url = format!("{base}/__xss/page/{n}");
                    let hits = visit(&client, &shared, &url, Duration::from_millis(60)).await;
                    reports.extend(hits.into_iter().map(|h| (page_named(&h).unwrap_or(n), h)));
                }
            });
        }
        let mut reports = Vec::new();
        while let Some(r) = workers.join_next().await {
            reports.extend(r.unwrap());
        }
        // Late beacons of the last pages.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let last = pages.first().copied().unwrap_or_default();
        let late = std::mem::take(&mut *self.shared.hits.lock().unwrap());
        reports.extend(
            late.into_iter()
                .map(|h| (page_named(&h).unwrap_or(last), h)),
        );

        // Hits from an element name their response; the others (a script URL, a timer) are
        // pinned down by replaying their page a response at a time, for a few pages.
        let mut out = Vec::new();
        let mut unpinned: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for (n, report) in reports {
            let first = groups.get(pages.iter().position(|p| *p == n).unwrap_or(usize::MAX));
            match doc_named(&report) {
                Some(Some(i)) => out.push(Hit {
                    doc: Some(i),
                    report,
                }),
                Some(None) => out.push(Hit {
                    doc: first.and_then(|g| g.first().copied()),
                    report,
                }),
                None => unpinned.entry(n).or_default().push(report),
            }
        }
        // Enough to name a culprit or two without replaying a whole failing run.
        let mut budget = 60;
        for (n, here) in unpinned {
            let group = pages
                .iter()
                .position(|p| *p == n)
                .map(|g| groups[g].clone())
                .unwrap_or_default();
            let before = out.len();
            if budget >= group.len() {
                budget -= group.len();
                for i in group {
                    let single = self.add_page(vec![i]);
                    let url = format!("{}/__xss/page/{single}", self.base);
                    let hits = visit(
                        &self.clients[0],
                        &self.shared,
                        &url,
                        Duration::from_millis(300),
                    );
                    for report in hits.await {
                        out.push(Hit {
                            doc: Some(i),
                            report,
                        });
                    }
                }
            }
            // Whatever fired only in company, or was not replayed, is still a hit.
            if out.len() == before {
                out.extend(here.into_iter().map(|report| Hit { doc: None, report }));
            }
        }
        eprintln!(
            "xss: rendered {} responses ({} MB) in {} pages in {:.1} s",
            docs.len(),
            docs.iter().map(|d| d.body.len()).sum::<usize>() >> 20,
            groups.len(),
            started.elapsed().as_secs_f64()
        );
        out
    }

    fn add_page(&self, ids: Vec<usize>) -> usize {
        let mut pages = self.shared.pages.lock().unwrap();
        pages.push(ids);
        pages.len() - 1
    }

    pub async fn close(self) {
        for c in self.clients {
            c.close().await.ok();
        }
    }
}

/// The response a trap report names: `None` when it names no element, `Some(None)` for the
/// first response of its page.
fn doc_named(report: &str) -> Option<Option<usize>> {
    let v: serde_json::Value = serde_json::from_str(report).ok()?;
    match v["doc"].as_str()? {
        "" => None,
        "first" => Some(None),
        d => Some(d.parse().ok()),
    }
}

/// The replay page a trap report came from, if it says.
fn page_named(report: &str) -> Option<usize> {
    let v: serde_json::Value = serde_json::from_str(report).ok()?;
    let url = v["url"].as_str()?;
    url.split("/__xss/page/").nth(1)?.parse().ok()
}
