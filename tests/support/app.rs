//! EMMA built for a test, on either adapter set: the local one in a fresh
//! temporary data folder, or the cloud one on fresh resources in the
//! emulator. Both go through the same bootstrap as the binaries.

use std::sync::Arc;

use emma::auth::dev_issuer::DevIssuer;
use emma::auth::oidc::{JwksSource, OidcVerifier};
use emma::auth::oidc_client::{SsoClient, SsoClientSettings, TokenEndpoint};
use emma::bootstrap::{self, Runtime};
use emma::config::Config;
use emma::domain::{EmailAddress, PersonName, Role, TenantId, User};
use emma::ports::{Clock, SystemClock};
use emma::services::sessions;
use emma::services::users::{self, NewUser};

/// Which adapters a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adapters {
    Local,
    Cloud,
}

/// A running EMMA for one test. Keeps its temporary folder alive.
pub struct TestApp {
    pub runtime: Runtime,
    /// The development issuer whose tokens this app accepts (locally the
    /// runtime's own; in the cloud set one made for the test).
    pub dev_issuer: Arc<DevIssuer>,
    pub adapters: Adapters,
    pub data_dir: Option<tempfile::TempDir>,
}

/// The password every test user has (its hash is made once per process:
/// argon2id is slow on purpose).
pub const TEST_PASSWORD: &str = "Stimmt-genau-so-fuer-Tests-2026!";

fn test_password_hash() -> emma::auth::password::PasswordHash {
    static HASH: std::sync::OnceLock<emma::auth::password::PasswordHash> =
        std::sync::OnceLock::new();
    HASH.get_or_init(|| emma::auth::password::hash(TEST_PASSWORD).expect("a hash"))
        .clone()
}

impl TestApp {
    pub fn app(&self) -> &emma::App {
        &self.runtime.app
    }

    /// A request with `Authorization: Bearer <token>` (an SSO token or an
    /// API key), with a JSON body when one is given.
    pub async fn with_bearer(
        &self,
        token: &str,
        method: http::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> crate::http::Reply {
        let client = self.anonymous();
        let builder = client
            .request(method, path)
            .header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        let request = match body {
            Some(body) => builder
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap(),
            None => builder.body(axum::body::Body::empty()).unwrap(),
        };
        client.send(request).await
    }

    /// Performs a presigned request as a browser would: through the local
    /// server's blob route, or against the emulator. Answers the status and
    /// the body.
    pub async fn perform_presigned(
        &self,
        request: &emma::ports::PresignedRequest,
        body: Vec<u8>,
    ) -> (http::StatusCode, Vec<u8>) {
        match self.adapters {
            Adapters::Local => {
                let url = url::Url::parse(&request.url).expect("a presigned URL");
                let target = match url.query() {
                    Some(q) => format!("{}?{q}", url.path()),
                    None => url.path().to_owned(),
                };
                let mut builder = http::Request::builder()
                    .method(request.method.clone())
                    .uri(target);
                for (name, value) in &request.headers {
                    builder = builder.header(name, value);
                }
                let reply = crate::http::call(
                    &self.router(),
                    builder.body(axum::body::Body::from(body)).unwrap(),
                )
                .await;
                (reply.status, reply.body)
            }
            Adapters::Cloud => {
                let mut builder =
                    reqwest::Client::new().request(request.method.clone(), &request.url);
                for (name, value) in &request.headers {
                    builder = builder.header(name, value);
                }
                let response = builder
                    .body(body)
                    .send()
                    .await
                    .expect("the emulator answers");
                let status = http::StatusCode::from_u16(response.status().as_u16()).unwrap();
                let bytes = response.bytes().await.expect("a body").to_vec();
                (status, bytes)
            }
        }
    }

    /// A client that is not signed in.
    pub fn anonymous(&self) -> crate::http::Client {
        crate::http::Client {
            router: self.router(),
            session: None,
            origin: self
                .app()
                .settings
                .public_url
                .origin()
                .ascii_serialization(),
        }
    }

    /// Creates a user of this role (in `tenant` for tenant roles) whose
    /// password is [`TEST_PASSWORD`]; returns it.
    pub async fn create_user(&self, role: Role, tenant: Option<&str>) -> User {
        let tenant = tenant.map(|t| TenantId::parse(t).expect("a tenant id"));
        let email = format!(
            "{}-{}@example.de",
            role.as_str(),
            uuid::Uuid::new_v4().simple()
        );
        let user = users::create(
            self.app(),
            NewUser {
                tenant,
                email: EmailAddress::parse(&email).unwrap(),
                name: PersonName::parse("Test Nutzerin").unwrap(),
                role,
                password_hash: Some(test_password_hash()),
            },
        )
        .await
        .expect("a user");
        users::update(self.app(), user.tenant.as_ref(), &user.id, |u| {
            u.must_change_password = false;
            Ok(())
        })
        .await
        .expect("no one-time password")
    }

    /// A client signed in as this user (a session started directly; the
    /// sign-in route itself has its own tests).
    pub async fn client_for(&self, user: &User) -> crate::http::Client {
        let (token, _) = sessions::start(self.app(), user).await.expect("a session");
        let cookie = format!(
            "{}={}",
            emma::http::access::session_cookie_name(self.app()),
            token.as_str()
        );
        crate::http::Client {
            session: Some(crate::http::Session {
                cookie,
                csrf_token: sessions::csrf_token(self.app(), &token),
            }),
            ..self.anonymous()
        }
    }

    /// A client signed in as a new user of this role.
    pub async fn signed_in(&self, role: Role, tenant: Option<&str>) -> crate::http::Client {
        let user = self.create_user(role, tenant).await;
        self.client_for(&user).await
    }

    /// The router the local server serves (every route group).
    pub fn router(&self) -> axum::Router {
        emma::local::router(&self.runtime)
    }
}

pub const MAIL_FROM: &str = "newsletter@sparkasse-musterstadt.example";

/// The SES events topic the cloud test app is configured with: the one the
/// sample SNS events in events/ come from.
pub const SES_EVENTS_TOPIC: &str =
    "arn:aws:sns:eu-central-1:123456789012:emma-test-SesEventsTopic-mB4vK9xT2wQe";

pub async fn spawn(adapters: Adapters) -> TestApp {
    spawn_with_clock(adapters, Arc::new(SystemClock)).await
}

/// EMMA on a clock the test controls (e.g. a `ManualClock`).
pub async fn spawn_with_clock(adapters: Adapters, clock: Arc<dyn Clock>) -> TestApp {
    match adapters {
        Adapters::Local => spawn_local(clock).await,
        Adapters::Cloud => spawn_cloud(clock).await,
    }
}

async fn spawn_local(clock: Arc<dyn Clock>) -> TestApp {
    let dir = tempfile::tempdir().expect("temporary folder");
    let data_dir = dir.path().to_string_lossy().into_owned();
    let config = Config::from_lookup(|name| match name {
        "EMMA_DATA_DIR" => Some(data_dir.clone()),
        "EMMA_MAIL_FROM" => Some(MAIL_FROM.to_owned()),
        "EMMA_LISTEN" => Some("127.0.0.1:0".to_owned()),
        _ => None,
    })
    .expect("local configuration");
    let runtime = bootstrap::build(config, clock)
        .await
        .expect("local runtime");
    TestApp {
        dev_issuer: runtime.dev_issuer.clone().expect("a development issuer"),
        runtime,
        adapters: Adapters::Local,
        data_dir: Some(dir),
    }
}

async fn spawn_cloud(clock: Arc<dyn Clock>) -> TestApp {
    let sdk = crate::aws::config().await;
    let resources = emma::adapters::emulator::provision(
        &sdk,
        &crate::aws::unique_name("emma"),
        "sparkasse-musterstadt.example",
    )
    .await
    .expect("resources in the emulator");
    let (table, bucket, queue_url) = (resources.table, resources.bucket, resources.jobs_queue_url);
    // The pseudonym key comes from Secrets Manager, as on AWS.
    let secret_arn = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(crate::aws::unique_name("emma-pseudonym-key"))
        .secret_string(uuid::Uuid::new_v4().simple().to_string())
        .send()
        .await
        .expect("a secret in the emulator")
        .arn()
        .expect("the secret's ARN")
        .to_owned();
    let endpoint = crate::aws::endpoint();
    let config = Config::from_lookup(|name| match name {
        "EMMA_BACKEND" => Some("aws".to_owned()),
        "EMMA_TABLE" => Some(table.clone()),
        "EMMA_BUCKET" => Some(bucket.clone()),
        "EMMA_JOBS_QUEUE_URL" => Some(queue_url.clone()),
        "EMMA_MAIL_FROM" => Some(MAIL_FROM.to_owned()),
        "EMMA_PSEUDONYM_KEY_SECRET_ARN" => Some(secret_arn.clone()),
        "EMMA_SES_EVENTS_TOPIC_ARN" => Some(SES_EVENTS_TOPIC.to_owned()),
        "AWS_ENDPOINT_URL" => Some(endpoint.clone()),
        _ => None,
    })
    .expect("cloud configuration");
    let mut runtime = bootstrap::build(config, clock.clone())
        .await
        .expect("cloud runtime");
    // The cloud set has no identity provider here: trust a development
    // issuer made for this test, as a corporate one would be trusted.
    let issuer_dir = tempfile::tempdir().expect("a folder for the issuer key");
    let issuer = Arc::new(
        DevIssuer::load_or_create(
            issuer_dir.path(),
            "http://127.0.0.1:9/dev-idp".parse().unwrap(),
        )
        .expect("a development issuer")
        .with_clock(clock.clone()),
    );
    let verifier = OidcVerifier::new(
        issuer.oidc_settings("http://127.0.0.1:9/dev-idp/jwks.json".parse().unwrap()),
        issuer.clone() as Arc<dyn JwksSource>,
        clock,
    )
    .expect("a verifier");
    runtime.app.oidc = Some(Arc::new(verifier));
    // Browser sign-in goes to the same issuer, whose pages the router
    // serves as locally.
    let client = SsoClient::new(
        SsoClientSettings {
            authorization_url: "http://127.0.0.1:9/dev-idp/authorize".parse().unwrap(),
            client_id: issuer.audience().to_owned(),
            redirect_uri: emma::bootstrap::sso_redirect_uri(&runtime.config)
                .expect("a redirect URI"),
        },
        issuer.clone() as Arc<dyn TokenEndpoint>,
    )
    .expect("a browser sign-in client");
    runtime.app.sso_client = Some(Arc::new(client));
    runtime.dev_issuer = Some(issuer.clone());
    TestApp {
        runtime,
        dev_issuer: issuer,
        adapters: Adapters::Cloud,
        data_dir: Some(issuer_dir),
    }
}
