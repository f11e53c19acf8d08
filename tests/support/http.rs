//! Calling EMMA's router in-process, as a client would over HTTP.

use axum::body::Body;
use http::{Request, StatusCode};
use tower::ServiceExt;

/// A response: status, content type and the body as JSON (Null when empty
/// or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub json: serde_json::Value,
}

pub async fn call(router: &axum::Router, request: Request<Body>) -> Reply {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
        .await
        .expect("a body");
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Reply {
        status,
        content_type,
        json,
    }
}

pub async fn get(router: &axum::Router, path: &str) -> Reply {
    call(router, Request::get(path).body(Body::empty()).unwrap()).await
}

pub async fn post_json(router: &axum::Router, path: &str, body: &serde_json::Value) -> Reply {
    post_raw(
        router,
        path,
        "application/json",
        body.to_string().into_bytes(),
    )
    .await
}

pub async fn post_raw(
    router: &axum::Router,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Reply {
    let request = Request::post(path)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    call(router, request).await
}
