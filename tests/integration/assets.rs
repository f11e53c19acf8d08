//! The image library on both adapter sets: an image announced, uploaded by
//! its presigned PUT and checked is served publicly with long caching; a
//! 20 MB image is refused before anything is stored; an SVG with a script
//! or a text file named like an image is refused after the upload and
//! removed; a used image is deleted only when confirmed; another tenant's
//! image is not found, through the API or its public address.

use emma::domain::Role;
use emma_tests::app::{Adapters, TestApp, spawn};
use emma_tests::http::Client;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::skeleton::create_tenant;

emma_tests::on_both_adapter_sets!(
    an_uploaded_image_is_checked_and_served_publicly_with_long_caching,
    a_twenty_megabyte_image_is_refused_before_anything_is_stored,
    an_svg_with_a_script_or_a_text_file_is_refused_and_removed,
    a_used_image_is_deleted_only_when_confirmed,
    another_tenants_image_is_not_found,
);

/// A one-pixel PNG.
pub(crate) const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// Announces and uploads a file; answers the asset's id.
async fn uploaded(
    app: &TestApp,
    editor: &Client,
    tenant: &str,
    name: &str,
    bytes: &[u8],
) -> String {
    uploaded_with(app, editor, tenant, name, bytes).await.0
}

/// Announces and uploads a file; answers the asset's id and its upload.
async fn uploaded_with(
    app: &TestApp,
    editor: &Client,
    tenant: &str,
    name: &str,
    bytes: &[u8],
) -> (String, emma::ports::PresignedRequest) {
    let reply = editor
        .post_json(
            &format!("/api/tenants/{tenant}/assets"),
            &json!({ "file_name": name, "size_bytes": bytes.len() }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert_eq!(reply.json["asset"]["status"], "awaiting_upload");
    let upload: emma::ports::PresignedRequest = emma::ports::PresignedRequest {
        method: reply.json["upload"]["method"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
        url: reply.json["upload"]["url"].as_str().unwrap().to_owned(),
        headers: serde_json::from_value(reply.json["upload"]["headers"].clone()).unwrap(),
        expires_at: chrono::Utc::now(),
    };
    let (status, _) = app.perform_presigned(&upload, bytes.to_vec()).await;
    assert!(status.is_success(), "the upload: {status}");
    (
        reply.json["asset"]["id"].as_str().unwrap().to_owned(),
        upload,
    )
}

async fn finish(editor: &Client, tenant: &str, id: &str) -> (StatusCode, Value) {
    let reply = editor
        .post_json(
            &format!("/api/tenants/{tenant}/assets/{id}/finish"),
            &json!({}),
        )
        .await;
    (reply.status, reply.json)
}

async fn count(editor: &Client, tenant: &str) -> usize {
    let reply = editor.get(&format!("/api/tenants/{tenant}/assets")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    reply.json["assets"].as_array().unwrap().len()
}

/// The path of an absolute public URL.
fn path_of(url: &str) -> String {
    url::Url::parse(url)
        .expect("an absolute URL")
        .path()
        .to_owned()
}

async fn an_uploaded_image_is_checked_and_served_publicly_with_long_caching(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Bilder").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let (id, upload) = uploaded_with(&app, &editor, &tenant, "Weihnachtsbaum.png", PIXEL_PNG).await;

    // Not served before the check.
    let path = format!("/img/{tenant}/{id}.png");
    assert_eq!(
        app.anonymous().get(&path).await.status,
        StatusCode::NOT_FOUND
    );

    let (status, asset) = finish(&editor, &tenant, &id).await;
    assert_eq!(status, StatusCode::OK, "{asset}");
    assert_eq!(asset["status"], "ready");
    assert_eq!(asset["kind"], "png");
    assert_eq!(asset["name"], "Weihnachtsbaum.png");
    let url = asset["url"].as_str().unwrap();
    assert_eq!(path_of(url), path);

    let served = app.anonymous().get(&path).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.body, PIXEL_PNG);
    assert_eq!(served.headers[http::header::CONTENT_TYPE], "image/png");
    assert_eq!(
        served.headers[http::header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        served.headers[http::header::X_CONTENT_TYPE_OPTIONS],
        "nosniff"
    );
    // The upload, sent again after the check, replaces nothing served.
    let (status, _) = app
        .perform_presigned(&upload, vec![b'x'; PIXEL_PNG.len()])
        .await;
    assert!(
        status.is_success(),
        "the presigned PUT is still valid: {status}"
    );
    assert_eq!(app.anonymous().get(&path).await.body, PIXEL_PNG);
    // The wrong extension names nothing.
    let wrong = app
        .anonymous()
        .get(&format!("/img/{tenant}/{id}.svg"))
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);

    // Renaming keeps the address.
    let renamed = editor
        .patch_json(
            &format!("/api/tenants/{tenant}/assets/{id}"),
            &json!({ "name": "Baum" }),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.json);
    assert_eq!(renamed.json["name"], "Baum");
    assert_eq!(renamed.json["url"], url);
    assert_eq!(app.anonymous().get(&path).await.status, StatusCode::OK);
}

async fn a_twenty_megabyte_image_is_refused_before_anything_is_stored(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Gross").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let reply = editor
        .post_json(
            &format!("/api/tenants/{tenant}/assets"),
            &json!({ "file_name": "riesig.jpg", "size_bytes": 20 * 1024 * 1024 }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.json);
    assert_eq!(reply.json["field"], "size_bytes");
    let detail = reply.json["detail"].as_str().unwrap();
    assert!(
        detail.contains("20971520") && detail.contains("4194304"),
        "{detail}"
    );
    assert_eq!(count(&editor, &tenant).await, 0, "nothing was stored");
}

async fn an_svg_with_a_script_or_a_text_file_is_refused_and_removed(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse SVG").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    let id = uploaded(&app, &editor, &tenant, "logo.svg", svg).await;
    let (status, problem) = finish(&editor, &tenant, &id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["field"], "file");
    assert!(
        problem["detail"].as_str().unwrap().contains("script"),
        "{problem}"
    );
    let gone = editor
        .get(&format!("/api/tenants/{tenant}/assets/{id}"))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "the record is removed");
    let public = app
        .anonymous()
        .get(&format!("/img/{tenant}/{id}.svg"))
        .await;
    assert_eq!(public.status, StatusCode::NOT_FOUND);

    let text = b"Kontonummer 1234\n";
    let id = uploaded(&app, &editor, &tenant, "bild.png", text).await;
    let (status, problem) = finish(&editor, &tenant, &id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(
        count(&editor, &tenant).await,
        0,
        "nothing half-stored remains"
    );

    // A clean SVG is taken and served as SVG, under a policy that runs
    // nothing.
    let clean = br#"<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4" fill="red"/></svg>"#;
    let id = uploaded(&app, &editor, &tenant, "punkt.svg", clean).await;
    let (status, asset) = finish(&editor, &tenant, &id).await;
    assert_eq!(status, StatusCode::OK, "{asset}");
    let served = app
        .anonymous()
        .get(&format!("/img/{tenant}/{id}.svg"))
        .await;
    assert_eq!(served.headers[http::header::CONTENT_TYPE], "image/svg+xml");
    let policy = served.headers[http::header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        policy.contains("default-src 'none'") && policy.contains("sandbox"),
        "{policy}"
    );
}

async fn a_used_image_is_deleted_only_when_confirmed(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Benutzt").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let id = uploaded(&app, &editor, &tenant, "logo.png", PIXEL_PNG).await;
    let (_, asset) = finish(&editor, &tenant, &id).await;
    let url = asset["url"].as_str().unwrap();
    let body = format!(
        "<img src=\"{url}\" alt=\"Logo\"><a href=\"{{{{ unsubscribe_url }}}}\">Abmelden</a>"
    );
    let template = editor
        .post_json(
            &format!("/api/tenants/{tenant}/templates"),
            &json!({ "name": "Mit Logo", "kind": "html", "subject": "Logo", "body": body }),
        )
        .await;
    assert_eq!(template.status, StatusCode::CREATED, "{}", template.json);

    let item = format!("/api/tenants/{tenant}/assets/{id}");
    let detail = editor.get(&item).await;
    assert_eq!(detail.json["used_by"], json!(["Mit Logo"]));
    let refused = editor.delete(&item).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.json);
    assert!(
        refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("Mit Logo"),
        "{}",
        refused.json
    );
    assert_eq!(
        editor.get(&item).await.status,
        StatusCode::OK,
        "still there"
    );

    let request = editor
        .request(Method::DELETE, &format!("{item}?confirmed=true"))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(editor.send(request).await.status, StatusCode::NO_CONTENT);
    assert_eq!(editor.get(&item).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.anonymous().get(&path_of(url)).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn another_tenants_image_is_not_found(adapters: Adapters) {
    let app = spawn(adapters).await;
    let a = create_tenant(&app, "Sparkasse A").await;
    let b = create_tenant(&app, "Sparkasse B").await;
    let editor_b = app.signed_in(Role::Editor, Some(&b)).await;
    let id = uploaded(&app, &editor_b, &b, "nur-b.png", PIXEL_PNG).await;
    let (status, _) = finish(&editor_b, &b, &id).await;
    assert_eq!(status, StatusCode::OK);
    let editor_a = app.signed_in(Role::Editor, Some(&a)).await;
    assert_eq!(
        editor_a
            .get(&format!("/api/tenants/{a}/assets/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let (status, _) = finish(&editor_a, &a, &id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        editor_a
            .delete(&format!("/api/tenants/{a}/assets/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // B's image under A's public address: nothing.
    let public = app.anonymous().get(&format!("/img/{a}/{id}.png")).await;
    assert_eq!(public.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.anonymous()
            .get(&format!("/img/{b}/{id}.png"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(count(&editor_a, &a).await, 0);
}
