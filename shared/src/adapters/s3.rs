//! The cloud blob adapter: one S3 bucket, keys as the blob keys (tenant id
//! first), presigned GET and PUT through the SDK's presigning. Large files
//! stream both ways: from a path into one PutObject, and out of GetObject's
//! body as an `AsyncRead`.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use chrono::{DateTime, Utc};

use super::aws::{Failure, classify};
use crate::ports::blobs::{
    BlobMeta, BlobReader, DEFAULT_CONTENT_TYPE, check_content_type, check_single_put_size,
};
use crate::ports::{Blob, BlobError, BlobKey, BlobPrefix, BlobStore, PresignedRequest};

#[derive(Debug, Clone)]
pub struct S3BlobStore {
    client: Client,
    bucket: String,
}

impl S3BlobStore {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// Creates the bucket in the client's region (for tests and local runs
    /// against an emulator; deployed buckets come from the SAM template).
    /// A bucket we already own is fine.
    pub async fn create_bucket(client: &Client, bucket: &str) -> Result<(), BlobError> {
        let mut request = client.create_bucket().bucket(bucket);
        let region = client
            .config()
            .region()
            .map(|r| r.as_ref().to_owned())
            .unwrap_or_else(|| "us-east-1".to_owned());
        // us-east-1 is the one region that must not be named.
        if region != "us-east-1" {
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region.as_str()))
                    .build(),
            );
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_bucket_already_owned_by_you()) =>
            {
                Ok(())
            }
            Err(e) => Err(sdk_error(e)),
        }
    }

    fn presigning(expires_in: Duration) -> Result<(PresigningConfig, SystemTime), BlobError> {
        let start = SystemTime::now();
        let config = PresigningConfig::builder()
            .start_time(start)
            .expires_in(expires_in)
            .build()
            .map_err(|e| BlobError::InvalidRequest(e.to_string()))?;
        Ok((config, start + expires_in))
    }
}

/// Maps an SDK failure: throttling or a transient failure is `Unavailable`
/// (worth retrying); anything else is `Backend`.
fn sdk_error<E>(err: SdkError<E, HttpResponse>) -> BlobError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match classify(&err) {
        Failure::Throttled { code, message } => {
            BlobError::Unavailable(format!("{code}: {message}"))
        }
        Failure::Transient(details) => BlobError::Unavailable(details),
        Failure::Service { code, message } => BlobError::Backend(format!("{code}: {message}")),
        Failure::Local(details) => BlobError::Backend(details),
    }
}

fn presigned(
    request: aws_sdk_s3::presigning::PresignedRequest,
    expires_at: SystemTime,
) -> Result<PresignedRequest, BlobError> {
    let method = http::Method::from_bytes(request.method().as_bytes())
        .map_err(|e| BlobError::Backend(e.to_string()))?;
    Ok(PresignedRequest {
        method,
        url: request.uri().to_owned(),
        headers: request
            .headers()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
        expires_at: DateTime::<Utc>::from(expires_at),
    })
}

#[async_trait]
impl BlobStore for S3BlobStore {
    fn backend(&self) -> &'static str {
        "s3"
    }

    async fn put(
        &self,
        key: &BlobKey,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), BlobError> {
        check_content_type(content_type)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<Blob>, BlobError> {
        let output = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None);
            }
            Err(e) => return Err(sdk_error(e)),
        };
        let content_type = output
            .content_type()
            .unwrap_or(DEFAULT_CONTENT_TYPE)
            .to_owned();
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| BlobError::Unavailable(e.to_string()))?
            .into_bytes()
            .to_vec();
        Ok(Some(Blob {
            bytes,
            content_type,
        }))
    }

    async fn head(&self, key: &BlobKey) -> Result<Option<BlobMeta>, BlobError> {
        let output = match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(output) => output,
            // HEAD answers carry no body, so a missing key is a bare 404.
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => {
                return Ok(None);
            }
            Err(e) => return Err(sdk_error(e)),
        };
        let size = output
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| BlobError::Backend("HeadObject answered no length".to_owned()))?;
        let content_type = output
            .content_type()
            .unwrap_or(DEFAULT_CONTENT_TYPE)
            .to_owned();
        Ok(Some(BlobMeta { size, content_type }))
    }

    async fn open(&self, key: &BlobKey) -> Result<Option<BlobReader>, BlobError> {
        let output = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None);
            }
            Err(e) => return Err(sdk_error(e)),
        };
        // The body arrives as the reader reads it; one GET serves one
        // version of the object, even if it is replaced meanwhile.
        Ok(Some(Box::pin(output.body.into_async_read())))
    }

    /// One PutObject streaming the file from disk; S3 takes at most 5 GB in
    /// a single PUT (beyond that it takes a multipart upload), which
    /// [`check_single_put_size`] enforces before sending anything.
    async fn put_file(
        &self,
        key: &BlobKey,
        path: &std::path::Path,
        content_type: &str,
    ) -> Result<(), BlobError> {
        check_content_type(content_type)?;
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|e| {
                BlobError::InvalidRequest(format!("the file to store cannot be read: {e}"))
            })?
            .len();
        check_single_put_size(size)?;
        let body = ByteStream::from_path(path).await.map_err(|e| {
            BlobError::InvalidRequest(format!("the file to store cannot be read: {e}"))
        })?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .body(body)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    async fn list(&self, prefix: &BlobPrefix) -> Result<Vec<BlobKey>, BlobError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix.as_str())
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(sdk_error)?;
            for object in page.contents() {
                let Some(raw) = object.key() else { continue };
                match BlobKey::from_storage(raw) {
                    Ok(key) => keys.push(key),
                    Err(_) => tracing::warn!("skipping an object that is not a blob key"),
                }
            }
        }
        // S3 lists in UTF-8 byte order already; the port promises it.
        keys.sort_unstable();
        Ok(keys)
    }

    async fn presign_get(
        &self,
        key: &BlobKey,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        let (config, expires_at) = Self::presigning(expires_in)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .presigned(config)
            .await
            .map_err(sdk_error)?;
        presigned(request, expires_at)
    }

    async fn presign_put(
        &self,
        key: &BlobKey,
        content_type: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        check_content_type(content_type)?;
        let (config, expires_at) = Self::presigning(expires_in)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .presigned(config)
            .await
            .map_err(sdk_error)?;
        presigned(request, expires_at)
    }

    /// The SDK signs every header set on the request, Content-Length
    /// included (it only leaves out the length it would derive from an
    /// empty body): the URL's `X-Amz-SignedHeaders` names `content-length`,
    /// so S3 answers 403 to a PUT declaring any other length, and the
    /// HTTP framing stops the body at the declared length.
    async fn presign_put_sized(
        &self,
        key: &BlobKey,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        check_content_type(content_type)?;
        check_single_put_size(content_length)?;
        let content_length = i64::try_from(content_length)
            .map_err(|_| BlobError::InvalidRequest("content length out of range".to_owned()))?;
        let (config, expires_at) = Self::presigning(expires_in)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .content_length(content_length)
            .presigned(config)
            .await
            .map_err(sdk_error)?;
        presigned(request, expires_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TenantId;
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

    /// A client that never connects: presigning is computed locally.
    fn offline_store() -> S3BlobStore {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-central-1"))
            .credentials_provider(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            ))
            .build();
        S3BlobStore::new(Client::from_conf(config), "emma-blobs")
    }

    fn query_param(url: &str, name: &str) -> Option<String> {
        url::Url::parse(url)
            .unwrap()
            .query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    #[tokio::test]
    async fn a_sized_presigned_put_signs_its_content_length_and_type() {
        let store = offline_store();
        let key = BlobKey::new(&TenantId::parse("spk-a").unwrap(), "imports/a.csv").unwrap();
        let put = store
            .presign_put_sized(&key, "text/csv", 524_288_000, Duration::from_secs(600))
            .await
            .unwrap();
        assert_eq!(put.method, http::Method::PUT);
        let signed = query_param(&put.url, "X-Amz-SignedHeaders").expect("signed headers");
        let signed: Vec<&str> = signed.split(';').collect();
        assert!(signed.contains(&"content-length"), "{signed:?}");
        assert!(signed.contains(&"content-type"), "{signed:?}");
        let header = |name: &str| {
            put.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("content-length"), Some("524288000"));
        assert_eq!(header("content-type"), Some("text/csv"));
    }

    #[tokio::test]
    async fn an_unsized_presigned_put_leaves_the_length_to_the_client() {
        let store = offline_store();
        let key = BlobKey::new(&TenantId::parse("spk-a").unwrap(), "assets/a.png").unwrap();
        let put = store
            .presign_put(&key, "image/png", Duration::from_secs(600))
            .await
            .unwrap();
        let signed = query_param(&put.url, "X-Amz-SignedHeaders").expect("signed headers");
        assert!(
            !signed.split(';').any(|h| h == "content-length"),
            "{signed}"
        );
    }
}
