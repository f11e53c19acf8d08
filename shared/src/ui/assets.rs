//! The stylesheet and the script, embedded in the binary and served with
//! long cache lifetimes; pages link them with a content hash in the query,
//! so a new build is fetched at once.

use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

pub(super) const CSS: &str = include_str!("static/emma.css");
pub(super) const JS: &str = include_str!("static/emma.js");
/// The segment editor's live count.
pub(super) const SEGMENTS_JS: &str = include_str!("static/segments.js");
/// The template editor's live preview.
pub(super) const TEMPLATES_JS: &str = include_str!("static/templates.js");

/// A year: the URL changes with the content.
const CACHE_FOR_A_YEAR: &str = "public, max-age=31536000, immutable";

static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hash = Sha256::new();
    hash.update(CSS.as_bytes());
    hash.update(JS.as_bytes());
    hash.update(SEGMENTS_JS.as_bytes());
    hash.update(TEMPLATES_JS.as_bytes());
    hex::encode(&hash.finalize()[..6])
});

/// The assets' content hash, for the `?v=` of their links.
pub(super) fn version() -> &'static str {
    VERSION.as_str()
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_FOR_A_YEAR),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

pub(super) async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

pub(super) async fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}

pub(super) async fn segments_js() -> Response {
    asset("text/javascript; charset=utf-8", SEGMENTS_JS)
}

pub(super) async fn templates_js() -> Response {
    asset("text/javascript; charset=utf-8", TEMPLATES_JS)
}
