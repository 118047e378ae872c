//! The media library's file side: intake by content with limits checked before decoding
//! ([`process`]), safe display names ([`name`]), responsive variants, and the storage they go
//! to ([`storage`]: a local folder or an object store). No database: the services in
//! `bantin-app` record what is stored.

pub mod name;
pub mod process;
pub mod sniff;
pub mod storage;
mod webp;

use std::sync::Arc;

use bytes::Bytes;

pub use name::safe_file_name;
pub use process::{IntakeError, IntakeSettings, OutFile, Prepared, prepare, variant_name};
pub use sniff::Format;
pub use storage::{LocalFolder, ObjectStorage, Storage, StorageError};

/// URL prefix library files are served under.
pub const URL_PREFIX: &str = "/media/lib/";

/// The library's files: storage, intake rules and the bound on concurrent intake work
/// (cheap to clone).
#[derive(Clone, Debug)]
pub struct Media {
    storage: Arc<dyn Storage>,
    settings: Arc<IntakeSettings>,
    permits: Arc<tokio::sync::Semaphore>,
}

/// Why an intake failed: the input (tell the uploader) or the storage (log it).
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The file was refused.
    #[error(transparent)]
    Intake(#[from] IntakeError),
    /// Storing failed; nothing was left behind.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl Media {
    /// A library over `storage`, processing at most `workers` files at once.
    pub fn new(storage: Arc<dyn Storage>, settings: IntakeSettings, workers: usize) -> Self {
        Self {
            storage,
            settings: Arc::new(settings),
            permits: Arc::new(tokio::sync::Semaphore::new(workers.max(1))),
        }
    }

    /// The intake rules.
    pub fn settings(&self) -> &IntakeSettings {
        &self.settings
    }

    /// The storage, for serving files.
    pub fn storage(&self) -> &dyn Storage {
        self.storage.as_ref()
    }

    /// Checks and processes `bytes` off the async executor, a bounded number at a time.
    pub async fn prepare(&self, bytes: Bytes, name: &str) -> Result<Prepared, IntakeError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| IntakeError::Encode(e.to_string()))?;
        let settings = self.settings.clone();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || prepare(&bytes, &name, &settings))
            .await
            .map_err(|e| IntakeError::Encode(format!("intake worker failed: {e}")))?
    }

    /// Stores every file of `prepared`, or none: on a failure the files already written are
    /// removed again.
    pub async fn store(&self, prepared: &Prepared) -> Result<(), StorageError> {
        for (i, f) in prepared.files.iter().enumerate() {
            if let Err(e) = self.storage.put(&f.name, f.bytes.clone()).await {
                for done in &prepared.files[..i] {
                    let _ = self.storage.delete(&done.name).await;
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Removes every file of an item (`key`, its extension and variant widths).
    pub async fn remove(
        &self,
        key: &str,
        ext: &str,
        width: Option<u32>,
        widths: &[u32],
    ) -> Result<(), StorageError> {
        for name in file_names(key, ext, width, widths) {
            self.storage.delete(&name).await?;
        }
        Ok(())
    }
}

/// Every storage name an item may have.
pub fn file_names(key: &str, ext: &str, width: Option<u32>, widths: &[u32]) -> Vec<String> {
    let mut names = vec![format!("{key}.{ext}")];
    if let Some(full) = width {
        for &w in widths {
            if ext != "webp" {
                names.push(variant_name(key, w, ext));
            }
            names.push(variant_name(key, w, "webp"));
        }
        if ext != "webp" {
            names.push(variant_name(key, full, "webp"));
        }
        for orig in ["jpg", "png", "gif", "webp"] {
            names.push(format!("{key}-original.{orig}"));
        }
    }
    names
}

/// The URL of a library file.
pub fn url(name: &str) -> String {
    format!("{URL_PREFIX}{name}")
}

/// A `srcset` of an image `key` of `width` px with variants at `widths`: in WebP (`webp`) or
/// in its own format `ext`.
pub fn srcset(key: &str, ext: &str, width: u32, widths: &[u32], webp: bool) -> String {
    let mut parts: Vec<String> = widths
        .iter()
        .filter(|&&w| w < width)
        .map(|&w| {
            let e = if webp { "webp" } else { ext };
            format!("{} {w}w", url(&variant_name(key, w, e)))
        })
        .collect();
    let full = if webp && ext != "webp" {
        url(&variant_name(key, width, "webp"))
    } else {
        url(&format!("{key}.{ext}"))
    };
    parts.push(format!("{full} {width}w"));
    parts.join(", ")
}

/// Splits a library URL path (`/media/lib/{key}.{ext}` or a variant of it) into the key.
pub fn key_of_url(url: &str) -> Option<&str> {
    let file = url.strip_prefix(URL_PREFIX)?;
    let key = file.get(..32)?;
    key.bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        .then_some(key)
}
