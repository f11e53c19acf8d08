//! Consent evidence (Einwilligungsnachweis): what EMMA keeps to prove that a
//! person consented to the tenant's mailings (GDPR Art. 7(1), UWG § 7) — for
//! a double opt-in one record of the sign-up (time, IP address, user agent,
//! form and page, the exact consent text shown, and the confirmation mail
//! exactly as sent) and one of the confirmation (time, IP address, user
//! agent).
//!
//! The IP address is kept in full, and only here. Consent evidence is a
//! purpose of its own (the sender bears the burden of proof, Art. 7(1) and
//! Art. 6(1)(c)/(f) GDPR), and a pseudonymised address could not be matched
//! against a provider's records in a dispute. It is never logged, and the
//! audit log keeps only its pseudonymised trace. The records go with the
//! contact: an erasure calls [`delete_all`], and an unconfirmed sign-up that
//! expires takes its records with it.
//!
//! The confirmation mail is kept in the blob store under the tenant's
//! prefix (`<tenant>/consent/<contact>/<record>.eml`) and referenced from
//! the record — but never with its live link: whoever may read evidence
//! could otherwise confirm on the person's behalf. What is kept is the
//! message as sent (same headers, Message-ID and date, same text) with the
//! confirmation link replaced by a placeholder, and beside it the SHA-256
//! of the bytes that actually went to the mail service and the SHA-256 of
//! the link: the person's copy of the mail proves against both.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::App;
use crate::domain::{ContactId, ListId, SignupFormId, TenantId};
use crate::ports::store::{Item, PutCondition, Query, StoreError, keys};
use crate::ports::{BlobError, BlobKey};

#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
}

/// What a record proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// The person filled in a sign-up form; a confirmation mail went out.
    Signup,
    /// The person confirmed through the link in that mail.
    Confirmation,
}

/// The confirmation mail as sent, without its live link: where the kept
/// bytes are, and what the sent ones were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConsentMail {
    /// The Message-ID header (without angle brackets).
    pub message_id: String,
    /// The blob that holds the kept raw MIME bytes (the link replaced).
    pub blob_key: String,
    /// SHA-256 of the kept raw bytes, hex.
    pub sha256: String,
    /// Size of the kept raw bytes.
    pub size_bytes: u64,
    /// SHA-256 of the raw bytes that went to the mail service, hex.
    pub sent_sha256: String,
    pub sent_size_bytes: u64,
    /// SHA-256 of the confirmation link as it stood in the mail, hex.
    pub link_sha256: String,
    /// The text part as it went into the message, the link replaced (the
    /// raw bytes carry it encoded).
    pub text: String,
}

/// A confirmation mail to keep as evidence.
#[derive(Debug, Clone, Copy)]
pub struct MailToKeep<'a> {
    pub message_id: &'a str,
    /// The text part, the link replaced.
    pub text: &'a str,
    /// The raw bytes to keep: the message as sent, the link replaced.
    pub kept: &'a [u8],
    /// The raw bytes that went to the mail service (only hashed).
    pub sent: &'a [u8],
    /// The confirmation link (only hashed).
    pub link: &'a str,
}

/// One piece of evidence. Fields that do not apply to its kind are empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConsentRecord {
    #[schema(value_type = String)]
    pub id: uuid::Uuid,
    pub kind: ConsentKind,
    pub at: DateTime<Utc>,
    #[schema(value_type = String)]
    pub contact: ContactId,
    /// The client's IP address, in full (see the module documentation).
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    #[schema(value_type = Option<String>)]
    pub form_id: Option<SignupFormId>,
    pub form_name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub list_id: Option<ListId>,
    /// The page the form was on (its `page` field or the Referer).
    pub page: Option<String>,
    /// The consent text exactly as shown.
    pub consent_text: Option<String>,
    /// The form's version of that text (it counts up when the text changes).
    pub consent_version: Option<u32>,
    /// SHA-256 of the consent text, hex.
    pub consent_text_sha256: Option<String>,
    pub mail: Option<ConsentMail>,
    /// The sign-up record a confirmation confirms.
    #[schema(value_type = Option<String>)]
    pub confirms: Option<uuid::Uuid>,
}

impl ConsentRecord {
    /// An empty record of this kind for the contact, at `at`.
    pub fn new(kind: ConsentKind, contact: ContactId, at: DateTime<Utc>) -> Self {
        Self {
            id: uuid::Uuid::now_v7(),
            kind,
            at,
            contact,
            ip: None,
            user_agent: None,
            form_id: None,
            form_name: None,
            list_id: None,
            page: None,
            consent_text: None,
            consent_version: None,
            consent_text_sha256: None,
            mail: None,
            confirms: None,
        }
    }

    fn sort_key(&self) -> String {
        format!(
            "{}#{}",
            self.at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
            self.id.simple()
        )
    }
}

/// SHA-256 of some bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The store item of a record, for writers that put it in a transaction
/// (with [`PutCondition::NotExists`], as [`write`] does).
pub fn item(tenant: &TenantId, record: &ConsentRecord) -> Result<Item, StoreError> {
    Item::new(
        keys::consent_record(tenant, &record.contact, &record.sort_key()),
        record,
    )
}

/// Writes a record (never overwriting one).
pub async fn write(
    app: &App,
    tenant: &TenantId,
    record: &ConsentRecord,
) -> Result<(), ConsentError> {
    app.store
        .put(item(tenant, record)?, PutCondition::NotExists)
        .await?;
    Ok(())
}

/// The blob key of a record's mail.
fn mail_key(
    tenant: &TenantId,
    contact: &ContactId,
    record: &uuid::Uuid,
) -> Result<BlobKey, BlobError> {
    BlobKey::new(
        tenant,
        &format!("consent/{contact}/{}.eml", record.simple()),
    )
}

/// Stores a mail as sent (its link replaced), for the record `record_id`
/// of the contact, and answers the reference to put into the record.
pub async fn store_mail(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
    record_id: &uuid::Uuid,
    mail: MailToKeep<'_>,
) -> Result<ConsentMail, ConsentError> {
    let key = mail_key(tenant, contact, record_id)?;
    app.blobs
        .put(&key, mail.kept.to_vec(), "message/rfc822")
        .await?;
    Ok(ConsentMail {
        message_id: mail.message_id.to_owned(),
        blob_key: key.as_str().to_owned(),
        sha256: sha256_hex(mail.kept),
        size_bytes: mail.kept.len() as u64,
        sent_sha256: sha256_hex(mail.sent),
        sent_size_bytes: mail.sent.len() as u64,
        link_sha256: sha256_hex(mail.link.as_bytes()),
        text: mail.text.to_owned(),
    })
}

/// The raw bytes of the mail a record references, if it has one and it is
/// still there.
pub async fn mail_bytes(
    app: &App,
    tenant: &TenantId,
    record: &ConsentRecord,
) -> Result<Option<Vec<u8>>, ConsentError> {
    if record.mail.is_none() {
        return Ok(None);
    }
    let key = mail_key(tenant, &record.contact, &record.id)?;
    Ok(app.blobs.get(&key).await?.map(|blob| blob.bytes))
}

/// The header block of a raw message as sent (up to the first empty
/// line), lines joined with `\n`; header values stay RFC 2047 encoded.
pub fn header_block(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let head = text
        .split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .map_or(text.as_ref(), |(head, _)| head);
    head.replace("\r\n", "\n")
}

/// Every record of the contact, oldest first (also of a contact that is
/// gone: the Art. 15 export and the evidence pages read them).
pub async fn records(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
) -> Result<Vec<ConsentRecord>, ConsentError> {
    let mut records = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(
                Query::table(keys::consent_records(tenant, contact))
                    .limit(200)
                    .after(cursor),
            )
            .await?;
        for stored in &page.items {
            records.push(stored.item.parse()?);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(records),
        }
    }
}

/// Deletes one record and its stored mail.
pub async fn delete(
    app: &App,
    tenant: &TenantId,
    record: &ConsentRecord,
) -> Result<(), ConsentError> {
    if record.mail.is_some() {
        app.blobs
            .delete(&mail_key(tenant, &record.contact, &record.id)?)
            .await?;
    }
    app.store
        .delete(&keys::consent_record(
            tenant,
            &record.contact,
            &record.sort_key(),
        ))
        .await?;
    Ok(())
}

/// Deletes every record of the contact and the mails they reference (on
/// erasure, and when an unconfirmed sign-up expires): whatever is stored
/// under the contact's evidence prefix goes, page by page. Answers how
/// many records went.
pub async fn delete_all(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
) -> Result<usize, ConsentError> {
    let mut deleted = 0;
    loop {
        let page = app
            .store
            .query(Query::table(keys::consent_records(tenant, contact)).limit(200))
            .await?;
        if page.items.is_empty() {
            return Ok(deleted);
        }
        for stored in &page.items {
            if let Ok(record) = stored.item.parse::<ConsentRecord>()
                && record.mail.is_some()
            {
                app.blobs
                    .delete(&mail_key(tenant, &record.contact, &record.id)?)
                    .await?;
            }
            app.store.delete(&stored.item.key).await?;
            deleted += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_sort_by_time_in_their_keys() {
        let contact = ContactId::parse(&"a".repeat(32)).unwrap();
        let early = ConsentRecord::new(
            ConsentKind::Signup,
            contact.clone(),
            DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        );
        let late = ConsentRecord::new(
            ConsentKind::Confirmation,
            contact,
            DateTime::from_timestamp(1_800_000_001, 0).unwrap(),
        );
        assert!(early.sort_key() < late.sort_key());
    }

    #[test]
    fn the_hash_of_a_text_is_sha256_in_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
