//! The application state every entry point shares: the ports (as trait
//! objects, so the same use cases run on the local and the cloud adapters),
//! the clock, the pseudonymizer and the settings read at start-up.

use std::sync::Arc;

use crate::auth::oidc::OidcVerifier;
use crate::auth::oidc_client::SsoClient;
use crate::domain::EmailAddress;
use crate::ports::{BlobStore, Clock, ItemStore, Mailer, Queue};
use crate::telemetry::Pseudonymizer;

/// Settings the use cases read.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mail_from: EmailAddress,
    pub public_url: url::Url,
    pub environment: String,
    /// The only SNS topic the webhook takes delivery events from, when set.
    pub ses_events_topic_arn: Option<String>,
    /// How campaigns are sent.
    pub sending: crate::config::SendingConfig,
}

#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn ItemStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub mailer: Arc<dyn Mailer>,
    pub jobs: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
    pub pseudonyms: Pseudonymizer,
    pub settings: Arc<Settings>,
    /// Checks bearer tokens of the identity provider, when there is one.
    pub oidc: Option<Arc<OidcVerifier>>,
    /// Signs staff in through the identity provider in the browser, when
    /// its endpoints are configured (always locally: the development
    /// issuer).
    pub sso_client: Option<Arc<SsoClient>>,
}

impl App {
    /// The adapters in use, by port, e.g. `{"store": "sqlite", ...}`.
    pub fn adapters(&self) -> Adapters {
        Adapters {
            store: self.store.backend(),
            blobs: self.blobs.backend(),
            mail: self.mailer.backend(),
            queue: self.jobs.backend(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Adapters {
    pub store: &'static str,
    pub blobs: &'static str,
    pub mail: &'static str,
    pub queue: &'static str,
}
