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
    pub headers: http::HeaderMap,
    pub json: serde_json::Value,
    pub body: Vec<u8>,
}

pub async fn call(router: &axum::Router, request: Request<Body>) -> Reply {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
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
        headers,
        json,
        body: bytes.to_vec(),
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

/// A browser's view of EMMA: the router, and the session cookie and CSRF
/// token of a signed-in user (or none). State-changing calls carry the
/// token and EMMA's own origin, as EMMA's pages do.
#[derive(Clone)]
pub struct Client {
    pub router: axum::Router,
    pub session: Option<Session>,
    pub origin: String,
}

/// What a browser holds after signing in.
#[derive(Clone, Debug)]
pub struct Session {
    /// `name=value`, as sent in the Cookie header.
    pub cookie: String,
    pub csrf_token: String,
}

impl Client {
    pub fn request(&self, method: http::Method, path: &str) -> http::request::Builder {
        let mut builder = Request::builder().method(method.clone()).uri(path);
        if let Some(session) = &self.session {
            builder = builder.header(http::header::COOKIE, &session.cookie);
            if !matches!(method, http::Method::GET | http::Method::HEAD) {
                builder = builder
                    .header("x-csrf-token", &session.csrf_token)
                    .header(http::header::ORIGIN, &self.origin);
            }
        }
        builder
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        call(&self.router, request).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(
            self.request(http::Method::GET, path)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(
            self.request(http::Method::DELETE, path)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> Reply {
        self.json(http::Method::POST, path, body).await
    }

    pub async fn patch_json(&self, path: &str, body: &serde_json::Value) -> Reply {
        self.json(http::Method::PATCH, path, body).await
    }

    pub async fn json(&self, method: http::Method, path: &str, body: &serde_json::Value) -> Reply {
        self.post_raw_with(
            method,
            path,
            "application/json",
            body.to_string().into_bytes(),
        )
        .await
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        self.post_raw_with(http::Method::POST, path, content_type, body)
            .await
    }

    async fn post_raw_with(
        &self,
        method: http::Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let request = self
            .request(method, path)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }
}
