//! The state every handler shares: the services, settings, catalogue, templates, assets, the
//! page cache and the change-feed follower that keeps it current.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use axum::http::HeaderValue;
use axum_extra::extract::cookie::Key;
use bantin_app::{App, ChangeSink, Follower, WebhookSettings, Webhooks};
use bantin_core::{HtmlPolicy, UnixTime};
use bantin_search::Search;
use bantin_store::{Change, Store};

use crate::assets::Assets;
use crate::limits::Limiters;
use crate::page_cache::PageCache;
use crate::render::Renderer;
use crate::signer::Signer;
use crate::site::SiteCache;
use crate::{Catalog, ViewCounter, WebSettings};

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    app: App,
    settings: WebSettings,
    catalog: Catalog,
    renderer: Renderer,
    assets: Assets,
    signer: Signer,
    cookie_key: Key,
    views: ViewCounter,
    page_cache: Option<Arc<PageCache>>,
    site: Arc<SiteCache>,
    limiters: Limiters,
    follower: Arc<Follower>,
    webhooks: Arc<Webhooks>,
    html: HtmlPolicy,
    csp: HeaderValue,
    search: Search,
}

/// Keeps the category tree current.
struct SiteSink(Arc<SiteCache>);

impl ChangeSink for SiteSink {
    fn apply(&self, changes: &[Change]) {
        use bantin_store::ChangeKind::{Category, Site};
        if changes
            .iter()
            .any(|c| matches!(c.kind, Some(Category | Site) | None))
        {
            self.0.invalidate();
        }
    }

    fn reset(&self) {
        self.0.invalidate();
    }
}

/// Keeps the search index in step.
struct SearchSink(Search);

impl ChangeSink for SearchSink {
    fn apply(&self, changes: &[Change]) {
        self.0.changed(changes);
    }

    fn reset(&self) {
        self.0.rebuild_later();
    }
}

impl AppState {
    /// Builds the state: loads templates and assets once and starts following the change
    /// feed from its newest row. `secret` is the installation's signing secret (at least 64
    /// bytes), kept in the database so every process shares it. The caller runs
    /// [`AppState::follower`] (`Follower::run`) in the background.
    pub async fn new(
        app: App,
        settings: WebSettings,
        secret: &[u8],
    ) -> Result<Self, bantin_app::AppError> {
        let catalog = Catalog::new(settings.language);
        let assets = Assets::build();
        let renderer = Renderer::new(catalog.clone(), &settings, &assets);
        let page_cache = (settings.page_cache_bytes > 0)
            .then(|| Arc::new(PageCache::new(settings.page_cache_bytes)));
        let site = Arc::new(SiteCache::default());
        let mut sinks: Vec<Arc<dyn ChangeSink>> = vec![Arc::new(SiteSink(site.clone()))];
        if let Some(cache) = &page_cache {
            sinks.push(cache.clone());
        }
        let webhooks = Webhooks::new(
            app.clone(),
            WebhookSettings {
                allow_private: settings.webhooks_allow_private,
                public_url: settings.public_url.clone(),
                ..WebhookSettings::default()
            },
        );
        sinks.push(webhooks.sink());
        let search = Search::open(app.store().clone(), settings.search.clone())
            .map_err(|e| bantin_app::AppError::Internal(Box::new(e)))?;
        sinks.push(Arc::new(SearchSink(search.clone())));
        let follower = Follower::start(app.store().clone(), sinks).await?;
        let html = HtmlPolicy::new(settings.embeds.clone());
        let csp = crate::settings::content_security_policy(&settings.embeds);
        Ok(Self(Arc::new(Inner {
            html,
            csp,
            limiters: Limiters::new(&settings),
            signer: Signer::new(secret),
            cookie_key: Key::from(secret),
            app,
            settings,
            catalog,
            renderer,
            assets,
            views: ViewCounter::new(),
            page_cache,
            site,
            follower,
            webhooks,
            search,
        })))
    }

    /// The services.
    pub fn app(&self) -> &App {
        &self.0.app
    }

    /// The database, for reads.
    pub fn store(&self) -> &Store {
        self.0.app.store()
    }

    /// Now, by the application clock.
    pub fn now(&self) -> UnixTime {
        self.0.app.now()
    }

    /// The sanitiser's allow-list, with this site's embed hosts: every article body written
    /// through the web passes it.
    pub fn html(&self) -> &HtmlPolicy {
        &self.0.html
    }

    /// The `Content-Security-Policy` of every response.
    pub fn csp(&self) -> &HeaderValue {
        &self.0.csp
    }

    /// Web settings.
    pub fn settings(&self) -> &WebSettings {
        &self.0.settings
    }

    /// UI strings.
    pub fn catalog(&self) -> &Catalog {
        &self.0.catalog
    }

    pub(crate) fn renderer(&self) -> &Renderer {
        &self.0.renderer
    }

    pub(crate) fn assets(&self) -> &Assets {
        &self.0.assets
    }

    pub(crate) fn signer(&self) -> &Signer {
        &self.0.signer
    }

    /// The rendered-page cache, unless turned off.
    pub fn page_cache(&self) -> Option<&PageCache> {
        self.0.page_cache.as_deref()
    }

    pub(crate) fn site_cache(&self) -> &SiteCache {
        &self.0.site
    }

    pub(crate) fn limiters(&self) -> &Limiters {
        &self.0.limiters
    }

    /// The in-memory view counter; the binary flushes it periodically and at shutdown.
    pub fn views(&self) -> &ViewCounter {
        &self.0.views
    }

    /// The change-feed follower feeding the page cache; the binary runs it.
    pub fn follower(&self) -> &Arc<Follower> {
        &self.0.follower
    }

    /// The webhook worker, woken by the change feed; the binary runs it.
    pub fn webhooks(&self) -> &Arc<Webhooks> {
        &self.0.webhooks
    }

    /// The search index; the binary runs [`Search::run`] in the background.
    pub fn search(&self) -> &Search {
        &self.0.search
    }

    /// Waits until every change this process committed is applied to its caches, so the
    /// next page a user sees after their own change already shows it (a few milliseconds;
    /// bounded so a stuck follower never hangs a request).
    pub async fn settle(&self) {
        let mine = self.store().committed_change();
        if self.0.follower.applied() >= mine {
            return;
        }
        // Catch up here rather than wait for the background task: same work, no extra
        // hand-off, and it works whether or not that task is running.
        match tokio::time::timeout(Duration::from_secs(2), self.0.follower.catch_up()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "applying this process's own change failed"),
            Err(_) => tracing::warn!("applying this process's own change took over 2 s"),
        }
    }
}

impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Self {
        state.0.cookie_key.clone()
    }
}
