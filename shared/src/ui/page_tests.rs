//! What the page tests of the UI share: an app built by the real bootstrap
//! in a temporary folder, tenants and users made through the services, and
//! the pages as a user sees them, with the principal the access guard would
//! insert put in place by a test layer.

use std::sync::Arc;

use axum::Router;

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
    let dir = tempfile::tempdir().expect("a temporary folder");
    let data_dir = dir.path().display().to_string();
    let config = Config::from_lookup(|name| match name {
        "EMMA_DATA_DIR" => Some(data_dir.clone()),
        "EMMA_PUBLIC_URL" => Some("http://127.0.0.1:8080".to_owned()),
        _ => None,
    })
    .expect("a local configuration");
    let runtime = crate::bootstrap::build(config, Arc::new(SystemClock))
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
