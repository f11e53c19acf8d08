//! The local blob adapter: each blob is a file under a root folder, its
//! content type in a small sidecar beside it, written atomically (temp file,
//! then rename). Presigned URLs are HMAC-signed links to this process's own
//! `/blobs/...` route, which [`router`] serves. A sized presigned PUT
//! streams its body to a temp file beside the blob, counting the bytes
//! against the signed length, and publishes it only when it is complete.
//!
//! Layout: the blob `<tenant>/a/b.png` is the file `<root>/<tenant>/a/b.png~blob`
//! with its content type in `<root>/<tenant>/a/b.png~type`. The `~` cannot
//! occur in a key, so a blob `a` and a blob `a/b` live side by side (a file
//! `a~blob` and a folder `a`), as they do in S3's flat namespace.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::DateTime;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncWriteExt, BufReader, BufWriter};
use tokio::sync::RwLock;
use url::Url;

use super::files::write_temp;
use crate::ports::blobs::{
    BlobMeta, BlobReader, DEFAULT_CONTENT_TYPE, check_content_type, check_single_put_size,
};
use crate::ports::{Blob, BlobError, BlobKey, BlobPrefix, BlobStore, Clock, PresignedRequest};

const BLOB_SUFFIX: &str = "~blob";
const TYPE_SUFFIX: &str = "~type";
/// Presigned URLs live at most a week, as S3's do.
const MAX_EXPIRY: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// The largest body a presigned PUT accepts unless configured otherwise
/// (a sized presigned PUT accepts exactly its signed length instead).
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;
/// The read buffer of an opened blob, and the write buffer of a streamed
/// upload: large enough that a 500 MB file takes a few hundred disk
/// round trips, small enough to hold per request.
const STREAM_BUFFER: usize = 1024 * 1024;

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

    /// The largest body an unsized presigned PUT accepts (default 20 MiB);
    /// a sized one accepts exactly its signed length, whatever this says.
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

    /// The MAC of a presigned request. A sized PUT adds its length as a last
    /// line, so a URL signed with a length never verifies without it (nor
    /// with another one), and unsized URLs keep their old signatures.
    fn signature(
        &self,
        method: &Method,
        key: &str,
        expires: i64,
        content_type: &str,
        length: Option<u64>,
    ) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.signing_key)
            .expect("HMAC-SHA256 takes a key of any length");
        let mut canonical = format!("emma-blob-v1\n{method}\n{key}\n{expires}\n{content_type}");
        if let Some(length) = length {
            let _ = write!(canonical, "\nlength={length}");
        }
        mac.update(canonical.as_bytes());
        mac
    }

    fn presign(
        &self,
        method: Method,
        key: &BlobKey,
        content_type: &str,
        length: Option<u64>,
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
            .signature(&method, key.as_str(), expires, content_type, length)
            .finalize()
            .into_bytes();
        let base = self.public_base_url.as_str().trim_end_matches('/');
        let length_param = length.map(|n| format!("&length={n}")).unwrap_or_default();
        let url = format!(
            "{base}/blobs/{}?expires={expires}{length_param}&signature={}",
            key.as_str(),
            hex::encode(signature)
        );
        let mut headers = Vec::new();
        if method == Method::PUT {
            headers.push(("content-type".to_owned(), content_type.to_owned()));
        }
        if let Some(length) = length {
            headers.push(("content-length".to_owned(), length.to_string()));
        }
        Ok(PresignedRequest {
            method,
            url,
            headers,
            expires_at: DateTime::from_timestamp(expires, 0)
                .ok_or_else(|| BlobError::Backend("expiry out of range".to_owned()))?,
        })
    }

    /// Checks a presigned request: unexpired and signed by us, compared in
    /// constant time. Answers what it grants, `None` when it grants nothing.
    fn verify(
        &self,
        method: &Method,
        key: &str,
        query: Option<&str>,
        content_type: &str,
    ) -> Option<Grant> {
        let mut expires = None;
        let mut signature = None;
        let mut length = None;
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match name.as_ref() {
                "expires" => expires = Some(value.parse::<i64>().ok()?),
                "signature" => signature = Some(hex::decode(value.as_bytes()).ok()?),
                // A length that does not parse grants nothing, rather than
                // falling back to an unsized PUT.
                "length" => length = Some(value.parse::<u64>().ok()?),
                _ => {}
            }
        }
        let (expires, signature) = (expires?, signature?);
        if self.clock.now().timestamp() > expires {
            return None;
        }
        self.signature(method, key, expires, content_type, length)
            .verify_slice(&signature)
            .ok()?;
        Some(Grant { length })
    }

    /// Reads the content type stored beside a blob; the caller holds the
    /// renames lock.
    async fn read_content_type(&self, key: &BlobKey) -> Result<String, BlobError> {
        match tokio::fs::read_to_string(self.file_path(key.as_str(), TYPE_SUFFIX)).await {
            Ok(content_type) => Ok(content_type),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(DEFAULT_CONTENT_TYPE.to_owned())
            }
            Err(e) => Err(io_error(e)),
        }
    }

    /// Creates the blob's folder and an empty temp file beside the blob
    /// (the same naming as every atomic write here), guarded so that it is
    /// removed unless it is published.
    async fn temp_beside(&self, key: &BlobKey) -> Result<TempFile, BlobError> {
        let blob_path = self.file_path(key.as_str(), BLOB_SUFFIX);
        if let Some(parent) = blob_path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io_error)?;
        }
        let temp = write_temp(&blob_path, b"").await.map_err(io_error)?;
        Ok(TempFile::new(temp))
    }

    /// Makes a complete, flushed temp file the blob under `key`, with its
    /// content type: writes the sidecar to its own temp file, then renames
    /// both under the write lock. Temp files are removed on failure.
    async fn publish(
        &self,
        blob_temp: TempFile,
        key: &BlobKey,
        content_type: &str,
    ) -> Result<(), BlobError> {
        let blob_path = self.file_path(key.as_str(), BLOB_SUFFIX);
        let type_path = self.file_path(key.as_str(), TYPE_SUFFIX);
        let type_temp = TempFile::new(
            write_temp(&type_path, content_type.as_bytes())
                .await
                .map_err(io_error)?,
        );
        let _guard = self.renames.write().await;
        tokio::fs::rename(type_temp.path(), &type_path)
            .await
            .map_err(io_error)?;
        type_temp.published();
        tokio::fs::rename(blob_temp.path(), &blob_path)
            .await
            .map_err(io_error)?;
        blob_temp.published();
        Ok(())
    }

    /// Receives the body of a sized presigned PUT: streams it into a temp
    /// file beside the blob, stops as soon as it exceeds `length`, and
    /// publishes it only when exactly `length` bytes arrived. Publishing
    /// runs as its own task, so a client that hangs up once its body is
    /// sent cannot interrupt it between the two renames.
    async fn receive_sized(
        self: &Arc<Self>,
        key: &BlobKey,
        content_type: &str,
        length: u64,
        body: Body,
    ) -> Result<(), UploadError> {
        let temp = self.temp_beside(key).await.map_err(UploadError::Store)?;
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(temp.path())
            .await
            .map_err(|e| UploadError::Store(io_error(e)))?;
        let mut out = BufWriter::with_capacity(STREAM_BUFFER, file);
        let mut stream = body.into_data_stream();
        let mut received: u64 = 0;
        while let Some(frame) =
            std::future::poll_fn(|cx| Pin::new(&mut stream).poll_frame(cx)).await
        {
            let frame = frame.map_err(|_| UploadError::Interrupted)?;
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            received = received.saturating_add(chunk.len() as u64);
            if received > length {
                return Err(UploadError::TooLong);
            }
            out.write_all(&chunk)
                .await
                .map_err(|e| UploadError::Store(io_error(e)))?;
        }
        if received < length {
            return Err(UploadError::TooShort);
        }
        let flushed = async {
            out.flush().await?;
            out.get_ref().sync_all().await
        };
        flushed.await.map_err(|e| UploadError::Store(io_error(e)))?;
        drop(out);
        let store = Arc::clone(self);
        let key = key.clone();
        let content_type = content_type.to_owned();
        tokio::spawn(async move { store.publish(temp, &key, &content_type).await })
            .await
            .map_err(|e| UploadError::Store(BlobError::Backend(e.to_string())))?
            .map_err(UploadError::Store)
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

/// What a verified presigned request allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Grant {
    /// The exact body length a sized PUT was signed for.
    length: Option<u64>,
}

/// Why a sized upload was not stored.
#[derive(Debug)]
enum UploadError {
    /// The body went past the signed length.
    TooLong,
    /// The body ended before the signed length.
    TooShort,
    /// The body could not be read to its end (the client went away).
    Interrupted,
    /// Receiving or publishing failed on our side.
    Store(BlobError),
}

/// A temp file that is removed when dropped unless it was published
/// (renamed into place): an upload that fails, is refused or is abandoned
/// midway leaves nothing behind.
struct TempFile {
    path: Option<PathBuf>,
}

impl TempFile {
    fn new(path: PathBuf) -> Self {
        Self { path: Some(path) }
    }

    fn path(&self) -> &Path {
        self.path
            .as_deref()
            .expect("a temp file has a path until published")
    }

    /// The file was renamed into place: nothing to remove.
    fn published(mut self) {
        self.path = None;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            // Drop cannot await; removing one file is a short blocking call.
            let _ = std::fs::remove_file(path);
        }
    }
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
        if let Some(parent) = blob_path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io_error)?;
        }
        let blob_temp = TempFile::new(write_temp(&blob_path, &bytes).await.map_err(io_error)?);
        self.publish(blob_temp, key, content_type).await
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<Blob>, BlobError> {
        let _guard = self.renames.read().await;
        let bytes = match tokio::fs::read(self.file_path(key.as_str(), BLOB_SUFFIX)).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(e)),
        };
        let content_type = self.read_content_type(key).await?;
        Ok(Some(Blob {
            bytes,
            content_type,
        }))
    }

    async fn head(&self, key: &BlobKey) -> Result<Option<BlobMeta>, BlobError> {
        let _guard = self.renames.read().await;
        let size = match tokio::fs::metadata(self.file_path(key.as_str(), BLOB_SUFFIX)).await {
            Ok(metadata) => metadata.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(e)),
        };
        let content_type = self.read_content_type(key).await?;
        Ok(Some(BlobMeta { size, content_type }))
    }

    async fn open(&self, key: &BlobKey) -> Result<Option<BlobReader>, BlobError> {
        // An open file keeps reading the bytes it was opened on, even when
        // a put renames a new file over it.
        let _guard = self.renames.read().await;
        match tokio::fs::File::open(self.file_path(key.as_str(), BLOB_SUFFIX)).await {
            Ok(file) => Ok(Some(Box::pin(BufReader::with_capacity(
                STREAM_BUFFER,
                file,
            )))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(e)),
        }
    }

    async fn put_file(
        &self,
        key: &BlobKey,
        path: &Path,
        content_type: &str,
    ) -> Result<(), BlobError> {
        check_content_type(content_type)?;
        let source = tokio::fs::File::open(path).await.map_err(|e| {
            BlobError::InvalidRequest(format!("the file to store cannot be read: {e}"))
        })?;
        let size = source.metadata().await.map_err(io_error)?.len();
        check_single_put_size(size)?;
        let mut source = source.into_std().await;
        let blob_temp = self.temp_beside(key).await?;
        let temp_path = blob_temp.path().to_owned();
        // One blocking copy: on Linux std::io::copy between files runs in
        // the kernel (copy_file_range), never through our memory.
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut target = std::fs::OpenOptions::new().write(true).open(temp_path)?;
            std::io::copy(&mut source, &mut target)?;
            target.sync_all()
        })
        .await
        .map_err(|e| BlobError::Backend(e.to_string()))?
        .map_err(io_error)?;
        self.publish(blob_temp, key, content_type).await
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
        self.presign(Method::GET, key, "", None, expires_in)
    }

    async fn presign_put(
        &self,
        key: &BlobKey,
        content_type: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        check_content_type(content_type)?;
        self.presign(Method::PUT, key, content_type, None, expires_in)
    }

    async fn presign_put_sized(
        &self,
        key: &BlobKey,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        check_content_type(content_type)?;
        check_single_put_size(content_length)?;
        self.presign(
            Method::PUT,
            key,
            content_type,
            Some(content_length),
            expires_in,
        )
    }
}

/// Serves the presigned URLs of `store` at `/blobs/{key}`: GET answers the
/// bytes with their content type, PUT stores the body. Requests that are
/// expired or not signed by the store get 403, as S3 answers. A sized PUT
/// whose Content-Length or body differs from the signed length gets 400
/// and stores nothing.
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
    if store
        .verify(&Method::GET, &key, query.as_deref(), "")
        .is_none()
    {
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
    let Some(grant) = store.verify(&Method::PUT, &key, query.as_deref(), content_type) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let Ok(key) = BlobKey::from_storage(&key) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = grant.length {
        return upload_sized(&store, &key, content_type, length, declared_length, body).await;
    }
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

/// A sized presigned PUT: a declared Content-Length other than the signed
/// one is refused before reading anything (S3 answers such a request 403,
/// its signature no longer matching; both refuse it); a body without one
/// (chunked) is counted as it streams in.
async fn upload_sized(
    store: &Arc<FsBlobStore>,
    key: &BlobKey,
    content_type: &str,
    length: u64,
    declared_length: Option<u64>,
    body: Body,
) -> Response {
    if declared_length.is_some_and(|n| n != length) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    match store.receive_sized(key, content_type, length, body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(UploadError::TooLong | UploadError::TooShort | UploadError::Interrupted) => {
            StatusCode::BAD_REQUEST.into_response()
        }
        Err(UploadError::Store(e)) => {
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
        assert_eq!(
            store.verify(&Method::PUT, key.as_str(), Some(query), "image/png"),
            Some(Grant { length: None })
        );
        assert_eq!(
            store.verify(&Method::PUT, key.as_str(), Some(query), "text/html"),
            None
        );
        assert_eq!(
            store.verify(&Method::GET, key.as_str(), Some(query), "image/png"),
            None
        );
        assert_eq!(
            store.verify(
                &Method::PUT,
                "sparkasse-b/assets/logo.png",
                Some(query),
                "image/png"
            ),
            None
        );
        assert!(
            store
                .presign_get(&key, Duration::from_secs(8 * 24 * 60 * 60))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_sized_put_url_grants_exactly_its_signed_length() {
        let store = store(Path::new("/data"));
        let key = BlobKey::new(&TenantId::parse("sparkasse-a").unwrap(), "imports/a.csv").unwrap();
        let put = store
            .presign_put_sized(&key, "text/csv", 1000, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(
            put.headers,
            [
                ("content-type".to_owned(), "text/csv".to_owned()),
                ("content-length".to_owned(), "1000".to_owned())
            ]
        );
        let query = put.url.split_once('?').unwrap().1;
        assert!(query.contains("&length=1000&"), "{query}");
        let verify =
            |query: &str| store.verify(&Method::PUT, key.as_str(), Some(query), "text/csv");
        assert_eq!(verify(query), Some(Grant { length: Some(1000) }));
        assert_eq!(verify(&query.replace("length=1000", "length=1001")), None);
        assert_eq!(verify(&query.replace("length=1000", "length=x")), None);
        assert_eq!(verify(&query.replace("&length=1000", "")), None);
        assert_eq!(
            verify(&format!("{query}&length=999999")),
            None,
            "a second length overrides the signed one and fails"
        );
    }

    #[tokio::test]
    async fn a_sized_put_url_is_refused_above_the_single_put_limit() {
        let store = store(Path::new("/data"));
        let key = BlobKey::new(&TenantId::parse("sparkasse-a").unwrap(), "imports/a.csv").unwrap();
        let too_long = crate::ports::blobs::MAX_SINGLE_PUT_BYTES + 1;
        assert!(matches!(
            store
                .presign_put_sized(&key, "text/csv", too_long, Duration::from_secs(60))
                .await,
            Err(BlobError::InvalidRequest(_))
        ));
    }

    #[tokio::test]
    async fn an_unpublished_temp_file_is_removed_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let key = BlobKey::new(&TenantId::parse("sparkasse-a").unwrap(), "imports/a.csv").unwrap();
        let temp = store.temp_beside(&key).await.unwrap();
        let path = temp.path().to_owned();
        assert!(path.starts_with(dir.path().join("sparkasse-a/imports")));
        assert!(tokio::fs::try_exists(&path).await.unwrap());
        drop(temp);
        assert!(!tokio::fs::try_exists(&path).await.unwrap());

        let temp = store.temp_beside(&key).await.unwrap();
        store.publish(temp, &key, "text/csv").await.unwrap();
        assert_eq!(
            store.head(&key).await.unwrap(),
            Some(BlobMeta {
                size: 0,
                content_type: "text/csv".to_owned()
            })
        );
        let mut names = Vec::new();
        let mut entries = tokio::fs::read_dir(dir.path().join("sparkasse-a/imports"))
            .await
            .unwrap();
        while let Some(entry) = entries.next_entry().await.unwrap() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        assert_eq!(names, ["a.csv~blob", "a.csv~type"]);
    }
}
