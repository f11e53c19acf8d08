//! The blob port's conformance suite: the same cases run against the local
//! adapter (files in a temp folder, presigned URLs served by its router on a
//! loopback port) and the cloud adapter (a fresh S3 bucket on the emulator).
//! A few cases about signature checking and the local upload route's
//! streaming checks run on the local adapter only.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use emma::adapters::fs_blobs::{self, FsBlobStore};
use emma::adapters::s3::S3BlobStore;
use emma::domain::TenantId;
use emma::ports::blobs::{BlobMeta, BlobReader, MAX_SINGLE_PUT_BYTES};
use emma::ports::{
    BlobError, BlobKey, BlobPrefix, BlobStore, Clock, ManualClock, PresignedRequest, SystemClock,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The size of the "large" files below: more than the local fixture's
/// 1 MiB limit for unsized uploads, and many read buffers long.
const LARGE: usize = 5 * 1024 * 1024;

/// A store under test, with whatever must live as long as the test.
struct Fixture {
    store: Arc<dyn BlobStore>,
    _keep: Box<dyn Any + Send>,
}

/// Serves the local store's presigned URLs on a loopback port; answers
/// the store (with that address as its public base URL) and the temp folder.
async fn served_local_store(
    clock: Arc<dyn Clock>,
    max_upload_bytes: usize,
) -> (Arc<FsBlobStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temp folder");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("the bound address");
    let base = reqwest::Url::parse(&format!("http://{address}/")).expect("a base URL");
    let store = Arc::new(
        FsBlobStore::new(
            dir.path().to_owned(),
            base,
            b"conformance key".to_vec(),
            clock,
        )
        .with_max_upload_bytes(max_upload_bytes),
    );
    let app = fs_blobs::router(store.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (store, dir)
}

async fn local() -> Fixture {
    let (store, dir) = served_local_store(Arc::new(SystemClock), 1024 * 1024).await;
    Fixture {
        store,
        _keep: Box::new(dir),
    }
}

async fn cloud() -> Fixture {
    let client = emma::adapters::aws::s3_client(&emma_tests::aws::config().await);
    let bucket = emma_tests::aws::unique_name("blobs");
    S3BlobStore::create_bucket(&client, &bucket)
        .await
        .expect("a fresh bucket");
    Fixture {
        store: Arc::new(S3BlobStore::new(client, bucket)),
        _keep: Box::new(()),
    }
}

fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).expect("a valid tenant id")
}

fn key(tenant: &TenantId, path: &str) -> BlobKey {
    BlobKey::new(tenant, path).expect("a valid blob key")
}

/// Sends a presigned request as a browser would: its method, its URL and
/// the headers it names, with no credentials.
async fn send(request: &PresignedRequest, body: Option<Vec<u8>>) -> reqwest::Response {
    let mut builder = reqwest::Client::new().request(request.method.clone(), &request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if let Some(body) = body {
        builder = builder.body(body);
    }
    builder.send().await.expect("the presigned URL answers")
}

/// Bytes that differ from their neighbours and do not repeat at any power
/// of two, so a chunk read twice, skipped or shifted shows.
fn patterned(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i % 251) as u8).wrapping_mul(7) ^ ((i / 251) as u8) ^ seed)
        .collect()
}

/// Reads a blob stream to its end in 64 KiB reads, checking each chunk
/// against `expected` as it comes; answers how many bytes it read.
async fn read_comparing(mut reader: BlobReader, expected: &[u8]) -> usize {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut offset = 0;
    loop {
        let n = reader.read(&mut buffer).await.expect("the stream reads");
        if n == 0 {
            return offset;
        }
        assert!(
            offset + n <= expected.len(),
            "the stream runs past {} bytes",
            expected.len()
        );
        assert!(
            buffer[..n] == expected[offset..offset + n],
            "the stream differs within bytes {offset}..{}",
            offset + n
        );
        offset += n;
    }
}

/// A temp file holding `bytes`, for `put_file`.
async fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("a temp file");
    tokio::fs::write(file.path(), bytes)
        .await
        .expect("the temp file is written");
    file
}

fn header<'a>(request: &'a PresignedRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn content_type(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn a_put_blob_is_read_back_with_its_content_type(fx: Fixture) {
    let store = fx.store;
    let logo = key(&tenant("spk-a"), "assets/logo.png");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    store.put(&logo, bytes.clone(), "image/png").await.unwrap();
    let blob = store.get(&logo).await.unwrap().expect("the blob");
    assert_eq!(blob.bytes, bytes);
    assert_eq!(blob.content_type, "image/png");

    store
        .put(&logo, b"<svg/>".to_vec(), "image/svg+xml")
        .await
        .unwrap();
    let blob = store.get(&logo).await.unwrap().expect("the replaced blob");
    assert_eq!(blob.bytes, b"<svg/>");
    assert_eq!(blob.content_type, "image/svg+xml");
}

async fn getting_an_absent_blob_answers_none(fx: Fixture) {
    let absent = key(&tenant("spk-a"), "assets/never-stored.png");
    assert_eq!(fx.store.get(&absent).await.unwrap(), None);
}

async fn a_deleted_blob_is_gone_and_deleting_it_again_is_fine(fx: Fixture) {
    let store = fx.store;
    let t = tenant("spk-a");
    let doomed = key(&t, "imports/contacts.csv");
    let kept = key(&t, "imports/contacts.csv.bak");
    store
        .put(&doomed, b"a;b".to_vec(), "text/csv")
        .await
        .unwrap();
    store.put(&kept, b"c;d".to_vec(), "text/csv").await.unwrap();

    store.delete(&doomed).await.unwrap();
    assert_eq!(store.get(&doomed).await.unwrap(), None);
    store.delete(&doomed).await.unwrap();
    store
        .delete(&key(&t, "imports/never-stored.csv"))
        .await
        .unwrap();

    assert_eq!(store.get(&kept).await.unwrap().unwrap().bytes, b"c;d");
    let listed = store.list(&BlobPrefix::new(&t, "").unwrap()).await.unwrap();
    assert_eq!(listed, vec![kept]);
}

async fn listing_answers_the_prefix_in_key_order_and_never_another_tenants_keys(fx: Fixture) {
    let store = fx.store;
    let mine = tenant("spk");
    // "spk-2/..." starts with "spk" but is another tenant.
    let other = tenant("spk-2");
    for path in ["b.png", "a/z.png", "a.png", "a-b.png", "A.png", "a/y/x.png"] {
        store
            .put(&key(&mine, path), path.as_bytes().to_vec(), "image/png")
            .await
            .unwrap();
    }
    store
        .put(&key(&other, "a.png"), b"theirs".to_vec(), "image/png")
        .await
        .unwrap();

    let list = |prefix: &'static str| {
        let store = store.clone();
        let mine = mine.clone();
        async move {
            let keys = store
                .list(&BlobPrefix::new(&mine, prefix).unwrap())
                .await
                .unwrap();
            keys.iter()
                .map(|k| k.as_str().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list("").await,
        [
            "spk/A.png",
            "spk/a-b.png",
            "spk/a.png",
            "spk/a/y/x.png",
            "spk/a/z.png",
            "spk/b.png"
        ]
    );
    assert_eq!(
        list("a").await,
        ["spk/a-b.png", "spk/a.png", "spk/a/y/x.png", "spk/a/z.png"]
    );
    assert_eq!(list("a/").await, ["spk/a/y/x.png", "spk/a/z.png"]);
    assert_eq!(list("a/y/x").await, ["spk/a/y/x.png"]);
    assert!(list("c").await.is_empty());

    let theirs = store
        .list(&BlobPrefix::new(&other, "").unwrap())
        .await
        .unwrap();
    assert_eq!(theirs, vec![key(&other, "a.png")]);
}

async fn a_presigned_put_then_a_presigned_get_round_trip_over_http(fx: Fixture) {
    let store = fx.store;
    let upload = key(&tenant("spk-a"), "assets/banner.jpg");
    let bytes: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();

    let put = store
        .presign_put(&upload, "image/jpeg", Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(put.method, http::Method::PUT);
    assert!(put.expires_at > chrono::Utc::now());
    let response = send(&put, Some(bytes.clone())).await;
    assert!(response.status().is_success(), "{}", response.status());

    let stored = store
        .get(&upload)
        .await
        .unwrap()
        .expect("the uploaded blob");
    assert_eq!(stored.bytes, bytes);
    assert_eq!(stored.content_type, "image/jpeg");

    let get = store
        .presign_get(&upload, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(get.method, http::Method::GET);
    let response = send(&get, None).await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert_eq!(content_type(&response).as_deref(), Some("image/jpeg"));
    assert_eq!(response.bytes().await.unwrap().to_vec(), bytes);
}

async fn an_empty_or_malformed_content_type_is_refused(fx: Fixture) {
    let store = fx.store;
    let upload = key(&tenant("spk-a"), "assets/typeless.bin");
    for bad in [
        "",
        "   ",
        "png",
        "image/",
        "text/plaïn",
        "image/png\r\nx-evil: 1",
    ] {
        assert!(
            matches!(
                store.put(&upload, b"bytes".to_vec(), bad).await,
                Err(BlobError::InvalidRequest(_))
            ),
            "put with {bad:?}"
        );
        assert!(
            matches!(
                store
                    .presign_put(&upload, bad, Duration::from_secs(60))
                    .await,
                Err(BlobError::InvalidRequest(_))
            ),
            "presigned put with {bad:?}"
        );
    }
    assert_eq!(store.get(&upload).await.unwrap(), None);
}

async fn head_answers_none_when_absent_and_the_size_and_type_of_a_stored_blob(fx: Fixture) {
    let store = fx.store;
    let t = tenant("spk-a");
    let absent = key(&t, "imports/never-stored.csv");
    assert_eq!(store.head(&absent).await.unwrap(), None);

    let stored = key(&t, "imports/contacts.csv");
    store
        .put(&stored, b"email;name\n".to_vec(), "text/csv; charset=utf-8")
        .await
        .unwrap();
    assert_eq!(
        store.head(&stored).await.unwrap(),
        Some(BlobMeta {
            size: 11,
            content_type: "text/csv; charset=utf-8".to_owned()
        })
    );

    store.put(&stored, Vec::new(), "text/csv").await.unwrap();
    assert_eq!(
        store.head(&stored).await.unwrap(),
        Some(BlobMeta {
            size: 0,
            content_type: "text/csv".to_owned()
        })
    );
    store.delete(&stored).await.unwrap();
    assert_eq!(store.head(&stored).await.unwrap(), None);
}

async fn open_streams_back_exactly_the_stored_bytes(fx: Fixture) {
    let store = fx.store;
    let t = tenant("spk-a");
    assert!(
        store
            .open(&key(&t, "imports/never-stored.csv"))
            .await
            .unwrap()
            .is_none()
    );

    let large = key(&t, "imports/large.csv");
    let bytes = patterned(LARGE, 0);
    store.put(&large, bytes.clone(), "text/csv").await.unwrap();
    let reader = store.open(&large).await.unwrap().expect("the stored blob");
    assert_eq!(read_comparing(reader, &bytes).await, LARGE);

    let empty = key(&t, "imports/empty.csv");
    store.put(&empty, Vec::new(), "text/csv").await.unwrap();
    let reader = store.open(&empty).await.unwrap().expect("the empty blob");
    assert_eq!(read_comparing(reader, &[]).await, 0);
}

async fn put_file_stores_a_large_file_and_a_second_put_file_replaces_it(fx: Fixture) {
    let store = fx.store;
    let import = key(&tenant("spk-a"), "imports/upload.csv");
    let first = patterned(LARGE, 1);
    let file = temp_file(&first).await;
    store
        .put_file(&import, file.path(), "text/csv")
        .await
        .unwrap();
    assert_eq!(
        store.head(&import).await.unwrap(),
        Some(BlobMeta {
            size: LARGE as u64,
            content_type: "text/csv".to_owned()
        })
    );
    let blob = store.get(&import).await.unwrap().expect("the stored file");
    assert!(blob.bytes == first, "get answers the file's bytes");
    let reader = store.open(&import).await.unwrap().expect("the stored file");
    assert_eq!(read_comparing(reader, &first).await, LARGE);

    let second = patterned(LARGE / 2 + 3, 2);
    let file = temp_file(&second).await;
    store
        .put_file(&import, file.path(), "application/vnd.ms-excel")
        .await
        .unwrap();
    let blob = store
        .get(&import)
        .await
        .unwrap()
        .expect("the replaced file");
    assert!(blob.bytes == second, "get answers the second file's bytes");
    assert_eq!(blob.content_type, "application/vnd.ms-excel");
    let reader = store
        .open(&import)
        .await
        .unwrap()
        .expect("the replaced file");
    assert_eq!(read_comparing(reader, &second).await, second.len());
}

async fn put_file_of_a_missing_file_or_with_a_bad_content_type_stores_nothing(fx: Fixture) {
    let store = fx.store;
    let import = key(&tenant("spk-a"), "imports/upload.csv");
    let folder = tempfile::tempdir().expect("a temp folder");
    let missing = folder.path().join("never-written.csv");
    assert!(matches!(
        store.put_file(&import, &missing, "text/csv").await,
        Err(BlobError::InvalidRequest(_))
    ));
    let file = temp_file(b"a;b").await;
    assert!(matches!(
        store.put_file(&import, file.path(), "text/plaïn").await,
        Err(BlobError::InvalidRequest(_))
    ));
    assert_eq!(store.head(&import).await.unwrap(), None);
    let listed = store
        .list(&BlobPrefix::new(&tenant("spk-a"), "").unwrap())
        .await
        .unwrap();
    assert!(listed.is_empty(), "{listed:?}");
}

async fn a_presigned_sized_put_of_exactly_the_signed_length_is_stored(fx: Fixture) {
    let store = fx.store;
    let import = key(&tenant("spk-a"), "imports/browser-upload.csv");
    let bytes = patterned(LARGE, 3);
    let put = store
        .presign_put_sized(&import, "text/csv", LARGE as u64, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(put.method, http::Method::PUT);
    assert!(put.expires_at > chrono::Utc::now());
    assert_eq!(header(&put, "content-type"), Some("text/csv"));
    assert_eq!(
        header(&put, "content-length"),
        Some(LARGE.to_string().as_str())
    );

    let response = send(&put, Some(bytes.clone())).await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(
        store.head(&import).await.unwrap(),
        Some(BlobMeta {
            size: LARGE as u64,
            content_type: "text/csv".to_owned()
        })
    );
    let reader = store
        .open(&import)
        .await
        .unwrap()
        .expect("the uploaded blob");
    assert_eq!(read_comparing(reader, &bytes).await, LARGE);
}

async fn a_sized_presigned_put_beyond_one_put_or_with_a_bad_content_type_is_refused(fx: Fixture) {
    let store = fx.store;
    let import = key(&tenant("spk-a"), "imports/huge.csv");
    let sized = |content_type: &'static str, length: u64| {
        let store = store.clone();
        let import = import.clone();
        async move {
            store
                .presign_put_sized(&import, content_type, length, Duration::from_secs(60))
                .await
        }
    };
    assert!(sized("text/csv", MAX_SINGLE_PUT_BYTES).await.is_ok());
    assert!(matches!(
        sized("text/csv", MAX_SINGLE_PUT_BYTES + 1).await,
        Err(BlobError::InvalidRequest(_))
    ));
    assert!(matches!(
        sized("text/csv\r\nx-evil: 1", 10).await,
        Err(BlobError::InvalidRequest(_))
    ));
}

emma_tests::on_both!(
    local: super::local().await,
    cloud: super::cloud().await;
    a_put_blob_is_read_back_with_its_content_type,
    getting_an_absent_blob_answers_none,
    a_deleted_blob_is_gone_and_deleting_it_again_is_fine,
    listing_answers_the_prefix_in_key_order_and_never_another_tenants_keys,
    a_presigned_put_then_a_presigned_get_round_trip_over_http,
    an_empty_or_malformed_content_type_is_refused,
    head_answers_none_when_absent_and_the_size_and_type_of_a_stored_blob,
    open_streams_back_exactly_the_stored_bytes,
    put_file_stores_a_large_file_and_a_second_put_file_replaces_it,
    put_file_of_a_missing_file_or_with_a_bad_content_type_stores_nothing,
    a_presigned_sized_put_of_exactly_the_signed_length_is_stored,
    a_sized_presigned_put_beyond_one_put_or_with_a_bad_content_type_is_refused,
);

/// Signature checks, on the local adapter only: moto does not check S3
/// signatures or expiry, so these cases cannot run against it (real S3
/// answers 403 to each of them, which is what the local router copies).
mod local_signatures {
    use super::*;

    fn with_query(url: &str, name: &str, value: &str) -> String {
        let mut parsed = reqwest::Url::parse(url).unwrap();
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(n, v)| {
                let v = if n == name {
                    value.to_owned()
                } else {
                    v.into_owned()
                };
                (n.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
        parsed.to_string()
    }

    #[tokio::test]
    async fn an_expired_presigned_url_is_refused() {
        let clock = ManualClock::new(chrono::Utc::now());
        let (store, _dir) = served_local_store(Arc::new(clock.clone()), 1024).await;
        let report = key(&tenant("spk-a"), "exports/report.csv");
        store
            .put(&report, b"x;y".to_vec(), "text/csv")
            .await
            .unwrap();
        let get = store
            .presign_get(&report, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(send(&get, None).await.status(), reqwest::StatusCode::OK);

        clock.advance(chrono::Duration::seconds(61));
        assert_eq!(
            send(&get, None).await.status(),
            reqwest::StatusCode::FORBIDDEN
        );

        let put = store
            .presign_put(&report, "text/csv", Duration::from_secs(60))
            .await
            .unwrap();
        clock.advance(chrono::Duration::seconds(61));
        let response = send(&put, Some(b"new".to_vec())).await;
        assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN);
        assert_eq!(store.get(&report).await.unwrap().unwrap().bytes, b"x;y");
    }

    #[tokio::test]
    async fn a_tampered_presigned_url_is_refused() {
        let (store, _dir) = served_local_store(Arc::new(SystemClock), 1024).await;
        let t = tenant("spk-a");
        let mine = key(&t, "exports/report.csv");
        store.put(&mine, b"x;y".to_vec(), "text/csv").await.unwrap();
        store
            .put(
                &key(&t, "exports/other.csv"),
                b"secret".to_vec(),
                "text/csv",
            )
            .await
            .unwrap();
        let get = store
            .presign_get(&mine, Duration::from_secs(60))
            .await
            .unwrap();

        let forged = |url: String| PresignedRequest { url, ..get.clone() };
        let longer = with_query(&get.url, "expires", "99999999999");
        let flipped_signature = {
            let signature = reqwest::Url::parse(&get.url)
                .unwrap()
                .query_pairs()
                .find(|(n, _)| n == "signature")
                .map(|(_, v)| v.into_owned())
                .unwrap();
            let first = if signature.starts_with('0') { "1" } else { "0" };
            with_query(
                &get.url,
                "signature",
                &format!("{first}{}", &signature[1..]),
            )
        };
        let other_key = get.url.replace("report.csv", "other.csv");
        let unsigned = get.url.split('?').next().unwrap().to_owned();
        for url in [longer, flipped_signature, other_key, unsigned] {
            let response = send(&forged(url.clone()), None).await;
            assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN, "{url}");
        }

        // A GET URL does not allow a PUT to the same key.
        let put_with_get_url = PresignedRequest {
            method: http::Method::PUT,
            headers: vec![("content-type".to_owned(), "text/csv".to_owned())],
            ..get.clone()
        };
        let response = send(&put_with_get_url, Some(b"overwritten".to_vec())).await;
        assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN);
        assert_eq!(store.get(&mine).await.unwrap().unwrap().bytes, b"x;y");
    }

    #[tokio::test]
    async fn a_presigned_put_with_another_content_type_is_refused() {
        let (store, _dir) = served_local_store(Arc::new(SystemClock), 1024).await;
        let logo = key(&tenant("spk-a"), "assets/logo.png");
        let put = store
            .presign_put(&logo, "image/png", Duration::from_secs(60))
            .await
            .unwrap();
        let as_html = PresignedRequest {
            headers: vec![("content-type".to_owned(), "text/html".to_owned())],
            ..put.clone()
        };
        let response = send(&as_html, Some(b"<script>".to_vec())).await;
        assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN);
        assert_eq!(store.get(&logo).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_presigned_put_over_the_size_limit_is_refused() {
        let (store, _dir) = served_local_store(Arc::new(SystemClock), 1024).await;
        let big = key(&tenant("spk-a"), "assets/big.bin");
        let put = store
            .presign_put(&big, "application/octet-stream", Duration::from_secs(60))
            .await
            .unwrap();
        let response = send(&put, Some(vec![7; 1025])).await;
        assert_eq!(response.status(), reqwest::StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(store.get(&big).await.unwrap(), None);

        let response = send(&put, Some(vec![7; 1024])).await;
        assert!(response.status().is_success(), "{}", response.status());
        assert_eq!(store.get(&big).await.unwrap().unwrap().bytes.len(), 1024);
    }

    #[tokio::test]
    async fn a_downloaded_blob_may_not_run_as_a_page_of_our_origin() {
        let (store, _dir) = served_local_store(Arc::new(SystemClock), 1024).await;
        let page = key(&tenant("spk-a"), "assets/page.html");
        store
            .put(&page, b"<script>alert(1)</script>".to_vec(), "text/html")
            .await
            .unwrap();
        let get = store
            .presign_get(&page, Duration::from_secs(60))
            .await
            .unwrap();
        let response = send(&get, None).await;
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
        assert!(header("content-security-policy").is_some_and(|csp| csp.contains("sandbox")));
    }
}

/// The local upload route's checks of a sized PUT, on the local adapter
/// only. Real S3 refuses the same requests (a Content-Length other than the
/// signed one breaks the signature: 403; a body that ends short: 400), but
/// moto checks no signatures, so they cannot run against it.
mod local_sized_uploads {
    use super::*;

    /// The signed length of the uploads below.
    const SIGNED: usize = 1000;

    async fn sized_put(store: &FsBlobStore, key: &BlobKey) -> PresignedRequest {
        store
            .presign_put_sized(key, "text/csv", SIGNED as u64, Duration::from_secs(60))
            .await
            .unwrap()
    }

    /// The presigned request without its content-length header, so the
    /// client declares the length of whatever body it sends.
    fn declaring_own_length(request: &PresignedRequest) -> PresignedRequest {
        PresignedRequest {
            headers: vec![("content-type".to_owned(), "text/csv".to_owned())],
            ..request.clone()
        }
    }

    /// Sends a PUT over a bare connection, so the test decides the framing
    /// a client library would fix: `head` holds the framing header(s), and
    /// `end_early` closes the sending side after the body (a client that
    /// gives up mid-upload). Answers the response's status code.
    async fn raw_put(url: &str, head: &str, body: &[u8], end_early: bool) -> u16 {
        let url = reqwest::Url::parse(url).unwrap();
        let address = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
        let target = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        let mut connection = tokio::net::TcpStream::connect(&address).await.unwrap();
        let mut request = format!(
            "PUT {target} HTTP/1.1\r\nhost: {address}\r\ncontent-type: text/csv\r\n{head}\r\n\r\n"
        )
        .into_bytes();
        request.extend_from_slice(body);
        // The server may answer and stop reading before the body is in.
        let _ = connection.write_all(&request).await;
        if end_early {
            let _ = connection.shutdown().await;
        }
        let mut answer = Vec::new();
        let mut buffer = [0u8; 1024];
        while !answer.windows(2).any(|w| w == b"\r\n") {
            match connection.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
        let status_line = String::from_utf8_lossy(&answer);
        status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP status in {status_line:?}"))
    }

    /// `bytes` as one chunk of a chunked body, then the last chunk.
    fn chunked(bytes: &[u8]) -> Vec<u8> {
        let mut body = format!("{:x}\r\n", bytes.len()).into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n0\r\n\r\n");
        body
    }

    /// Every file under `root`: blobs, sidecars and temp files alike.
    fn files_under(root: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        let mut pending = vec![root.to_owned()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        files
    }

    async fn assert_nothing_stored(store: &FsBlobStore, key: &BlobKey, root: &std::path::Path) {
        assert_eq!(store.head(key).await.unwrap(), None);
        assert_eq!(files_under(root), Vec::<std::path::PathBuf>::new());
    }

    #[tokio::test]
    async fn a_sized_put_longer_than_the_signed_length_is_refused_and_leaves_no_file() {
        let (store, dir) = served_local_store(Arc::new(SystemClock), 1024 * 1024).await;
        let import = key(&tenant("spk-a"), "imports/contacts.csv");
        let put = sized_put(&store, &import).await;

        // Declared up front: refused before a byte of the body is read.
        let response = send(&declaring_own_length(&put), Some(patterned(SIGNED + 1, 0))).await;
        assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
        assert_nothing_stored(&store, &import, dir.path()).await;

        // Not declared (chunked): refused once the count passes the length.
        let status = raw_put(
            &put.url,
            "transfer-encoding: chunked",
            &chunked(&patterned(SIGNED + 1, 0)),
            false,
        )
        .await;
        assert_eq!(status, 400);
        assert_nothing_stored(&store, &import, dir.path()).await;
    }

    #[tokio::test]
    async fn a_sized_put_shorter_than_the_signed_length_is_refused_and_leaves_no_file() {
        let (store, dir) = served_local_store(Arc::new(SystemClock), 1024 * 1024).await;
        let import = key(&tenant("spk-a"), "imports/contacts.csv");
        let put = sized_put(&store, &import).await;

        let response = send(&declaring_own_length(&put), Some(patterned(SIGNED - 1, 0))).await;
        assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
        assert_nothing_stored(&store, &import, dir.path()).await;

        let status = raw_put(
            &put.url,
            "transfer-encoding: chunked",
            &chunked(&patterned(SIGNED - 1, 0)),
            false,
        )
        .await;
        assert_eq!(status, 400);
        assert_nothing_stored(&store, &import, dir.path()).await;

        // The signed length declared, the body cut off midway.
        let status = raw_put(
            &put.url,
            &format!("content-length: {SIGNED}"),
            &patterned(SIGNED / 2, 0),
            true,
        )
        .await;
        assert_eq!(status, 400);
        assert_nothing_stored(&store, &import, dir.path()).await;

        // The signed length still uploads.
        let bytes = patterned(SIGNED, 0);
        let response = send(&put, Some(bytes.clone())).await;
        assert!(response.status().is_success(), "{}", response.status());
        assert_eq!(store.get(&import).await.unwrap().unwrap().bytes, bytes);
    }

    #[tokio::test]
    async fn a_sized_put_url_with_a_tampered_or_missing_length_is_forbidden() {
        let (store, dir) = served_local_store(Arc::new(SystemClock), 1024 * 1024).await;
        let import = key(&tenant("spk-a"), "imports/contacts.csv");
        let put = sized_put(&store, &import).await;
        let signed = format!("length={SIGNED}");
        assert!(put.url.contains(&signed), "{}", put.url);

        let longer = PresignedRequest {
            url: put.url.replace(&signed, &format!("length={}", SIGNED * 10)),
            headers: vec![
                ("content-type".to_owned(), "text/csv".to_owned()),
                ("content-length".to_owned(), (SIGNED * 10).to_string()),
            ],
            ..put.clone()
        };
        let response = send(&longer, Some(patterned(SIGNED * 10, 0))).await;
        assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN);

        // Without its length the URL is no unsized PUT either.
        let unsized_url = PresignedRequest {
            url: put.url.replace(&format!("&{signed}"), ""),
            ..declaring_own_length(&put)
        };
        let response = send(&unsized_url, Some(patterned(SIGNED * 10, 0))).await;
        assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN);

        let response = send(
            &PresignedRequest {
                headers: vec![
                    ("content-type".to_owned(), "text/html".to_owned()),
                    ("content-length".to_owned(), SIGNED.to_string()),
                ],
                ..put.clone()
            },
            Some(patterned(SIGNED, 0)),
        )
        .await;
        assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN);
        assert_nothing_stored(&store, &import, dir.path()).await;
    }
}
