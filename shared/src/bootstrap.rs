//! Start-up, written once for every entry point: read the configuration,
//! build the adapters it names, and hand back the application state.

use std::path::Path;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::adapters::{
    aws, dynamo::DynamoStore, fs_blobs::FsBlobStore, local_queue::LocalQueue, outbox::OutboxMailer,
    s3::S3BlobStore, ses::SesMailer, sqlite::SqliteStore, sqs::SqsQueue,
};
use crate::app::{App, Settings};
use crate::auth::dev_issuer::DevIssuer;
use crate::auth::oidc::{HttpJwksSource, JwksSource, OidcSettings, OidcVerifier};
use crate::auth::oidc_client::{HttpTokenEndpoint, SsoClient, SsoClientSettings, TokenEndpoint};
use crate::config::{self, Backend, Config, ConfigError, SecretSetting};
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
    /// Locally, the SQLite store, whose expired items the local server
    /// sweeps (DynamoDB's TTL does this on AWS).
    pub local_store: Option<Arc<SqliteStore>>,
    /// Locally without a corporate issuer: the development issuer, whose
    /// key set the local server publishes and whose tokens `emma sso token`
    /// mints.
    pub dev_issuer: Option<Arc<DevIssuer>>,
}

/// The path the local server publishes the development issuer's keys at.
pub const DEV_ISSUER_PATH: &str = "/dev-idp";

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
        ses_events_topic_arn: match &config.backend {
            Backend::Aws(aws) => aws.ses_events_topic_arn.clone(),
            Backend::Local { .. } => None,
        },
        sending: config.sending.clone(),
    });
    match &config.backend {
        Backend::Local { data_dir } => {
            std::fs::create_dir_all(data_dir).map_err(|e| data_dir_error(data_dir, e))?;
            let secret = local_secret(data_dir)?;
            let pseudonym_key = match &config.pseudonym_key {
                Some(SecretSetting::Value(key)) => key.expose_secret().as_bytes().to_vec(),
                Some(SecretSetting::SecretArn(_)) => {
                    return Err(adapter_error(
                        "pseudonyms",
                        "a Secrets Manager key needs EMMA_BACKEND=aws",
                    ));
                }
                None => derive(&secret, "pseudonyms"),
            };
            let store = Arc::new(
                SqliteStore::open(&data_dir.join("emma.sqlite3"), clock.clone())
                    .map_err(|e| adapter_error("store", e))?,
            );
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
            let (oidc, sso_client, dev_issuer) = match &config.oidc {
                Some(_) => (
                    corporate_verifier(&config, clock.clone())?,
                    corporate_client(&config, None).await?,
                    None,
                ),
                // The development issuer vouches for anyone: only for a
                // local installation that nobody else can reach.
                None if !dev_issuer_allowed(&config) => {
                    tracing::warn!(
                        listen = %config.listen,
                        environment = %config.environment,
                        "single sign-on is off: the development issuer runs only on a loopback address in the local environment"
                    );
                    (None, None, None)
                }
                None => {
                    let issuer_url = config
                        .public_url
                        .join(DEV_ISSUER_PATH)
                        .map_err(|e| adapter_error("sso", e))?;
                    let issuer = Arc::new(
                        DevIssuer::load_or_create(data_dir, issuer_url)
                            .map_err(|e| adapter_error("sso", e))?
                            .with_clock(clock.clone()),
                    );
                    let jwks_url = config
                        .public_url
                        .join(&format!("{DEV_ISSUER_PATH}/jwks.json"))
                        .map_err(|e| adapter_error("sso", e))?;
                    let verifier = OidcVerifier::new(
                        issuer.oidc_settings(jwks_url),
                        issuer.clone() as Arc<dyn JwksSource>,
                        clock.clone(),
                    )
                    .map_err(|e| adapter_error("sso", e))?;
                    let client = SsoClient::new(
                        SsoClientSettings {
                            authorization_url: config
                                .public_url
                                .join(&format!("{DEV_ISSUER_PATH}/authorize"))
                                .map_err(|e| adapter_error("sso", e))?,
                            client_id: issuer.audience().to_owned(),
                            redirect_uri: sso_redirect_uri(&config)?,
                        },
                        issuer.clone() as Arc<dyn TokenEndpoint>,
                    )
                    .map_err(|e| adapter_error("sso", e))?;
                    (
                        Some(Arc::new(verifier)),
                        Some(Arc::new(client)),
                        Some(issuer),
                    )
                }
            };
            let dead_letters = Arc::new(LocalQueue::new(None, None));
            let jobs = LocalQueue::new(
                Some(config.sending.max_receives),
                Some(dead_letters.clone()),
            );
            let app = App {
                store: store.clone(),
                blobs: blobs.clone(),
                mailer: Arc::new(mailer),
                jobs: Arc::new(jobs),
                clock,
                pseudonyms: Pseudonymizer::new(&pseudonym_key),
                settings,
                oidc,
                sso_client,
            };
            Ok(Runtime {
                app,
                config,
                local_blobs: Some(blobs),
                local_dead_letters: Some(dead_letters),
                local_store: Some(store),
                dev_issuer,
            })
        }
        Backend::Aws(aws_settings) => {
            let sdk = aws::sdk_config(aws_settings.endpoint.as_deref()).await;
            let key = match &config.pseudonym_key {
                Some(SecretSetting::Value(key)) => key.expose_secret().as_bytes().to_vec(),
                Some(SecretSetting::SecretArn(arn)) => read_secret(&sdk, arn).await?,
                None => {
                    return Err(ConfigError::Missing("EMMA_PSEUDONYM_KEY_SECRET_ARN").into());
                }
            };
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
                oidc: corporate_verifier(&config, clock.clone())?,
                sso_client: corporate_client(&config, Some(&sdk)).await?,
                clock,
                pseudonyms: Pseudonymizer::new(&key),
                settings,
            };
            Ok(Runtime {
                app,
                config,
                local_blobs: None,
                local_dead_letters: None,
                local_store: None,
                dev_issuer: None,
            })
        }
    }
}

/// The verifier for the configured corporate issuer, if any.
fn corporate_verifier(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<Option<Arc<OidcVerifier>>, BootError> {
    let Some(oidc) = &config.oidc else {
        return Ok(None);
    };
    let mut settings = OidcSettings::new(&oidc.issuer, &oidc.audience, oidc.jwks_url.clone());
    if let Some(claim) = &oidc.tenant_claim {
        settings.tenant_claim = claim.clone();
    }
    if let Some(claim) = &oidc.role_claim {
        settings.role_claim = claim.clone();
    }
    let source = HttpJwksSource::new().map_err(|e| adapter_error("sso", e))?;
    let verifier = OidcVerifier::new(settings, Arc::new(source), clock)
        .map_err(|e| adapter_error("sso", e))?;
    Ok(Some(Arc::new(verifier)))
}

/// Whether the development issuer may run: local environment, loopback
/// address.
fn dev_issuer_allowed(config: &Config) -> bool {
    config.environment == "local" && config.listen.ip().is_loopback()
}

/// Where the identity provider sends the browser back after sign-in.
pub fn sso_redirect_uri(config: &Config) -> Result<url::Url, BootError> {
    config
        .public_url
        .join(SSO_RETURN_PATH)
        .map_err(|e| adapter_error("sso", e))
}

/// The path of the browser sign-in's return from the identity provider.
pub const SSO_RETURN_PATH: &str = "/anmelden/sso/rueckkehr";

/// The browser sign-in client for the configured corporate issuer, if it
/// names its endpoints. A client secret in Secrets Manager is read with
/// `sdk` (on AWS only).
async fn corporate_client(
    config: &Config,
    sdk: Option<&aws_config::SdkConfig>,
) -> Result<Option<Arc<SsoClient>>, BootError> {
    let Some(browser) = config.oidc.as_ref().and_then(|o| o.browser.as_ref()) else {
        return Ok(None);
    };
    let secret = match (&browser.client_secret, sdk) {
        (None, _) => None,
        (Some(SecretSetting::Value(value)), _) => Some(value.clone()),
        (Some(SecretSetting::SecretArn(arn)), Some(sdk)) => Some(SecretString::from(
            String::from_utf8(read_secret_string(sdk, arn, "sso").await?)
                .map_err(|e| adapter_error("sso", e))?,
        )),
        (Some(SecretSetting::SecretArn(_)), None) => {
            return Err(ConfigError::Invalid {
                name: "EMMA_OIDC_CLIENT_SECRET_ARN",
                reason: "is read from Secrets Manager, which needs EMMA_BACKEND=aws; \
                    use EMMA_OIDC_CLIENT_SECRET locally"
                    .to_owned(),
            }
            .into());
        }
    };
    let token_endpoint = HttpTokenEndpoint::new(browser.token_url.clone(), secret)
        .map_err(|e| adapter_error("sso", e))?;
    let client = SsoClient::new(
        SsoClientSettings {
            authorization_url: browser.authorization_url.clone(),
            client_id: browser.client_id.clone(),
            redirect_uri: sso_redirect_uri(config)?,
        },
        Arc::new(token_endpoint),
    )
    .map_err(|e| adapter_error("sso", e))?;
    Ok(Some(Arc::new(client)))
}

/// Reads the pseudonym key from Secrets Manager (once, at start-up).
async fn read_secret(sdk: &aws_config::SdkConfig, arn: &str) -> Result<Vec<u8>, BootError> {
    let value = read_secret_string(sdk, arn, "pseudonyms").await?;
    let text = String::from_utf8(value).map_err(|e| adapter_error("pseudonyms", e))?;
    config::check_pseudonym_key("EMMA_PSEUDONYM_KEY_SECRET_ARN", &text)?;
    Ok(text.into_bytes())
}

/// Reads a secret string from Secrets Manager; `port` names the part of
/// EMMA that needs it in errors.
async fn read_secret_string(
    sdk: &aws_config::SdkConfig,
    arn: &str,
    port: &'static str,
) -> Result<Vec<u8>, BootError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| adapter_error(port, aws_sdk_secretsmanager::error::DisplayErrorContext(e)))?;
    let value = output
        .secret_string()
        .ok_or_else(|| adapter_error(port, "the secret holds no string"))?;
    Ok(value.as_bytes().to_vec())
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
/// and kept in the data folder, readable by the owner only. A file that does
/// not hold exactly 32 bytes stops start-up rather than weakening the keys
/// derived from it.
fn local_secret(data_dir: &Path) -> Result<Vec<u8>, BootError> {
    const LEN: usize = 32;
    let path = data_dir.join("secret.key");
    if !path.exists() {
        let mut secret = uuid::Uuid::new_v4().as_bytes().to_vec();
        secret.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        // Written completely under another name, then linked into place:
        // two processes starting at once never read a half-written file,
        // and the first one's secret wins.
        let staging = data_dir.join(format!("secret.key.{}", uuid::Uuid::new_v4().simple()));
        write_private(&staging, hex::encode(&secret).as_bytes())
            .map_err(|e| data_dir_error(&staging, e))?;
        let linked = std::fs::hard_link(&staging, &path);
        let _ = std::fs::remove_file(&staging);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(data_dir_error(&path, e)),
        }
    }
    let text = std::fs::read_to_string(&path).map_err(|e| data_dir_error(&path, e))?;
    match hex::decode(text.trim()) {
        Ok(secret) if secret.len() == LEN => Ok(secret),
        _ => Err(data_dir_error(
            &path,
            format!("it must hold {LEN} bytes as hex; delete it to make a new one"),
        )),
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
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// A subkey for one purpose, so one secret never serves two.
fn derive(secret: &[u8], purpose: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_secret_is_made_once_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let first = local_secret(dir.path()).unwrap();
        assert_eq!(first.len(), 32);
        assert_eq!(local_secret(dir.path()).unwrap(), first);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "only secret.key remains");
    }

    #[test]
    fn an_empty_or_short_secret_file_stops_start_up() {
        let dir = tempfile::tempdir().unwrap();
        for content in ["", "abcd", "not hex at all"] {
            std::fs::write(dir.path().join("secret.key"), content).unwrap();
            let err = local_secret(dir.path()).unwrap_err();
            assert!(err.to_string().contains("must hold 32 bytes"), "{err}");
        }
    }

    async fn local_runtime(vars: &[(&str, &str)]) -> Runtime {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_str().unwrap().to_owned();
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain([("EMMA_DATA_DIR".to_owned(), data_dir)])
            .collect();
        let config = Config::from_lookup(|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
        .unwrap();
        let runtime = build(config, Arc::new(SystemClock)).await.unwrap();
        // The folder may go: everything the test looks at is in memory.
        drop(dir);
        runtime
    }

    #[tokio::test]
    async fn the_development_issuer_runs_only_on_loopback_in_the_local_environment() {
        let on_loopback = local_runtime(&[("EMMA_LISTEN", "127.0.0.1:0")]).await;
        assert!(on_loopback.dev_issuer.is_some());
        assert!(on_loopback.app.sso_client.is_some());

        for vars in [
            &[("EMMA_LISTEN", "0.0.0.0:0")][..],
            &[("EMMA_LISTEN", "127.0.0.1:0"), ("EMMA_ENVIRONMENT", "test")][..],
        ] {
            let exposed = local_runtime(vars).await;
            assert!(exposed.dev_issuer.is_none(), "{vars:?}");
            assert!(exposed.app.sso_client.is_none(), "{vars:?}");
            assert!(exposed.app.oidc.is_none(), "{vars:?}");
        }
    }
}
