//! What the page tests of the UI share: an app built by the real bootstrap
//! in a temporary folder, tenants and users made through the services, and
//! the pages as a user sees them, with the principal the access guard would
//! insert put in place by a test layer; requests sent to them and their
//! answers read.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use tower::ServiceExt;

use super::routes;
use crate::App;
use crate::config::Config;
use crate::domain::{
    Credential, EmailAddress, PersonName, Principal, Role, Tenant, TenantName, User,
};
use crate::ports::SystemClock;
use crate::services::{tenants, users};

pub(super) struct TestApp {
    pub app: App,
    _dir: tempfile::TempDir,
}

pub(super) async fn local_app() -> TestApp {
    local_app_at(Arc::new(SystemClock)).await
}

/// [`local_app`] on the given clock.
pub(super) async fn local_app_at(clock: Arc<dyn crate::ports::Clock>) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let data_dir = dir.path().display().to_string();
    let config = Config::from_lookup(|name| match name {
        "EMMA_DATA_DIR" => Some(data_dir.clone()),
        "EMMA_PUBLIC_URL" => Some("http://127.0.0.1:8080".to_owned()),
        _ => None,
    })
    .expect("a local configuration");
    let runtime = crate::bootstrap::build(config, clock)
        .await
        .expect("the app starts");
    TestApp {
        app: runtime.app,
        _dir: dir,
    }
}

impl TestApp {
    pub async fn tenant(&self, name: &str) -> Tenant {
        tenants::create(&self.app, TenantName::parse(name).unwrap())
            .await
            .unwrap()
    }

    /// A user of `tenant` with `role`, past the first-sign-in password
    /// change.
    pub async fn user(&self, role: Role, tenant: &Tenant) -> User {
        let email = format!(
            "{}-{}@example.de",
            role.as_str(),
            uuid::Uuid::new_v4().simple()
        );
        let user = users::create(
            &self.app,
            users::NewUser {
                tenant: Some(tenant.id.clone()),
                email: EmailAddress::parse(&email).unwrap(),
                name: PersonName::parse("Petra Probe").unwrap(),
                role,
                password_hash: None,
            },
        )
        .await
        .unwrap();
        users::update(&self.app, user.tenant.as_ref(), &user.id, |u| {
            u.must_change_password = false;
            Ok(())
        })
        .await
        .unwrap()
    }

    /// The pages as `user` sees them (the guard's principal in place).
    pub fn pages_of(&self, user: &User) -> Router {
        let principal = Principal {
            user_id: user.id,
            role: user.role,
            tenant: user.tenant.clone(),
            email_hash: Some(self.app.pseudonyms.email(&user.email)),
            credential: Credential::Session,
            must_change_password: false,
            must_set_up_second_factor: false,
            api_key_id: None,
        };
        routes()
            .layer(axum::Extension(principal))
            .with_state(self.app.clone())
    }
}

/// A page's answer: status, headers and the body as text.
pub(super) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    pub fn location(&self) -> &str {
        self.headers[header::LOCATION].to_str().unwrap()
    }
}

pub(super) async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

pub(super) fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

pub(super) fn post_form(path: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}
