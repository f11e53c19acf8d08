//! The local mail adapter: an outbox folder. Each sent message is written
//! atomically as `<dir>/<tenant>/<UTC timestamp>-<id>.eml`, the raw MIME
//! exactly as given, with a `.json` beside it holding the envelope and tags.
//! Sender identities live in `<dir>/identities.json`; like SES, it refuses a
//! sender whose address or domain is not registered, and what SES refuses
//! before sending.

use std::path::PathBuf;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::files::write_atomically;
use crate::adapters::ses::check_before_sending;
use crate::domain::{EmailAddress, TenantId};
use crate::ports::{MailError, Mailer, OutgoingMail, SentMail};

const IDENTITIES_FILE: &str = "identities.json";

/// One message in the outbox, as it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub provider_message_id: String,
    pub sent_at: DateTime<Utc>,
    pub from: EmailAddress,
    pub recipients: Vec<EmailAddress>,
    pub tags: Vec<(String, String)>,
    /// The raw MIME message, byte for byte.
    pub raw: Vec<u8>,
    /// The `.eml` file.
    pub path: PathBuf,
}

/// The `.json` beside each `.eml`.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    message_id: String,
    tenant: TenantId,
    sent_at: DateTime<Utc>,
    from: EmailAddress,
    recipients: Vec<EmailAddress>,
    tags: Vec<Tag>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Tag {
    name: String,
    value: String,
}

#[derive(Debug)]
pub struct OutboxMailer {
    dir: PathBuf,
    /// Serialises the read-modify-write of the identities file.
    identities: Mutex<()>,
}

impl OutboxMailer {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            identities: Mutex::new(()),
        }
    }

    /// The messages sent for the tenant, oldest first.
    pub async fn sent(&self, tenant: &TenantId) -> Result<Vec<OutboxEntry>, MailError> {
        let folder = self.dir.join(tenant.as_str());
        let mut entries = match tokio::fs::read_dir(&folder).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(e)),
        };
        let mut emls = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(io_error)? {
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "eml") {
                emls.push(path);
            }
        }
        // File names start with the UTC time, so name order is send order.
        emls.sort();
        let mut sent = Vec::with_capacity(emls.len());
        for path in emls {
            let envelope = tokio::fs::read(path.with_extension("json"))
                .await
                .map_err(io_error)?;
            let envelope: Envelope = serde_json::from_slice(&envelope)
                .map_err(|e| MailError::Unavailable(format!("a broken outbox envelope: {e}")))?;
            let raw = tokio::fs::read(&path).await.map_err(io_error)?;
            sent.push(OutboxEntry {
                provider_message_id: envelope.message_id,
                sent_at: envelope.sent_at,
                from: envelope.from,
                recipients: envelope.recipients,
                tags: envelope
                    .tags
                    .into_iter()
                    .map(|tag| (tag.name, tag.value))
                    .collect(),
                raw,
                path,
            });
        }
        Ok(sent)
    }

    async fn read_identities(&self) -> Result<Vec<String>, MailError> {
        match tokio::fs::read(self.dir.join(IDENTITIES_FILE)).await {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| MailError::Unavailable(format!("a broken identities file: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io_error(e)),
        }
    }
}

fn io_error(e: std::io::Error) -> MailError {
    MailError::Unavailable(e.to_string())
}

/// An identity as stored: an address (domain in lower case, as
/// `EmailAddress` keeps it) or a domain in lower case.
fn normalize_identity(identity: &str) -> Result<String, MailError> {
    let identity = identity.trim();
    let invalid = || MailError::Rejected("an identity is an e-mail address or a domain");
    if identity.contains('@') {
        return EmailAddress::parse(identity)
            .map(|address| address.as_str().to_owned())
            .map_err(|_| invalid());
    }
    let domain = identity.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    let valid_label = |label: &&str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if domain.len() > 253 || labels.len() < 2 || !labels.iter().all(valid_label) {
        return Err(invalid());
    }
    Ok(domain)
}

#[async_trait]
impl Mailer for OutboxMailer {
    fn backend(&self) -> &'static str {
        "outbox"
    }

    async fn register_identity(&self, identity: &str) -> Result<(), MailError> {
        let identity = normalize_identity(identity)?;
        let _guard = self.identities.lock().await;
        let mut identities = self.read_identities().await?;
        if identities.contains(&identity) {
            return Ok(());
        }
        identities.push(identity);
        identities.sort();
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(io_error)?;
        let json = serde_json::to_vec_pretty(&identities)
            .map_err(|e| MailError::Unavailable(e.to_string()))?;
        write_atomically(&self.dir.join(IDENTITIES_FILE), &json)
            .await
            .map_err(io_error)
    }

    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailError> {
        check_before_sending(mail)?;
        let identities = self.read_identities().await?;
        let verified = identities
            .iter()
            .any(|identity| identity == mail.from.as_str() || identity == mail.from.domain());
        if !verified {
            return Err(MailError::SenderNotVerified(mail.from.as_str().to_owned()));
        }

        let sent_at = Utc::now();
        let message_id = uuid::Uuid::now_v7().simple().to_string();
        let folder = self.dir.join(mail.tenant.as_str());
        tokio::fs::create_dir_all(&folder).await.map_err(io_error)?;
        let stem = format!("{}-{message_id}", sent_at.format("%Y%m%dT%H%M%S%.6fZ"));
        let envelope = Envelope {
            message_id: message_id.clone(),
            tenant: mail.tenant.clone(),
            sent_at,
            from: mail.from.clone(),
            recipients: mail.recipients.clone(),
            tags: mail
                .tags
                .iter()
                .map(|(name, value)| Tag {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&envelope)
            .map_err(|e| MailError::Unavailable(e.to_string()))?;
        // The envelope first: whoever sees the .eml finds its envelope.
        write_atomically(&folder.join(format!("{stem}.json")), &json)
            .await
            .map_err(io_error)?;
        write_atomically(&folder.join(format!("{stem}.eml")), &mail.raw)
            .await
            .map_err(io_error)?;
        Ok(SentMail {
            provider_message_id: message_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_is_an_address_or_a_domain() {
        assert_eq!(
            normalize_identity("Sparkasse-A.DE").unwrap(),
            "sparkasse-a.de"
        );
        assert_eq!(
            normalize_identity("Info@Sparkasse-A.DE").unwrap(),
            "Info@sparkasse-a.de"
        );
        for bad in ["", "localhost", "-a.de", "a..de", "sp ace.de", "@a.de"] {
            assert!(normalize_identity(bad).is_err(), "{bad:?}");
        }
    }
}
