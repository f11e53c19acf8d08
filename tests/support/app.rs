//! EMMA built for a test, on either adapter set: the local one in a fresh
//! temporary data folder, or the cloud one on fresh resources in the
//! emulator. Both go through the same bootstrap as the binaries.

use std::sync::Arc;

use emma::bootstrap::{self, Runtime};
use emma::config::Config;
use emma::ports::SystemClock;

/// Which adapters a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adapters {
    Local,
    Cloud,
}

/// A running EMMA for one test. Keeps its temporary folder alive.
pub struct TestApp {
    pub runtime: Runtime,
    pub adapters: Adapters,
    pub data_dir: Option<tempfile::TempDir>,
}

impl TestApp {
    pub fn app(&self) -> &emma::App {
        &self.runtime.app
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
    match adapters {
        Adapters::Local => spawn_local().await,
        Adapters::Cloud => spawn_cloud().await,
    }
}

pub async fn spawn_local() -> TestApp {
    let dir = tempfile::tempdir().expect("temporary folder");
    let data_dir = dir.path().to_string_lossy().into_owned();
    let config = Config::from_lookup(|name| match name {
        "EMMA_DATA_DIR" => Some(data_dir.clone()),
        "EMMA_MAIL_FROM" => Some(MAIL_FROM.to_owned()),
        "EMMA_LISTEN" => Some("127.0.0.1:0".to_owned()),
        _ => None,
    })
    .expect("local configuration");
    let runtime = bootstrap::build(config, Arc::new(SystemClock))
        .await
        .expect("local runtime");
    TestApp {
        runtime,
        adapters: Adapters::Local,
        data_dir: Some(dir),
    }
}

pub async fn spawn_cloud() -> TestApp {
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
    let runtime = bootstrap::build(config, Arc::new(SystemClock))
        .await
        .expect("cloud runtime");
    TestApp {
        runtime,
        adapters: Adapters::Cloud,
        data_dir: None,
    }
}
