//! The data subject's right of access (GDPR Art. 15): everything EMMA
//! stores about one contact, gathered in one document — the contact with
//! every field and custom attribute, the lists it is on, its suppression
//! entry, the delivery events reported for its address, its consent
//! evidence, its sign-ups still waiting for their confirmation, and what
//! became of each campaign it was a recipient of (its send records). The
//! audit log is not searched: its entries are keyed by time,
//! name the contact only by its id, and are kept separately under the
//! tenant's audit retention period; the document says so.
//!
//! An erased contact (Art. 17) has no document: only a keyed hash of its
//! address is left, on the suppression list, and that names nobody. Its
//! send records go with the erasure too ([`erase_send_records`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::domain::{
    CampaignId, Contact, ContactId, ContactStatus, Language, Salutation, TenantId,
};
use crate::ports::store::{
    MAX_BATCH_GET, PutCondition, Query, StoreError, Stored, keys, parse_all,
};
use crate::services::campaigns::{Campaign, CampaignState};
use crate::services::consent::{self, ConsentError, ConsentRecord};
use crate::services::contacts::{self, ContactError};
use crate::services::feedback;
use crate::services::sending::{RecordState, SendRecord, counter};
use crate::services::signup::{self, PendingSignup, SignupError};
use crate::services::suppressions::{SuppressionReason, reason_label};
use crate::services::tenants::{self, TenantError};
use crate::services::unsubscribe::{self, UnsubscribeError};

/// The audit action of an Art. 15 export (API and page).
pub const AUDIT_ACTION: &str = "contact.data_export";

#[derive(Debug, thiserror::Error)]
pub enum GdprError {
    #[error(transparent)]
    Tenant(TenantError),
    #[error("no contact with this id")]
    NotFound,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for GdprError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<TenantError> for GdprError {
    fn from(e: TenantError) -> Self {
        match e {
            TenantError::Store(s) => Self::Store(s),
            other => Self::Tenant(other),
        }
    }
}

impl From<ContactError> for GdprError {
    fn from(e: ContactError) -> Self {
        match e {
            ContactError::Tenant(t) => t.into(),
            ContactError::Store(s) => Self::Store(s),
            ContactError::NotFound => Self::NotFound,
            other => Self::Store(StoreError::Backend(other.to_string())),
        }
    }
}

impl From<ConsentError> for GdprError {
    fn from(e: ConsentError) -> Self {
        match e {
            ConsentError::Store(s) => Self::Store(s),
            ConsentError::Blob(b) => Self::Store(StoreError::Backend(b.to_string())),
        }
    }
}

impl From<SignupError> for GdprError {
    fn from(e: SignupError) -> Self {
        match e {
            SignupError::Tenant(t) => t.into(),
            SignupError::Store(s) => Self::Store(s),
            other => Self::Store(StoreError::Backend(other.to_string())),
        }
    }
}

impl From<UnsubscribeError> for GdprError {
    fn from(e: UnsubscribeError) -> Self {
        match e {
            UnsubscribeError::Tenant(t) => t.into(),
            UnsubscribeError::Store(s) => Self::Store(s),
            UnsubscribeError::Contact(c) => c.into(),
            UnsubscribeError::Conflict => Self::Store(StoreError::Backend(e.to_string())),
        }
    }
}

/// The contact as stored, every field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactRecord {
    pub id: String,
    pub email: String,
    pub salutation: Option<Salutation>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub language: Language,
    pub status: ContactStatus,
    /// The tenant's custom attributes, by name (text, number, date as
    /// `YYYY-MM-DD`, or boolean).
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Contact> for ContactRecord {
    fn from(c: &Contact) -> Self {
        Self {
            id: c.id.to_string(),
            email: c.email.to_string(),
            salutation: c.salutation,
            first_name: c.first_name.as_ref().map(|n| n.as_str().to_owned()),
            last_name: c.last_name.as_ref().map(|n| n.as_str().to_owned()),
            language: c.language,
            status: c.status,
            attributes: c
                .attributes
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.to_json()))
                .collect(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A list the contact is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Membership {
    pub list_id: String,
    pub name: String,
}

/// The contact's entry on the suppression list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SuppressionRecord {
    pub reason: SuppressionReason,
    /// The reason in German, as the pages show it.
    pub reason_label: String,
    pub added_at: DateTime<Utc>,
}

/// A delivery event reported for the contact's address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventRecord {
    /// e.g. `Delivery`, `Bounce`, `Complaint`.
    pub kind: String,
    pub at: DateTime<Utc>,
    /// The mail service's id of the message.
    pub provider_message_id: String,
    pub hard_bounce: bool,
    pub complaint: bool,
}

/// What became of the contact as a recipient of one campaign (its send
/// record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SendingRecord {
    pub campaign_id: String,
    /// The campaign's name.
    pub campaign_name: String,
    /// `queued`, `sending`, `sent`, `failed`, `skipped` or `unknown`.
    pub state: RecordState,
    /// When the record last changed.
    pub updated_at: DateTime<Utc>,
    /// Why it was skipped, failed or is unknown (a short fixed text).
    pub reason: Option<String>,
    /// The mail service's id of the sent message.
    pub message_id: Option<String>,
}

/// What the document says of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditNote {
    /// How long the tenant keeps audit entries, in days.
    pub retention_days: u32,
    pub note: String,
}

/// Everything stored about one contact (GDPR Art. 15).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactData {
    pub generated_at: DateTime<Utc>,
    pub tenant_id: String,
    /// The institute's name.
    pub tenant_name: String,
    pub contact: ContactRecord,
    pub lists: Vec<Membership>,
    pub suppression: Option<SuppressionRecord>,
    pub delivery_events: Vec<EventRecord>,
    /// The consent evidence (sign-up and confirmation records: time, IP
    /// address, user agent, form, page, consent text, confirmation mail),
    /// oldest first.
    pub consent: Vec<ConsentRecord>,
    /// Sign-ups waiting for their confirmation (double opt-in), oldest
    /// first; each goes when its link expires.
    pub pending_signups: Vec<PendingSignup>,
    /// Per-person tracking: the first open of each campaign and the first
    /// click of each link, with the time and the link's destination.
    #[serde(default)]
    pub tracking: Vec<crate::services::tracking::TrackingRecord>,
    /// Per campaign the contact was a recipient of: the state of its
    /// message, when that last changed and why (oldest campaign first).
    #[serde(default)]
    pub sending: Vec<SendingRecord>,
    pub audit_log: AuditNote,
}

/// Gathers everything stored about the contact. Another tenant's contact,
/// a deleted and an erased one are all simply not found.
#[tracing::instrument(skip(app))]
pub async fn contact_data(
    app: &App,
    tenant: &TenantId,
    contact_id: &ContactId,
) -> Result<ContactData, GdprError> {
    let registered = tenants::get(app, tenant).await?;
    let contact = contacts::get(app, tenant, contact_id).await?;
    let lists = unsubscribe::lists_of(app, tenant, contact_id)
        .await?
        .into_iter()
        .map(|l| Membership {
            list_id: l.id.to_string(),
            name: l.name,
        })
        .collect();
    let suppression = match app
        .store
        .get(&keys::suppression(tenant, contact_id))
        .await?
    {
        Some(stored) => {
            let entry: crate::services::suppressions::Suppression = stored.item.parse()?;
            Some(SuppressionRecord {
                reason: entry.reason,
                reason_label: reason_label(entry.reason).to_owned(),
                added_at: entry.added_at,
            })
        }
        None => None,
    };
    let delivery_events = events_of(app, tenant, &contact).await?;
    let consent = consent::records(app, tenant, contact_id).await?;
    let pending_signups = signup::pending_of(app, tenant, contact_id).await?;
    let retention_days = registered.settings.audit_retention_days;
    Ok(ContactData {
        generated_at: app.clock.now(),
        tenant_id: tenant.to_string(),
        tenant_name: registered.name.as_str().to_owned(),
        contact: ContactRecord::from(&contact),
        lists,
        suppression,
        delivery_events,
        consent,
        pending_signups,
        tracking: crate::services::tracking::of_contact(app, tenant, contact_id).await?,
        sending: sending_of(app, tenant, contact_id).await?,
        audit_log: AuditNote {
            retention_days,
            note: format!(
                "Änderungen an diesem Kontakt stehen im Änderungsprotokoll des Instituts. \
                 Dort ist der Kontakt nur mit seiner Kennung {contact_id} genannt, nie mit \
                 seiner Adresse; die Einträge werden getrennt geführt und nach {retention_days} \
                 Tagen gelöscht. Auf Anfrage stellt die Administration des Instituts sie zusammen."
            ),
        },
    })
}

/// The contact's delivery events, oldest first (filed under its id).
async fn events_of(
    app: &App,
    tenant: &TenantId,
    contact: &Contact,
) -> Result<Vec<EventRecord>, GdprError> {
    Ok(feedback::of_contact(app, tenant, &contact.id)
        .await?
        .into_iter()
        .map(|event| EventRecord {
            kind: event.kind,
            at: event.at,
            provider_message_id: event.provider_message_id,
            hard_bounce: event.hard_bounce,
            complaint: event.complaint,
        })
        .collect())
}

/// The tenant's campaigns (at most a few hundred), oldest first, each with
/// the contact's send record where it was a recipient.
async fn send_records_of(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
) -> Result<Vec<(Campaign, Stored)>, StoreError> {
    let campaigns: Vec<Campaign> = parse_all(
        app.store.as_ref(),
        Query::table(keys::campaigns(tenant)).limit(200),
    )
    .await?;
    let mut found = Vec::new();
    for chunk in campaigns.chunks(MAX_BATCH_GET) {
        let keys: Vec<_> = chunk
            .iter()
            .map(|c| keys::campaign_recipient(tenant, &c.id, contact))
            .collect();
        let records = app.store.get_many(&keys).await?;
        found.extend(
            chunk
                .iter()
                .zip(records)
                .filter_map(|(campaign, record)| Some((campaign.clone(), record?))),
        );
    }
    Ok(found)
}

/// The contact's send records, for the document.
async fn sending_of(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
) -> Result<Vec<SendingRecord>, StoreError> {
    send_records_of(app, tenant, contact)
        .await?
        .into_iter()
        .map(|(campaign, stored)| {
            let record: SendRecord = stored.item.parse()?;
            Ok(SendingRecord {
                campaign_id: campaign.id.to_string(),
                campaign_name: campaign.name,
                state: record.state,
                updated_at: record.updated_at,
                reason: record.reason,
                message_id: record.message_id,
            })
        })
        .collect()
}

/// The reason on the send record of an erased contact in a campaign that
/// was still running at the erasure.
pub const ERASED_REASON: &str = "erased";

/// How often a scrub of a send record is tried against concurrent writes
/// of the send worker.
const SCRUB_ATTEMPTS: usize = 5;

/// What an erasure did to the contact's send records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendRecordsErased {
    /// Records of finished (sent or cancelled) campaigns, deleted.
    pub deleted: usize,
    /// Records of campaigns still running, reduced to "skipped: erased".
    pub scrubbed: usize,
}

/// Handles the contact's send records at an erasure (Art. 17); called by
/// the erasure before the contact itself goes, so that trying again after
/// a failure finishes the job.
///
/// - A **finished** campaign (sent or cancelled) needs the record no more:
///   it is deleted. The campaign's report keeps its exact count, made when
///   the run ended, and that names nobody.
/// - A campaign **still running** (sending, paused, or anything not yet
///   finished) keeps a scrubbed record: state `skipped`, reason
///   [`ERASED_REASON`], no message id, no claim. Deleting it would be
///   safe for the send worker (a batch naming a contact without a record
///   sends nothing), but the record is what holds the recipient's place:
///   dispatch writes a record only where none exists, so a snapshot step
///   that read the contact just before the erasure cannot bring it back as
///   "queued", the pending index no longer names it, and the exact count
///   at the end still adds up with the live counters (the contact counts
///   as skipped, like anyone erased after the snapshot). What is left is
///   the contact id — the keyed hash of the address the suppression list
///   keeps anyway — the campaign, and "erased": no address, no message id,
///   not even whether a message went out.
///
/// The scrub is a write conditioned on the version read, so a worker
/// writing at the same moment is never overwritten unnoticed: the record
/// is read again and the scrub tried again. A worker whose claim is
/// scrubbed away finds its own write refused and sends nothing more to
/// the contact; a message it was sending that very moment is not counted.
/// The live counters move with the scrub (the old state's counter down,
/// `skipped` up), as the worker's own tally would.
#[tracing::instrument(skip(app))]
pub async fn erase_send_records(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
) -> Result<SendRecordsErased, StoreError> {
    let mut done = SendRecordsErased::default();
    for (campaign, stored) in send_records_of(app, tenant, contact).await? {
        match campaign.state {
            CampaignState::Sent | CampaignState::Cancelled => {
                app.store.delete(&stored.item.key).await?;
                done.deleted += 1;
            }
            CampaignState::Draft
            | CampaignState::Scheduled
            | CampaignState::Sending
            | CampaignState::Paused => {
                if scrub(app, tenant, &campaign.id, stored).await? {
                    done.scrubbed += 1;
                }
            }
        }
    }
    Ok(done)
}

/// Reduces a running campaign's send record to "skipped: erased" (see
/// [`erase_send_records`]); `false` when it was so already, or is gone.
async fn scrub(
    app: &App,
    tenant: &TenantId,
    campaign: &CampaignId,
    mut stored: Stored,
) -> Result<bool, StoreError> {
    for _ in 0..SCRUB_ATTEMPTS {
        let record: SendRecord = stored.item.parse()?;
        let scrubbed = SendRecord {
            contact: record.contact.clone(),
            state: RecordState::Skipped,
            claim: None,
            lease_until: None,
            message_id: None,
            reason: Some(ERASED_REASON.to_owned()),
            updated_at: app.clock.now(),
        };
        let already = SendRecord {
            updated_at: record.updated_at,
            ..scrubbed.clone()
        };
        if record == already {
            return Ok(false);
        }
        match app
            .store
            .put(
                scrubbed.item(tenant, campaign)?,
                PutCondition::Version(stored.version),
            )
            .await
        {
            Ok(_) => {
                let mut deltas = Vec::with_capacity(2);
                match record.state {
                    RecordState::Sent => deltas.push((counter::SENT, -1)),
                    RecordState::Failed => deltas.push((counter::FAILED, -1)),
                    RecordState::Unknown => deltas.push((counter::UNKNOWN, -1)),
                    RecordState::Queued | RecordState::Sending | RecordState::Skipped => {}
                }
                if record.state != RecordState::Skipped {
                    deltas.push((counter::SKIPPED, 1));
                }
                if !deltas.is_empty() {
                    app.store
                        .add(&keys::campaign_progress(tenant, campaign), &deltas)
                        .await?;
                }
                return Ok(true);
            }
            Err(StoreError::ConditionFailed) => match app.store.get(&stored.item.key).await? {
                Some(again) => stored = again,
                None => return Ok(false),
            },
            Err(e) => return Err(e),
        }
    }
    tracing::warn!(%tenant, %campaign, "a send record kept changing while its contact was erased");
    Err(StoreError::ConditionFailed)
}
