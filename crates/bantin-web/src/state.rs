//! The state every handler shares.

use std::sync::Arc;

use axum::extract::FromRef;
use axum_extra::extract::cookie::Key;
use bantin_store::Store;

use crate::assets::Assets;
use crate::cache::PageCache;
use crate::limits::Limiters;
use crate::pages::Site;
use crate::render::Renderer;
use crate::security::Signer;
use crate::{Catalog, ViewCounter, WebSettings};

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    store: Store,
    settings: WebSettings,
    catalog: Catalog,
    renderer: Renderer,
    assets: Assets,
    signer: Signer,
    cookie_key: Key,
    views: ViewCounter,
    page_cache: Option<PageCache>,
    visitor_hasher: std::hash::RandomState,
    site: std::sync::RwLock<Option<(u64, Arc<Site>)>>,
    limiters: Limiters,
    hash_permits: tokio::sync::Semaphore,
}

impl AppState {
    /// Builds the state: loads templates and assets once. `secret` is the installation's
    /// signing secret (at least 64 bytes), kept in the database so every node shares it.
    pub fn new(store: Store, settings: WebSettings, secret: &[u8]) -> Self {
        let settings_cache_bytes = settings.page_cache_bytes;
        let catalog = Catalog::new(settings.language);
        let assets = Assets::build();
        let renderer = Renderer::new(catalog.clone(), &settings, &assets);
        let signer = Signer::new(secret);
        let cookie_key = Key::from(secret);
        let limiters = Limiters::new(&settings);
        Self(Arc::new(Inner {
            store,
            settings,
            catalog,
            renderer,
            assets,
            signer,
            cookie_key,
            views: ViewCounter::new(),
            page_cache: (settings_cache_bytes > 0).then(|| PageCache::new(settings_cache_bytes)),
            visitor_hasher: std::hash::RandomState::new(),
            site: std::sync::RwLock::new(None),
            limiters,
            // Password hashing is CPU-bound: a few at a time keeps a flood of sign-ins from
            // starving page rendering.
            hash_permits: tokio::sync::Semaphore::new(2),
        }))
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.0.store
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
        self.0.page_cache.as_ref()
    }

    /// Keys the visitor digests of view counting (random per process).
    pub(crate) fn visitor_hasher(&self) -> &std::hash::RandomState {
        &self.0.visitor_hasher
    }

    /// The category tree read at content generation `generation`, if still current.
    pub(crate) fn cached_site(&self, generation: u64) -> Option<Arc<Site>> {
        let guard = self.0.site.read().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|(g, _)| *g == generation)
            .map(|(_, s)| s.clone())
    }

    pub(crate) fn cache_site(&self, generation: u64, site: Arc<Site>) {
        *self.0.site.write().unwrap_or_else(|e| e.into_inner()) = Some((generation, site));
    }

    pub(crate) fn limiters(&self) -> &Limiters {
        &self.0.limiters
    }

    pub(crate) fn hash_permits(&self) -> &tokio::sync::Semaphore {
        &self.0.hash_permits
    }

    /// The in-memory view counter; the binary flushes it periodically and at shutdown.
    pub fn views(&self) -> &ViewCounter {
        &self.0.views
    }
}

impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Self {
        state.0.cookie_key.clone()
    }
}
