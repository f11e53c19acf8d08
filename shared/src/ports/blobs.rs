//! The blob port: files such as images and uploads, under tenant-first keys,
//! with presigned URLs so browsers upload and download directly.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::TenantId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    #[error("invalid blob path: {0}")]
    InvalidKey(String),
    #[error("invalid blob request: {0}")]
    InvalidRequest(String),
    #[error("the blob store is unavailable: {0}")]
    Unavailable(String),
    #[error("the blob store failed: {0}")]
    Backend(String),
}

/// The content type of a blob stored without one (as S3 answers for such
/// objects).
pub const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";
/// The longest content type a blob may carry.
pub const MAX_CONTENT_TYPE_LEN: usize = 255;

/// Checks the content type a blob is stored or uploaded with: a media type
/// `type/subtype`, optionally followed by parameters (`; charset=utf-8`), in
/// printable ASCII, at most [`MAX_CONTENT_TYPE_LEN`] characters. Every
/// adapter refuses anything else with `InvalidRequest`, before storing or
/// signing anything.
pub fn check_content_type(content_type: &str) -> Result<(), BlobError> {
    let invalid = || {
        BlobError::InvalidRequest(
            "a content type is a media type such as image/png, in printable ASCII".to_owned(),
        )
    };
    if content_type.len() > MAX_CONTENT_TYPE_LEN
        || !content_type.bytes().all(|b| (0x20..0x7f).contains(&b))
    {
        return Err(invalid());
    }
    let media_type = content_type.split(';').next().unwrap_or_default();
    let Some((kind, subtype)) = media_type.split_once('/') else {
        return Err(invalid());
    };
    // RFC 9110 token characters.
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if !token(kind) || !token(subtype.trim_end()) {
        return Err(invalid());
    }
    Ok(())
}

/// `<tenant id>/<path>`, where the path is 1 to 8 segments of
/// `A-Za-z0-9._-` (no segment of only dots), at most 512 characters in all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobKey(String);

impl BlobKey {
    pub fn new(tenant: &TenantId, path: &str) -> Result<Self, BlobError> {
        validate_path(path)?;
        Ok(Self(format!("{tenant}/{path}")))
    }

    /// Rebuilds a key read back from a listing or a presigned URL; checks it
    /// has the shape `new` gives.
    pub(crate) fn from_storage(raw: &str) -> Result<Self, BlobError> {
        let (tenant, path) = raw
            .split_once('/')
            .ok_or_else(|| BlobError::InvalidKey(raw.to_owned()))?;
        let tenant = TenantId::parse(tenant).map_err(|_| BlobError::InvalidKey(raw.to_owned()))?;
        Self::new(&tenant, path)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn tenant(&self) -> TenantId {
        let tenant = self.0.split_once('/').map(|(t, _)| t).unwrap_or_default();
        TenantId::parse(tenant).expect("a blob key starts with a valid tenant id")
    }
}

fn validate_path(path: &str) -> Result<(), BlobError> {
    let bad = || BlobError::InvalidKey(path.to_owned());
    if path.is_empty() || path.len() > 512 {
        return Err(bad());
    }
    let segments: Vec<&str> = path.split('/').collect();
    if segments.len() > 8 {
        return Err(bad());
    }
    for segment in segments {
        let ok_chars = segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if segment.is_empty() || !ok_chars || segment.bytes().all(|b| b == b'.') {
            return Err(bad());
        }
    }
    Ok(())
}

/// A path prefix inside one tenant's blobs, for listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobPrefix(String);

impl BlobPrefix {
    /// All blobs of the tenant whose path starts with `path_prefix` ("" for all).
    pub fn new(tenant: &TenantId, path_prefix: &str) -> Result<Self, BlobError> {
        if !path_prefix.is_empty() {
            let trimmed = path_prefix.trim_end_matches('/');
            validate_path(trimmed)?;
        }
        Ok(Self(format!("{tenant}/{path_prefix}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

/// Size and content type of a stored blob, without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    /// The length of the blob in bytes.
    pub size: u64,
    pub content_type: String,
}

/// A blob's bytes as a stream, for files too large to hold in memory.
pub type BlobReader = std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>>;

/// The largest blob [`BlobStore::put_file`] stores and
/// [`BlobStore::presign_put_sized`] signs: 5 GiB, S3's limit for a single
/// PUT. Every adapter refuses more with `InvalidRequest`.
pub const MAX_SINGLE_PUT_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// A request a client can make without credentials until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedRequest {
    pub method: http::Method,
    pub url: String,
    /// Headers the client must send with the request (e.g. Content-Type on PUT).
    pub headers: Vec<(String, String)>,
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    fn backend(&self) -> &'static str;

    /// Stores the bytes, replacing any blob under the key.
    async fn put(&self, key: &BlobKey, bytes: Vec<u8>, content_type: &str)
    -> Result<(), BlobError>;

    async fn get(&self, key: &BlobKey) -> Result<Option<Blob>, BlobError>;

    /// Size and content type of the blob, without reading it; None when
    /// absent.
    async fn head(&self, key: &BlobKey) -> Result<Option<BlobMeta>, BlobError>;

    /// The blob's bytes as a stream (for files too large to hold in
    /// memory); None when absent. The stream reads the blob as it was when
    /// opened, even if it is replaced meanwhile.
    async fn open(&self, key: &BlobKey) -> Result<Option<BlobReader>, BlobError>;

    /// Stores the file at `path` (read as a stream, never whole into
    /// memory), replacing any blob under the key. A file that cannot be
    /// opened, or one larger than [`MAX_SINGLE_PUT_BYTES`], is refused with
    /// `InvalidRequest` and nothing is stored.
    async fn put_file(
        &self,
        key: &BlobKey,
        path: &std::path::Path,
        content_type: &str,
    ) -> Result<(), BlobError>;

    /// Removes the blob; removing an absent blob is not an error.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;

    /// Keys under the prefix, in key order.
    async fn list(&self, prefix: &BlobPrefix) -> Result<Vec<BlobKey>, BlobError>;

    /// A GET that downloads the blob.
    async fn presign_get(
        &self,
        key: &BlobKey,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError>;

    /// A PUT that uploads a blob of the given content type.
    async fn presign_put(
        &self,
        key: &BlobKey,
        content_type: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError>;

    /// A PUT that uploads exactly `content_length` bytes of the given
    /// content type: the length is part of the signature, so a client
    /// cannot send more. Its headers name both `content-type` and
    /// `content-length`. S3 refuses a Content-Length other than the signed
    /// one; the local `/blobs` route does the same, streams the body to a
    /// temporary file beside the target (never into memory), refuses the
    /// upload with 400 as soon as it exceeds the signed length or when it
    /// ends short of it, and publishes the blob atomically only when it is
    /// complete. A length above [`MAX_SINGLE_PUT_BYTES`] is refused with
    /// `InvalidRequest`.
    async fn presign_put_sized(
        &self,
        key: &BlobKey,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError>;
}

/// Refuses a blob larger than one PUT may carry.
pub fn check_single_put_size(size: u64) -> Result<(), BlobError> {
    if size > MAX_SINGLE_PUT_BYTES {
        return Err(BlobError::InvalidRequest(format!(
            "a blob stored in one piece is at most {MAX_SINGLE_PUT_BYTES} bytes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_put_carries_at_most_five_gibibytes() {
        assert_eq!(check_single_put_size(0), Ok(()));
        assert_eq!(check_single_put_size(MAX_SINGLE_PUT_BYTES), Ok(()));
        assert!(matches!(
            check_single_put_size(MAX_SINGLE_PUT_BYTES + 1),
            Err(BlobError::InvalidRequest(_))
        ));
    }

    #[test]
    fn a_blob_path_cannot_climb_out_of_its_tenant() {
        let t = TenantId::parse("sparkasse-a").unwrap();
        for bad in [
            "", "../x", "a/../b", "/abs", "a//b", "a/b/", "sp ace", "..", "ä.png",
        ] {
            assert!(BlobKey::new(&t, bad).is_err(), "{bad:?}");
        }
        let key = BlobKey::new(&t, "assets/logo-2026.png").unwrap();
        assert_eq!(key.as_str(), "sparkasse-a/assets/logo-2026.png");
        assert_eq!(key.tenant(), t);
        assert_eq!(BlobKey::from_storage(key.as_str()).unwrap(), key);
    }

    #[test]
    fn a_content_type_is_a_media_type_in_printable_ascii() {
        for good in [
            "image/png",
            "image/svg+xml",
            "text/csv; charset=utf-8",
            "application/vnd.ms-excel",
            DEFAULT_CONTENT_TYPE,
        ] {
            assert_eq!(check_content_type(good), Ok(()), "{good:?}");
        }
        let too_long = format!("text/{}", "x".repeat(MAX_CONTENT_TYPE_LEN));
        for bad in [
            "",
            " ",
            "image",
            "/png",
            "image/",
            " image/png",
            "image /png",
            "image/png\r\nx-evil: 1",
            "text/plaïn",
            "image/png\t",
            too_long.as_str(),
        ] {
            assert!(
                matches!(check_content_type(bad), Err(BlobError::InvalidRequest(_))),
                "{bad:?}"
            );
        }
    }
}
