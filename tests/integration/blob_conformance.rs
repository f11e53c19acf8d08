//! The blob port's conformance suite: the same cases run against the local
//! adapter (files in a temp folder, presigned URLs served by its router on a
//! loopback port) and the cloud adapter (a fresh S3 bucket on the emulator).
//! A few cases about signature checking run on the local adapter only.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use emma::adapters::fs_blobs::{self, FsBlobStore};
use emma::adapters::s3::S3BlobStore;
use emma::domain::TenantId;
use emma::ports::{
    BlobError, BlobKey, BlobPrefix, BlobStore, Clock, ManualClock, PresignedRequest, SystemClock,
};

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

emma_tests::on_both!(
    local: super::local().await,
    cloud: super::cloud().await;
    a_put_blob_is_read_back_with_its_content_type,
    getting_an_absent_blob_answers_none,
    a_deleted_blob_is_gone_and_deleting_it_again_is_fine,
    listing_answers_the_prefix_in_key_order_and_never_another_tenants_keys,
    a_presigned_put_then_a_presigned_get_round_trip_over_http,
    an_empty_or_malformed_content_type_is_refused,
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
