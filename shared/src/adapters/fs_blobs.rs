//! The local blob adapter: each blob is a file under a root folder, its
//! content type in a small sidecar beside it, written atomically (temp file,
//! then rename). Presigned URLs are HMAC-signed links to this process's own
//! `/blobs/...` route, which [`router`] serves.
//!
//! Layout: the blob `<tenant>/a/b.png` is the file `<root>/<tenant>/a/b.png~blob`
//! with its content type in `<root>/<tenant>/a/b.png~type`. The `~` cannot
//! occur in a key, so a blob `a` and a blob `a/b` live side by side (a file
//! `a~blob` and a folder `a`), as they do in S3's flat namespace.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::DateTime;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::RwLock;
use url::Url;

use super::files::write_temp;
use crate::ports::blobs::{DEFAULT_CONTENT_TYPE, check_content_type};
use crate::ports::{Blob, BlobError, BlobKey, BlobPrefix, BlobStore, Clock, PresignedRequest};

const BLOB_SUFFIX: &str = "~blob";
const TYPE_SUFFIX: &str = "~type";
/// Presigned URLs live at most a week, as S3's do.
const MAX_EXPIRY: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// The largest body a presigned PUT accepts unless configured otherwise.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

type HmacSha256 = Hmac<Sha256>;

/// Blobs as files under `root`, with presigned URLs under `public_base_url`.
pub struct FsBlobStore {
    root: PathBuf,
    public_base_url: Url,
    signing_key: Vec<u8>,
    clock: Arc<dyn Clock>,
    max_upload_bytes: usize,
    /// Renames (put, delete) take it for writing, reads for reading, so a
    /// reader never sees new bytes with an old content type.
    renames: RwLock<()>,
}

impl std::fmt::Debug for FsBlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FsBlobStore")
            .field("root", &self.root)
            .field("public_base_url", &self.public_base_url.as_str())
            .field("max_upload_bytes", &self.max_upload_bytes)
            .finish_non_exhaustive()
    }
}

impl FsBlobStore {
    pub fn new(
        root: PathBuf,
        public_base_url: Url,
        signing_key: Vec<u8>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            root,
            public_base_url,
            signing_key,
            clock,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            renames: RwLock::new(()),
        }
    }

    /// The largest body a presigned PUT accepts (default 20 MiB).
    pub fn with_max_upload_bytes(mut self, max_upload_bytes: usize) -> Self {
        self.max_upload_bytes = max_upload_bytes;
        self
    }

    fn file_path(&self, key: &str, suffix: &str) -> PathBuf {
        let mut path = self.root.clone();
        let mut segments = key.split('/').peekable();
        while let Some(segment) = segments.next() {
            if segments.peek().is_some() {
                path.push(segment);
            } else {
                path.push(format!("{segment}{suffix}"));
            }
        }
        path
    }

    fn signature(
        &self,
        method: &Method,
        key: &str,
        expires: i64,
        content_type: &str,
    ) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.signing_key)
            .expect("HMAC-SHA256 takes a key of any length");
        let canonical = format!("emma-blob-v1\n{method}\n{key}\n{expires}\n{content_type}");
        mac.update(canonical.as_bytes());
        mac
    }

    fn presign(
        &self,
        method: Method,
        key: &BlobKey,
        content_type: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        if expires_in > MAX_EXPIRY {
            return Err(BlobError::InvalidRequest(
                "a presigned URL expires within one week".to_owned(),
            ));
        }
        let expires_in = chrono::Duration::from_std(expires_in)
            .map_err(|e| BlobError::InvalidRequest(e.to_string()))?;
        let expires = (self.clock.now() + expires_in).timestamp();
        let signature = self
            .signature(&method, key.as_str(), expires, content_type)
            .finalize()
            .into_bytes();
        let base = self.public_base_url.as_str().trim_end_matches('/');
        let url = format!(
            "{base}/blobs/{}?expires={expires}&signature={}",
            key.as_str(),
            hex::encode(signature)
        );
        let headers = if method == Method::PUT {
            vec![("content-type".to_owned(), content_type.to_owned())]
        } else {
            Vec::new()
        };
        Ok(PresignedRequest {
            method,
            url,
            headers,
            expires_at: DateTime::from_timestamp(expires, 0)
                .ok_or_else(|| BlobError::Backend("expiry out of range".to_owned()))?,
        })
    }

    /// Checks a presigned request: unexpired and signed by us, compared in
    /// constant time.
    fn verify(&self, method: &Method, key: &str, query: Option<&str>, content_type: &str) -> bool {
        let mut expires = None;
        let mut signature = None;
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match name.as_ref() {
                "expires" => expires = value.parse::<i64>().ok(),
                "signature" => signature = hex::decode(value.as_bytes()).ok(),
                _ => {}
            }
        }
        let (Some(expires), Some(signature)) = (expires, signature) else {
            return false;
        };
        if self.clock.now().timestamp() > expires {
            return false;
        }
        self.signature(method, key, expires, content_type)
            .verify_slice(&signature)
            .is_ok()
    }

    /// Collects the keys of all blobs below `dir` (recursively).
    async fn walk(&self, dir: PathBuf) -> Result<Vec<String>, BlobError> {
        let mut keys = Vec::new();
        let mut pending = vec![dir];
        while let Some(dir) = pending.pop() {
            let mut entries = match tokio::fs::read_dir(&dir).await {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_error(e)),
            };
            while let Some(entry) = entries.next_entry().await.map_err(io_error)? {
                let file_type = entry.file_type().await.map_err(io_error)?;
                let path = entry.path();
                if file_type.is_dir() {
                    pending.push(path);
                } else if let Some(key) = self.key_of(&path) {
                    keys.push(key);
                }
            }
        }
        Ok(keys)
    }

    /// The key a blob file stands for, `None` for sidecars and temp files.
    fn key_of(&self, path: &Path) -> Option<String> {
        let relative = path.strip_prefix(&self.root).ok()?;
        let mut segments = Vec::new();
        for component in relative.components() {
            segments.push(component.as_os_str().to_str()?);
        }
        let last = segments.pop()?.strip_suffix(BLOB_SUFFIX)?;
        segments.push(last);
        Some(segments.join("/"))
    }
}

fn io_error(e: std::io::Error) -> BlobError {
    BlobError::Backend(e.to_string())
}

async fn remove_if_present(path: &Path) -> Result<(), BlobError> {
    match tokio::fs::remove_file(path).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(e)),
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    fn backend(&self) -> &'static str {
        "files"
    }

    async fn put(
        &self,
        key: &BlobKey,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), BlobError> {
        check_content_type(content_type)?;
        let blob_path = self.file_path(key.as_str(), BLOB_SUFFIX);
        let type_path = self.file_path(key.as_str(), TYPE_SUFFIX);
        if let Some(parent) = blob_path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io_error)?;
        }
        let blob_temp = write_temp(&blob_path, &bytes).await.map_err(io_error)?;
        let type_temp = match write_temp(&type_path, content_type.as_bytes()).await {
            Ok(temp) => temp,
            Err(e) => {
                let _ = tokio::fs::remove_file(&blob_temp).await;
                return Err(io_error(e));
            }
        };
        let _guard = self.renames.write().await;
        let renamed = async {
            tokio::fs::rename(&type_temp, &type_path).await?;
            tokio::fs::rename(&blob_temp, &blob_path).await
        }
        .await;
        if let Err(e) = renamed {
            let _ = tokio::fs::remove_file(&type_temp).await;
            let _ = tokio::fs::remove_file(&blob_temp).await;
            return Err(io_error(e));
        }
        Ok(())
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<Blob>, BlobError> {
        let _guard = self.renames.read().await;
        let bytes = match tokio::fs::read(self.file_path(key.as_str(), BLOB_SUFFIX)).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(e)),
        };
        let content_type =
            match tokio::fs::read_to_string(self.file_path(key.as_str(), TYPE_SUFFIX)).await {
                Ok(content_type) => content_type,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    DEFAULT_CONTENT_TYPE.to_owned()
                }
                Err(e) => return Err(io_error(e)),
            };
        Ok(Some(Blob {
            bytes,
            content_type,
        }))
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        let _guard = self.renames.write().await;
        remove_if_present(&self.file_path(key.as_str(), BLOB_SUFFIX)).await?;
        remove_if_present(&self.file_path(key.as_str(), TYPE_SUFFIX)).await
    }

    async fn list(&self, prefix: &BlobPrefix) -> Result<Vec<BlobKey>, BlobError> {
        // Walk only the deepest folder the prefix names in full; the rest
        // of the prefix (a partial segment) is matched on the keys.
        let (folder, _) = prefix
            .as_str()
            .rsplit_once('/')
            .expect("a blob prefix starts with the tenant and a slash");
        let mut start = self.root.clone();
        start.extend(folder.split('/'));
        let _guard = self.renames.read().await;
        let mut raw = self.walk(start).await?;
        drop(_guard);
        raw.retain(|key| key.starts_with(prefix.as_str()));
        raw.sort_unstable();
        let mut keys = Vec::with_capacity(raw.len());
        for key in raw {
            match BlobKey::from_storage(&key) {
                Ok(key) => keys.push(key),
                Err(_) => {
                    tracing::warn!("skipping a file that is not a blob key in the blob folder")
                }
            }
        }
        Ok(keys)
    }

    async fn presign_get(
        &self,
        key: &BlobKey,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        self.presign(Method::GET, key, "", expires_in)
    }

    async fn presign_put(
        &self,
        key: &BlobKey,
        content_type: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        check_content_type(content_type)?;
        self.presign(Method::PUT, key, content_type, expires_in)
    }
}

/// Serves the presigned URLs of `store` at `/blobs/{key}`: GET answers the
/// bytes with their content type, PUT stores the body. Requests that are
/// expired or not signed by the store get 403, as S3 answers.
pub fn router(store: Arc<FsBlobStore>) -> Router {
    Router::new()
        .route("/blobs/{*key}", get(download).put(upload))
        .with_state(store)
}

async fn download(
    State(store): State<Arc<FsBlobStore>>,
    UrlPath(key): UrlPath<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if !store.verify(&Method::GET, &key, query.as_deref(), "") {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(key) = BlobKey::from_storage(&key) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match store.get(&key).await {
        Ok(Some(blob)) => {
            let content_type = HeaderValue::from_str(&blob.content_type)
                .unwrap_or(HeaderValue::from_static(DEFAULT_CONTENT_TYPE));
            (
                [
                    (header::CONTENT_TYPE, content_type),
                    // Uploaded content is served from our own origin: never
                    // let a browser sniff it or run it as a page.
                    (
                        header::X_CONTENT_TYPE_OPTIONS,
                        HeaderValue::from_static("nosniff"),
                    ),
                    (
                        header::CONTENT_SECURITY_POLICY,
                        HeaderValue::from_static("default-src 'none'; sandbox"),
                    ),
                ],
                blob.bytes,
            )
                .into_response()
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "reading a blob failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn upload(
    State(store): State<Arc<FsBlobStore>>,
    UrlPath(key): UrlPath<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !store.verify(&Method::PUT, &key, query.as_deref(), content_type) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(key) = BlobKey::from_storage(&key) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared_length.is_some_and(|n| n > store.max_upload_bytes as u64) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let bytes = match axum::body::to_bytes(body, store.max_upload_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    match store.put(&key, bytes.to_vec(), content_type).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "storing an uploaded blob failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TenantId;
    use crate::ports::SystemClock;

    fn store(root: &Path) -> FsBlobStore {
        FsBlobStore::new(
            root.to_owned(),
            Url::parse("http://127.0.0.1:8080/").unwrap(),
            b"test key".to_vec(),
            Arc::new(SystemClock),
        )
    }

    #[test]
    fn a_blob_and_a_folder_of_the_same_name_do_not_collide() {
        let store = store(Path::new("/data"));
        assert_eq!(
            store.file_path("t-1/a", BLOB_SUFFIX),
            PathBuf::from("/data/t-1/a~blob")
        );
        assert_eq!(
            store.file_path("t-1/a/b.png", TYPE_SUFFIX),
            PathBuf::from("/data/t-1/a/b.png~type")
        );
        assert_eq!(
            store.key_of(Path::new("/data/t-1/a/b.png~blob")).as_deref(),
            Some("t-1/a/b.png")
        );
        assert_eq!(store.key_of(Path::new("/data/t-1/a/b.png~type")), None);
    }

    #[tokio::test]
    async fn a_presigned_url_names_the_public_base_and_verifies_only_for_its_method() {
        let store = store(Path::new("/data"));
        let tenant = TenantId::parse("sparkasse-a").unwrap();
        let key = BlobKey::new(&tenant, "assets/logo.png").unwrap();
        let put = store
            .presign_put(&key, "image/png", Duration::from_secs(60))
            .await
            .unwrap();
        assert!(
            put.url
                .starts_with("http://127.0.0.1:8080/blobs/sparkasse-a/assets/logo.png?expires=")
        );
        let query = put.url.split_once('?').unwrap().1;
        assert!(store.verify(&Method::PUT, key.as_str(), Some(query), "image/png"));
        assert!(!store.verify(&Method::PUT, key.as_str(), Some(query), "text/html"));
        assert!(!store.verify(&Method::GET, key.as_str(), Some(query), "image/png"));
        assert!(!store.verify(
            &Method::PUT,
            "sparkasse-b/assets/logo.png",
            Some(query),
            "image/png"
        ));
        assert!(
            store
                .presign_get(&key, Duration::from_secs(8 * 24 * 60 * 60))
                .await
                .is_err()
        );
    }
}
