//! Delivery feedback: the events the mail service reports about sent
//! messages (delivered, bounced, complained, ...), stored per tenant with
//! the recipients pseudonymised. Suppression and report counters build on
//! these records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::domain::TenantId;
use crate::feedback::SesEvent;
use crate::ports::store::{Item, PutCondition, Query, StoreError, keys};

/// What EMMA keeps of a delivery event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryEvent {
    /// e.g. "Bounce", "Complaint", "Delivery".
    pub kind: String,
    pub provider_message_id: String,
    pub at: DateTime<Utc>,
    /// Keyed hashes of the affected addresses, never the addresses.
    pub recipients: Vec<String>,
    pub hard_bounce: bool,
    pub complaint: bool,
}

/// What became of one reported event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    Stored {
        tenant: TenantId,
    },
    /// The message carried no valid tenant tag (not sent by EMMA, or the
    /// tag was lost): nothing to attach it to.
    NoTenant,
}

/// Stores the event under the tenant its message was tagged with.
/// Idempotent: the same event reported twice is stored once.
pub async fn record(app: &App, event: &SesEvent) -> Result<Recorded, StoreError> {
    let Some(tenant) = event.tenant_tag().and_then(|t| TenantId::parse(t).ok()) else {
        tracing::warn!(provider_message_id = %event.message_id, "delivery event without a tenant tag");
        return Ok(Recorded::NoTenant);
    };
    let kind = event.kind.to_string();
    let record = DeliveryEvent {
        kind: kind.clone(),
        provider_message_id: event.message_id.clone(),
        at: event.timestamp,
        recipients: event
            .recipients
            .iter()
            .map(|r| app.pseudonyms.hash(&r.to_lowercase()))
            .collect(),
        hard_bounce: event.is_hard_bounce(),
        complaint: matches!(event.kind, crate::feedback::SesEventKind::Complaint),
    };
    let key = keys::delivery_event(&tenant, &event.timestamp, &event.message_id, &kind);
    app.store
        .put(Item::new(key, &record)?, PutCondition::Always)
        .await?;
    tracing::info!(%tenant, %kind, provider_message_id = %event.message_id, "delivery event stored");
    Ok(Recorded::Stored { tenant })
}

/// The tenant's delivery events, oldest first (one page).
pub async fn list(
    app: &App,
    tenant: &TenantId,
    limit: u32,
) -> Result<Vec<DeliveryEvent>, StoreError> {
    let page = app
        .store
        .query(Query::table(keys::delivery_events(tenant)).limit(limit))
        .await?;
    page.items.iter().map(|s| s.item.parse()).collect()
}
