//! Delivery feedback: the events the mail service reports about sent
//! messages (delivered, bounced, complained, ...), stored per tenant and
//! filed under the contact id of each recipient address (a keyed hash:
//! no address is kept). A person's events are read for an Art. 15 export
//! and deleted with an erasure by that id alone. Suppression and report
//! counters build on these records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::domain::{ContactId, EmailAddress, TenantId};
use crate::feedback::SesEvent;
use crate::ports::store::{Item, PutCondition, Query, StoreError, keys};

/// What EMMA keeps of a delivery event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryEvent {
    /// e.g. "Bounce", "Complaint", "Delivery".
    pub kind: String,
    pub provider_message_id: String,
    pub at: DateTime<Utc>,
    /// The contact the recipient address belongs to (its id is a keyed
    /// hash of the address; there may be no such contact).
    pub contact: ContactId,
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
    for recipient in &event.recipients {
        // SES reports the address it was given; one that does not parse was
        // never a contact's address and has nobody to be filed under.
        let Ok(address) = EmailAddress::parse(recipient) else {
            tracing::warn!(%tenant, %kind, provider_message_id = %event.message_id, "delivery event for an address that does not parse");
            continue;
        };
        let contact = app.pseudonyms.contact_id(&tenant, &address);
        let record = DeliveryEvent {
            kind: kind.clone(),
            provider_message_id: event.message_id.clone(),
            at: event.timestamp,
            contact: contact.clone(),
            hard_bounce: event.is_hard_bounce(),
            complaint: matches!(event.kind, crate::feedback::SesEventKind::Complaint),
        };
        let key = keys::delivery_event(
            &tenant,
            &contact,
            &event.timestamp,
            &event.message_id,
            &kind,
        );
        app.store
            .put(Item::new(key, &record)?, PutCondition::Always)
            .await?;
    }
    tracing::info!(%tenant, %kind, provider_message_id = %event.message_id, "delivery event stored");
    Ok(Recorded::Stored { tenant })
}

/// The delivery events of one contact, oldest first.
pub async fn of_contact(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
) -> Result<Vec<DeliveryEvent>, StoreError> {
    let mut events = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(Query::table(keys::contact_delivery_events(tenant, contact)).after(cursor))
            .await?;
        for stored in &page.items {
            events.push(stored.item.parse()?);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(events),
        }
    }
}

/// Deletes every delivery event of a contact (an erasure). Answers how
/// many there were.
pub async fn delete_of_contact(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
) -> Result<usize, StoreError> {
    crate::ports::store::delete_all(
        app.store.as_ref(),
        keys::contact_delivery_events(tenant, contact),
    )
    .await
}

/// The tenant's delivery events, by contact and then by time (one page).
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
