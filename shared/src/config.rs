//! Configuration: read once from the environment at start-up, typed, and
//! checked, so that a missing or malformed variable stops the process with a
//! message that names it.

use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::SecretString;
use url::Url;

use crate::domain::EmailAddress;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set (it is required when EMMA_BACKEND=aws)")]
    Missing(&'static str),
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Where EMMA keeps its data and sends its mail.
#[derive(Debug, Clone)]
pub enum Backend {
    /// Everything on this machine, in one folder: SQLite, files, an outbox.
    Local { data_dir: PathBuf },
    /// DynamoDB, S3, SESv2 and SQS (or an emulator of them).
    Aws(AwsSettings),
}

#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub table: String,
    pub bucket: String,
    pub jobs_queue_url: String,
    pub ses_configuration_set: Option<String>,
    /// The SNS topic SES publishes delivery events to; the webhook refuses
    /// events from any other topic (EMMA_SES_EVENTS_TOPIC_ARN).
    pub ses_events_topic_arn: Option<String>,
    /// AWS_ENDPOINT_URL: an emulator (moto, LocalStack) instead of AWS.
    pub endpoint: Option<String>,
}

/// Where a secret (the pseudonym key, the OIDC client secret) comes from.
#[derive(Debug, Clone)]
pub enum SecretSetting {
    /// The secret itself, e.g. EMMA_PSEUDONYM_KEY (local runs, tests).
    Value(SecretString),
    /// A Secrets Manager secret read at start-up, e.g.
    /// EMMA_PSEUDONYM_KEY_SECRET_ARN, so the secret never sits in the
    /// function's configuration.
    SecretArn(String),
}

/// The shortest pseudonym key accepted, in characters.
pub const MIN_PSEUDONYM_KEY_LEN: usize = 32;

#[derive(Debug, Clone)]
pub struct Config {
    pub backend: Backend,
    /// Where the local server listens (EMMA_LISTEN).
    pub listen: SocketAddr,
    /// The public base URL of the HTTP API, for links in mails and presigned
    /// local blob URLs (EMMA_PUBLIC_URL).
    pub public_url: Url,
    /// The sender of test mails until tenants have their own (EMMA_MAIL_FROM).
    pub mail_from: EmailAddress,
    /// The key for keyed hashes of personal data. Required on AWS (as a
    /// Secrets Manager secret, or a value); generated and kept in the data
    /// folder locally.
    pub pseudonym_key: Option<SecretSetting>,
    /// "test", "prod" or "local" (EMMA_ENVIRONMENT).
    pub environment: String,
    /// The corporate identity provider, when configured (EMMA_OIDC_*).
    /// Locally without one, EMMA runs its own development issuer.
    pub oidc: Option<OidcConfig>,
    /// How campaigns are sent.
    pub sending: SendingConfig,
}

/// How campaigns are sent (EMMA_SEND_*).
#[derive(Debug, Clone, PartialEq)]
pub struct SendingConfig {
    /// Messages per second across all workers (EMMA_SEND_RATE); the mail
    /// service's own maximum (SES `GetAccount`) when unset.
    pub rate: Option<f64>,
    /// The address of `List-Unsubscribe`'s `mailto:` (EMMA_UNSUBSCRIBE_ADDRESS);
    /// the campaign's sender when unset.
    pub unsubscribe_address: Option<EmailAddress>,
    /// How often the queue delivers a job before it moves it to the
    /// dead-letter queue (EMMA_JOBS_MAX_RECEIVES; the redrive policy's
    /// `maxReceiveCount`).
    pub max_receives: u32,
}

/// The redrive policy's `maxReceiveCount` in infra/ and the local queue.
pub const DEFAULT_MAX_RECEIVES: u32 = 5;

/// The corporate OIDC issuer whose bearer tokens EMMA accepts.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub audience: String,
    pub jwks_url: Url,
    pub tenant_claim: Option<String>,
    pub role_claim: Option<String>,
    /// Browser sign-in (authorization code with PKCE), when its endpoints
    /// are configured.
    pub browser: Option<OidcBrowserConfig>,
}

/// The identity provider's endpoints and EMMA's client registration for
/// browser sign-in. The redirect URI is EMMA_PUBLIC_URL +
/// `/anmelden/sso/rueckkehr`.
#[derive(Debug, Clone)]
pub struct OidcBrowserConfig {
    /// EMMA_OIDC_AUTHORIZATION_URL.
    pub authorization_url: Url,
    /// EMMA_OIDC_TOKEN_URL.
    pub token_url: Url,
    /// EMMA_OIDC_CLIENT_ID; the audience when unset.
    pub client_id: String,
    /// EMMA_OIDC_CLIENT_SECRET_ARN or EMMA_OIDC_CLIENT_SECRET; a public
    /// client (PKCE alone) without.
    pub client_secret: Option<SecretSetting>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = ".emma";
pub const DEFAULT_MAIL_FROM: &str = "newsletter@emma.localhost.example";

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));

        let backend = match get("EMMA_BACKEND").as_deref().unwrap_or("local") {
            "local" => Backend::Local {
                data_dir: PathBuf::from(
                    get("EMMA_DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.to_owned()),
                ),
            },
            "aws" => Backend::Aws(AwsSettings {
                table: required("EMMA_TABLE")?,
                bucket: required("EMMA_BUCKET")?,
                jobs_queue_url: required("EMMA_JOBS_QUEUE_URL")?,
                ses_configuration_set: get("EMMA_SES_CONFIGURATION_SET"),
                ses_events_topic_arn: get("EMMA_SES_EVENTS_TOPIC_ARN"),
                endpoint: get("AWS_ENDPOINT_URL"),
            }),
            other => {
                return Err(ConfigError::Invalid {
                    name: "EMMA_BACKEND",
                    reason: format!("'{other}' is neither 'local' nor 'aws'"),
                });
            }
        };

        let listen_raw = get("EMMA_LISTEN").unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen: SocketAddr = listen_raw.parse().map_err(|e| ConfigError::Invalid {
            name: "EMMA_LISTEN",
            reason: format!("'{listen_raw}' is not an address like 127.0.0.1:8080 ({e})"),
        })?;

        let public_raw = get("EMMA_PUBLIC_URL").unwrap_or_else(|| format!("http://{listen}"));
        let public_url = Url::parse(&public_raw).map_err(|e| ConfigError::Invalid {
            name: "EMMA_PUBLIC_URL",
            reason: format!("'{public_raw}' is not a URL ({e})"),
        })?;
        if !matches!(public_url.scheme(), "http" | "https") {
            return Err(ConfigError::Invalid {
                name: "EMMA_PUBLIC_URL",
                reason: "must be an http or https URL".to_owned(),
            });
        }

        let from_raw = get("EMMA_MAIL_FROM").unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned());
        let mail_from = EmailAddress::parse(&from_raw).map_err(|e| ConfigError::Invalid {
            name: "EMMA_MAIL_FROM",
            reason: e.to_string(),
        })?;

        let pseudonym_key = match (
            get("EMMA_PSEUDONYM_KEY_SECRET_ARN"),
            get("EMMA_PSEUDONYM_KEY"),
        ) {
            (Some(arn), _) => Some(SecretSetting::SecretArn(arn)),
            (None, Some(value)) => {
                check_pseudonym_key("EMMA_PSEUDONYM_KEY", &value)?;
                Some(SecretSetting::Value(SecretString::from(value)))
            }
            (None, None) => None,
        };
        if matches!(backend, Backend::Aws(_)) && pseudonym_key.is_none() {
            return Err(ConfigError::Missing(
                "EMMA_PSEUDONYM_KEY_SECRET_ARN (or EMMA_PSEUDONYM_KEY)",
            ));
        }

        let environment = get("EMMA_ENVIRONMENT").unwrap_or_else(|| "local".to_owned());

        let oidc = match get("EMMA_OIDC_ISSUER") {
            None => None,
            Some(issuer) => {
                let jwks_raw = required_oidc(&get, "EMMA_OIDC_JWKS_URL")?;
                let jwks_url = Url::parse(&jwks_raw).map_err(|e| ConfigError::Invalid {
                    name: "EMMA_OIDC_JWKS_URL",
                    reason: format!("'{jwks_raw}' is not a URL ({e})"),
                })?;
                let audience = required_oidc(&get, "EMMA_OIDC_AUDIENCE")?;
                let browser = oidc_browser(&get, &audience)?;
                Some(OidcConfig {
                    issuer,
                    audience,
                    jwks_url,
                    tenant_claim: get("EMMA_OIDC_TENANT_CLAIM"),
                    role_claim: get("EMMA_OIDC_ROLE_CLAIM"),
                    browser,
                })
            }
        };

        let sending = SendingConfig {
            rate: get("EMMA_SEND_RATE")
                .map(|raw| match raw.trim().parse::<f64>() {
                    Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
                    _ => Err(ConfigError::Invalid {
                        name: "EMMA_SEND_RATE",
                        reason: format!("'{raw}' is not a positive number of messages per second"),
                    }),
                })
                .transpose()?,
            unsubscribe_address: get("EMMA_UNSUBSCRIBE_ADDRESS")
                .map(|raw| {
                    EmailAddress::parse(&raw).map_err(|e| ConfigError::Invalid {
                        name: "EMMA_UNSUBSCRIBE_ADDRESS",
                        reason: e.to_string(),
                    })
                })
                .transpose()?,
            max_receives: get("EMMA_JOBS_MAX_RECEIVES")
                .map(|raw| match raw.trim().parse::<u32>() {
                    Ok(n) if (1..=1000).contains(&n) => Ok(n),
                    _ => Err(ConfigError::Invalid {
                        name: "EMMA_JOBS_MAX_RECEIVES",
                        reason: format!("'{raw}' is not a number from 1 to 1000"),
                    }),
                })
                .transpose()?
                .unwrap_or(DEFAULT_MAX_RECEIVES),
        };

        Ok(Self {
            backend,
            listen,
            public_url,
            mail_from,
            pseudonym_key,
            environment,
            oidc,
            sending,
        })
    }
}

/// Browser sign-in needs both endpoints, or neither.
fn oidc_browser(
    get: &impl Fn(&str) -> Option<String>,
    audience: &str,
) -> Result<Option<OidcBrowserConfig>, ConfigError> {
    let url = |name: &'static str| -> Result<Option<Url>, ConfigError> {
        get(name)
            .map(|raw| {
                Url::parse(&raw).map_err(|e| ConfigError::Invalid {
                    name,
                    reason: format!("'{raw}' is not a URL ({e})"),
                })
            })
            .transpose()
    };
    let authorization_url = url("EMMA_OIDC_AUTHORIZATION_URL")?;
    let token_url = url("EMMA_OIDC_TOKEN_URL")?;
    let (authorization_url, token_url) = match (authorization_url, token_url) {
        (None, None) => return Ok(None),
        (Some(a), Some(t)) => (a, t),
        (Some(_), None) => {
            return Err(ConfigError::Invalid {
                name: "EMMA_OIDC_TOKEN_URL",
                reason: "is needed when EMMA_OIDC_AUTHORIZATION_URL is set".to_owned(),
            });
        }
        (None, Some(_)) => {
            return Err(ConfigError::Invalid {
                name: "EMMA_OIDC_AUTHORIZATION_URL",
                reason: "is needed when EMMA_OIDC_TOKEN_URL is set".to_owned(),
            });
        }
    };
    let client_secret = match (
        get("EMMA_OIDC_CLIENT_SECRET_ARN"),
        get("EMMA_OIDC_CLIENT_SECRET"),
    ) {
        (Some(arn), _) => Some(SecretSetting::SecretArn(arn)),
        (None, Some(value)) => Some(SecretSetting::Value(SecretString::from(value))),
        (None, None) => None,
    };
    Ok(Some(OidcBrowserConfig {
        authorization_url,
        token_url,
        client_id: get("EMMA_OIDC_CLIENT_ID").unwrap_or_else(|| audience.to_owned()),
        client_secret,
    }))
}

fn required_oidc(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<String, ConfigError> {
    get(name).ok_or(ConfigError::Invalid {
        name,
        reason: "is needed when EMMA_OIDC_ISSUER is set".to_owned(),
    })
}

/// Refuses a pseudonym key too short to resist guessing.
pub fn check_pseudonym_key(name: &'static str, value: &str) -> Result<(), ConfigError> {
    if value.chars().count() < MIN_PSEUDONYM_KEY_LEN {
        return Err(ConfigError::Invalid {
            name,
            reason: format!("must be at least {MIN_PSEUDONYM_KEY_LEN} characters"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn with_nothing_set_emma_runs_locally_on_port_8080() {
        let c = config(&[]).unwrap();
        assert!(
            matches!(c.backend, Backend::Local { ref data_dir } if data_dir.ends_with(".emma"))
        );
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url.as_str(), "http://127.0.0.1:8080/");
    }

    #[test]
    fn the_aws_backend_names_the_first_missing_variable() {
        let err = config(&[("EMMA_BACKEND", "aws"), ("EMMA_TABLE", "t")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "EMMA_BUCKET is not set (it is required when EMMA_BACKEND=aws)"
        );
    }

    #[test]
    fn a_malformed_value_is_named_with_its_variable() {
        let err = config(&[("EMMA_LISTEN", "eighty-eighty")]).unwrap_err();
        assert!(
            err.to_string().starts_with("EMMA_LISTEN is not valid"),
            "{err}"
        );
        let err = config(&[("EMMA_BACKEND", "cloud")]).unwrap_err();
        assert!(
            err.to_string().starts_with("EMMA_BACKEND is not valid"),
            "{err}"
        );
    }

    #[test]
    fn the_aws_backend_needs_a_pseudonym_key() {
        let err = config(&[
            ("EMMA_BACKEND", "aws"),
            ("EMMA_TABLE", "t"),
            ("EMMA_BUCKET", "b"),
            ("EMMA_JOBS_QUEUE_URL", "http://127.0.0.1:1/q"),
        ])
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("EMMA_PSEUDONYM_KEY_SECRET_ARN (or EMMA_PSEUDONYM_KEY) is not set"),
            "{err}"
        );
    }

    const OIDC: [(&str, &str); 3] = [
        ("EMMA_OIDC_ISSUER", "https://idp.example.test"),
        ("EMMA_OIDC_AUDIENCE", "emma"),
        ("EMMA_OIDC_JWKS_URL", "https://idp.example.test/keys"),
    ];

    #[test]
    fn bearer_sso_alone_offers_no_browser_sign_in() {
        let c = config(&OIDC).unwrap();
        assert!(c.oidc.unwrap().browser.is_none());
    }

    #[test]
    fn browser_sign_in_uses_the_audience_as_client_id_unless_told() {
        let mut vars = OIDC.to_vec();
        vars.push((
            "EMMA_OIDC_AUTHORIZATION_URL",
            "https://idp.example.test/auth",
        ));
        vars.push(("EMMA_OIDC_TOKEN_URL", "https://idp.example.test/token"));
        let browser = config(&vars).unwrap().oidc.unwrap().browser.unwrap();
        assert_eq!(browser.client_id, "emma");
        assert!(browser.client_secret.is_none(), "a public client");

        vars.push(("EMMA_OIDC_CLIENT_ID", "emma-web"));
        vars.push(("EMMA_OIDC_CLIENT_SECRET_ARN", "arn:aws:secretsmanager:x"));
        let browser = config(&vars).unwrap().oidc.unwrap().browser.unwrap();
        assert_eq!(browser.client_id, "emma-web");
        assert!(matches!(
            browser.client_secret,
            Some(SecretSetting::SecretArn(ref arn)) if arn == "arn:aws:secretsmanager:x"
        ));
    }

    #[test]
    fn one_browser_endpoint_without_the_other_names_the_missing_one() {
        let mut vars = OIDC.to_vec();
        vars.push((
            "EMMA_OIDC_AUTHORIZATION_URL",
            "https://idp.example.test/auth",
        ));
        let err = config(&vars).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("EMMA_OIDC_TOKEN_URL is not valid"),
            "{err}"
        );
        let mut vars = OIDC.to_vec();
        vars.push(("EMMA_OIDC_TOKEN_URL", "not a url"));
        let err = config(&vars).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("EMMA_OIDC_TOKEN_URL is not valid"),
            "{err}"
        );
    }
}
