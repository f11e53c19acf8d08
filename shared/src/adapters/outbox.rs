//! The local mail adapter: an outbox folder. Each sent message is written
//! atomically as `<dir>/<tenant>/<UTC timestamp>-<id>.eml`, the raw MIME
//! exactly as given; its envelope and tags are one JSON line in
//! `<dir>/<tenant>/envelopes.jsonl` (one file per message, not two: a
//! campaign writes tens of thousands).
//! Sender identities live in `<dir>/identities.json`; like SES, it refuses a
//! sender whose address or domain is not registered, and what SES refuses
//! before sending.

use std::collections::HashMap;
use std::path::PathBuf;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::files::{TEMP_MARK, write_atomically};
use crate::adapters::ses::check_before_sending;
use crate::domain::{EmailAddress, TenantId};
use crate::ports::{MailError, Mailer, OutgoingMail, SentMail};

const IDENTITIES_FILE: &str = "identities.json";
/// The envelopes of a tenant's messages, one JSON line each, in send order.
pub const ENVELOPES_FILE: &str = "envelopes.jsonl";

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
        let mut envelopes = envelopes_in(&folder).await?;
        let mut sent = Vec::with_capacity(emls.len());
        for path in emls {
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            let id = stem.rsplit('-').next().unwrap_or_default();
            let envelope = envelopes.remove(id).ok_or_else(|| {
                MailError::Unavailable(format!("the outbox has no envelope for {stem}"))
            })?;
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
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || identities_in(&dir))
            .await
            .map_err(|e| MailError::Unavailable(e.to_string()))?
    }
}

/// The envelopes in a tenant's outbox folder, by message id. A line cut
/// short (a crash while appending; its .eml was never written) is passed
/// over.
async fn envelopes_in(folder: &std::path::Path) -> Result<HashMap<String, Envelope>, MailError> {
    let text = match tokio::fs::read_to_string(folder.join(ENVELOPES_FILE)).await {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io_error(e)),
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str::<Envelope>(line).ok())
        .map(|envelope| (envelope.message_id.clone(), envelope))
        .collect())
}

/// Appends one envelope line (a single write, so lines of concurrent
/// senders do not mix).
fn append_envelope(folder: &std::path::Path, line: &[u8]) -> Result<(), MailError> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(folder.join(ENVELOPES_FILE))
        .map_err(io_error)?;
    file.write_all(line).map_err(io_error)
}

/// The registered identities in the outbox folder `dir`.
fn identities_in(dir: &std::path::Path) -> Result<Vec<String>, MailError> {
    match std::fs::read(dir.join(IDENTITIES_FILE)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| MailError::Unavailable(format!("a broken identities file: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io_error(e)),
    }
}

/// Writes a message file under a temp name and renames it into place, so
/// a reader sees the whole file or none. Unlike blobs, the file is not
/// flushed to disk first: the outbox stands in for the mail service on a
/// developer's machine, and like the SQLite store (WAL, synchronous=NORMAL)
/// it may lose the last moments before a power cut (a message then may be
/// missing or empty); a reader never sees a file still being written.
fn write_renamed(target: &std::path::Path, bytes: &[u8]) -> Result<(), MailError> {
    let mut name = target.file_name().unwrap_or_default().to_owned();
    name.push(format!("{TEMP_MARK}{}", uuid::Uuid::new_v4().simple()));
    let temp = target.with_file_name(name);
    let written = std::fs::write(&temp, bytes).and_then(|()| std::fs::rename(&temp, target));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io_error(e));
    }
    Ok(())
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
        let sent_at = Utc::now();
        let message_id = uuid::Uuid::now_v7().simple().to_string();
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
        let mut line =
            serde_json::to_vec(&envelope).map_err(|e| MailError::Unavailable(e.to_string()))?;
        line.push(b'\n');
        let dir = self.dir.clone();
        let raw = mail.raw.clone();
        let from = mail.from.clone();
        let stem = format!("{}-{message_id}", sent_at.format("%Y%m%dT%H%M%S%.6fZ"));
        let folder = self.dir.join(mail.tenant.as_str());
        // One blocking task for the whole message (not one per file step):
        // a campaign writes tens of thousands of these.
        tokio::task::spawn_blocking(move || {
            let identities = identities_in(&dir)?;
            let verified = identities
                .iter()
                .any(|identity| identity == from.as_str() || identity == from.domain());
            if !verified {
                return Err(MailError::SenderNotVerified(from.as_str().to_owned()));
            }
            std::fs::create_dir_all(&folder).map_err(io_error)?;
            // The envelope first: whoever sees the .eml finds its envelope.
            append_envelope(&folder, &line)?;
            write_renamed(&folder.join(format!("{stem}.eml")), &raw)
        })
        .await
        .map_err(|e| MailError::Unavailable(e.to_string()))??;
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
