//! Where library files live, behind one small trait: a folder under the data folder, or an
//! object store (S3-compatible by setting; in memory for tests) through `object_store`.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path as ObjectPath};

/// A boxed future, so [`Storage`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Failure of the storage (the disk, the object store), not of the input.
#[derive(Debug, thiserror::Error)]
#[error("media storage: {0}")]
pub struct StorageError(pub String);

/// Flat storage of named files. Names are made by the library (`[0-9a-f]{32}` plus a suffix).
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// Stores `bytes` under `name`, replacing any file of that name; readers never see part
    /// of a file.
    fn put<'a>(&'a self, name: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), StorageError>>;
    /// The file `name`, or `None`.
    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Bytes>, StorageError>>;
    /// Removes `name` (no error if it is missing).
    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), StorageError>>;
}

/// Whether `name` is one the library makes: no path separators, no dots at the start.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 80
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

fn check(name: &str) -> Result<(), StorageError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(StorageError(format!("invalid file name {name:?}")))
    }
}

/// Files in a folder (`DATA/media/lib`), written to a temporary file and renamed into place.
#[derive(Debug, Clone)]
pub struct LocalFolder {
    dir: PathBuf,
}

impl LocalFolder {
    /// Files under `dir`, created on first write.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

impl Storage for LocalFolder {
    fn put<'a>(&'a self, name: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), StorageError>> {
        Box::pin(async move {
            check(name)?;
            let err = |e: std::io::Error| StorageError(format!("{}: {e}", self.dir.display()));
            tokio::fs::create_dir_all(&self.dir).await.map_err(err)?;
            let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
            tokio::fs::write(&tmp, &bytes).await.map_err(err)?;
            if let Err(e) = tokio::fs::rename(&tmp, self.dir.join(name)).await {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(err(e));
            }
            Ok(())
        })
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Bytes>, StorageError>> {
        Box::pin(async move {
            check(name)?;
            match tokio::fs::read(self.dir.join(name)).await {
                Ok(b) => Ok(Some(b.into())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(StorageError(e.to_string())),
            }
        })
    }

    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), StorageError>> {
        Box::pin(async move {
            check(name)?;
            match tokio::fs::remove_file(self.dir.join(name)).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(StorageError(e.to_string()))
                }
                _ => Ok(()),
            }
        })
    }
}

/// Files in an `object_store` store, under a prefix.
#[derive(Debug, Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

impl ObjectStorage {
    /// Files in `store` under `prefix` (e.g. `media/`).
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> Self {
        Self {
            store,
            prefix: prefix.to_owned(),
        }
    }

    /// An in-memory store (tests, benchmarks).
    pub fn in_memory() -> Self {
        Self::new(Arc::new(object_store::memory::InMemory::new()), "")
    }

    /// An S3-compatible bucket `bucket`, configured from the `AWS_*` environment variables
    /// (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
    /// `AWS_ALLOW_HTTP`).
    #[cfg(feature = "s3")]
    pub fn s3(bucket: &str, prefix: &str) -> Result<Self, StorageError> {
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| StorageError(e.to_string()))?;
        Ok(Self::new(Arc::new(s3), prefix))
    }

    fn path(&self, name: &str) -> ObjectPath {
        ObjectPath::from(format!("{}{name}", self.prefix))
    }
}

impl Storage for ObjectStorage {
    fn put<'a>(&'a self, name: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), StorageError>> {
        Box::pin(async move {
            check(name)?;
            self.store
                .put(&self.path(name), PutPayload::from(bytes))
                .await
                .map(|_| ())
                .map_err(|e| StorageError(e.to_string()))
        })
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Bytes>, StorageError>> {
        Box::pin(async move {
            check(name)?;
            match self.store.get(&self.path(name)).await {
                Ok(r) => r
                    .bytes()
                    .await
                    .map(Some)
                    .map_err(|e| StorageError(e.to_string())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(StorageError(e.to_string())),
            }
        })
    }

    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), StorageError>> {
        Box::pin(async move {
            check(name)?;
            match self.store.delete(&self.path(name)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(StorageError(e.to_string())),
            }
        })
    }
}
