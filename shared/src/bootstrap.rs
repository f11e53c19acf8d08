//! Start-up, written once for every entry point: read the configuration,
//! build the adapters it names, and hand back the application state.

use std::path::Path;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

use crate::adapters::{
    aws, dynamo::DynamoStore, fs_blobs::FsBlobStore, local_queue::LocalQueue, outbox::OutboxMailer,
    s3::S3BlobStore, ses::SesMailer, sqlite::SqliteStore, sqs::SqsQueue,
};
use crate::app::{App, Settings};
use crate::config::{Backend, Config, ConfigError};
use crate::ports::{Clock, Mailer, SystemClock};
use crate::telemetry::Pseudonymizer;

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the data folder {path} cannot be used: {reason}")]
    DataDir { path: String, reason: String },
    #[error("the {port} adapter could not start: {reason}")]
    Adapter { port: &'static str, reason: String },
}

/// What start-up built: the app, and locally the file blob store whose
/// presigned URLs the local server must answer.
pub struct Runtime {
    pub app: App,
    pub config: Config,
    pub local_blobs: Option<Arc<FsBlobStore>>,
    pub local_dead_letters: Option<Arc<LocalQueue>>,
}

/// Reads the environment and builds the runtime; logs as JSON from here on.
pub async fn from_env() -> Result<Runtime, BootError> {
    crate::telemetry::init_logging();
    let config = Config::from_env()?;
    build(config, Arc::new(SystemClock)).await
}

/// Builds the runtime for a configuration and a clock.
pub async fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Runtime, BootError> {
    let settings = Arc::new(Settings {
        mail_from: config.mail_from.clone(),
        public_url: config.public_url.clone(),
        environment: config.environment.clone(),
    });
    match &config.backend {
        Backend::Local { data_dir } => {
            std::fs::create_dir_all(data_dir).map_err(|e| data_dir_error(data_dir, e))?;
            let secret = local_secret(data_dir)?;
            let pseudonym_key = match &config.pseudonym_key {
                Some(key) => key.expose_secret().as_bytes().to_vec(),
                None => derive(&secret, "pseudonyms"),
            };
            let store = SqliteStore::open(&data_dir.join("emma.sqlite3"), clock.clone())
                .map_err(|e| adapter_error("store", e))?;
            let blobs = Arc::new(FsBlobStore::new(
                data_dir.join("blobs"),
                config.public_url.clone(),
                derive(&secret, "blob-urls"),
                clock.clone(),
            ));
            let mailer = OutboxMailer::new(data_dir.join("outbox"));
            mailer
                .register_identity(config.mail_from.domain())
                .await
                .map_err(|e| adapter_error("mail", e))?;
            let dead_letters = Arc::new(LocalQueue::new(None, None));
            let jobs = LocalQueue::new(Some(5), Some(dead_letters.clone()));
            let app = App {
                store: Arc::new(store),
                blobs: blobs.clone(),
                mailer: Arc::new(mailer),
                jobs: Arc::new(jobs),
                clock,
                pseudonyms: Pseudonymizer::new(&pseudonym_key),
                settings,
            };
            Ok(Runtime {
                app,
                config,
                local_blobs: Some(blobs),
                local_dead_letters: Some(dead_letters),
            })
        }
        Backend::Aws(aws_settings) => {
            let sdk = aws::sdk_config(aws_settings.endpoint.as_deref()).await;
            let key = config
                .pseudonym_key
                .as_ref()
                .ok_or(ConfigError::Missing("EMMA_PSEUDONYM_KEY"))?;
            let app = App {
                store: Arc::new(DynamoStore::new(
                    aws::dynamodb_client(&sdk),
                    aws_settings.table.clone(),
                    clock.clone(),
                )),
                blobs: Arc::new(S3BlobStore::new(
                    aws::s3_client(&sdk),
                    aws_settings.bucket.clone(),
                )),
                mailer: Arc::new(SesMailer::new(
                    aws::sesv2_client(&sdk),
                    aws_settings.ses_configuration_set.clone(),
                )),
                jobs: Arc::new(SqsQueue::new(
                    aws::sqs_client(&sdk),
                    aws_settings.jobs_queue_url.clone(),
                )),
                clock,
                pseudonyms: Pseudonymizer::new(key.expose_secret().as_bytes()),
                settings,
            };
            Ok(Runtime {
                app,
                config,
                local_blobs: None,
                local_dead_letters: None,
            })
        }
    }
}

fn data_dir_error(path: &Path, e: impl ToString) -> BootError {
    BootError::DataDir {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

fn adapter_error(port: &'static str, e: impl ToString) -> BootError {
    BootError::Adapter {
        port,
        reason: e.to_string(),
    }
}

/// The local installation's secret: 32 random bytes, made on first start
/// and kept in the data folder, readable by the owner only.
fn local_secret(data_dir: &Path) -> Result<Vec<u8>, BootError> {
    let path = data_dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => hex::decode(text.trim()).map_err(|e| data_dir_error(&path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = uuid::Uuid::new_v4().as_bytes().to_vec();
            secret.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
            write_private(&path, hex::encode(&secret).as_bytes())
                .map_err(|e| data_dir_error(&path, e))?;
            Ok(secret)
        }
        Err(e) => Err(data_dir_error(&path, e)),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

/// A subkey for one purpose, so one secret never serves two.
fn derive(secret: &[u8], purpose: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}
