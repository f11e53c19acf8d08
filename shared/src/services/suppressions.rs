//! The tenant's suppression list (Sperrliste): addresses that must never be
//! mailed — unsubscribed, hard-bounced, complained, erased, or added by
//! hand. An entry is keyed by the contact id its address has (a keyed
//! hash), so an erased person's entry keeps no address at all and still
//! stops their address from coming back by import or sign-up without a new
//! opt-in. Sending checks the list for every recipient.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::domain::{ContactId, EmailAddress, TenantId, UserId};
use crate::ports::store::{Cursor, Item, PutCondition, Query, StoreError, keys};
use crate::services::tenants::{self, TenantError};

/// Why an address is on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    Unsubscribed,
    Bounced,
    Complained,
    /// The person's data was erased (GDPR Art. 17); only the hash is left.
    Erased,
    /// Added by staff.
    Manual,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub id: ContactId,
    /// The address, except for erased people.
    pub email: Option<EmailAddress>,
    pub reason: SuppressionReason,
    pub added_at: DateTime<Utc>,
    pub added_by: Option<UserId>,
}

#[derive(Debug, thiserror::Error)]
pub enum SuppressionError {
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error("this address is not on the suppression list")]
    NotFound,
    #[error(
        "only entries added by hand can be removed; the others record a person's decision or a failed delivery"
    )]
    NotRemovable,
    #[error("the cursor is not valid for this list")]
    InvalidCursor,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for SuppressionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => Self::InvalidCursor,
            other => Self::Store(other),
        }
    }
}

/// Puts the address with this contact id on the list (an entry already
/// there stays as it is, with its first reason; an erasure always wins,
/// dropping any address kept).
pub async fn add(
    app: &App,
    tenant: &TenantId,
    id: &ContactId,
    email: Option<&EmailAddress>,
    reason: SuppressionReason,
    added_by: Option<UserId>,
) -> Result<Suppression, SuppressionError> {
    let key = keys::suppression(tenant, id);
    let entry = Suppression {
        id: id.clone(),
        email: if reason == SuppressionReason::Erased {
            None
        } else {
            email.cloned()
        },
        reason,
        added_at: app.clock.now(),
        added_by,
    };
    let condition = if reason == SuppressionReason::Erased {
        PutCondition::Always
    } else {
        PutCondition::NotExists
    };
    match app
        .store
        .put(Item::new(key.clone(), &entry)?, condition)
        .await
    {
        Ok(_) => Ok(entry),
        Err(StoreError::ConditionFailed) => {
            let stored = app
                .store
                .get(&key)
                .await?
                .ok_or(SuppressionError::NotFound)?;
            Ok(stored.item.parse()?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Adds an address by hand.
pub async fn add_address(
    app: &App,
    tenant: &TenantId,
    email: &EmailAddress,
    added_by: UserId,
) -> Result<Suppression, SuppressionError> {
    tenants::get_active(app, tenant).await?;
    let id = app.pseudonyms.contact_id(tenant, email);
    add(
        app,
        tenant,
        &id,
        Some(email),
        SuppressionReason::Manual,
        Some(added_by),
    )
    .await
}

/// The entry for this address, if it is on the list.
pub async fn find(
    app: &App,
    tenant: &TenantId,
    email: &EmailAddress,
) -> Result<Option<Suppression>, SuppressionError> {
    let id = app.pseudonyms.contact_id(tenant, email);
    match app.store.get(&keys::suppression(tenant, &id)).await? {
        Some(stored) => Ok(Some(stored.item.parse()?)),
        None => Ok(None),
    }
}

/// Whether the contact with this id must not be mailed.
pub async fn is_suppressed(
    app: &App,
    tenant: &TenantId,
    id: &ContactId,
) -> Result<bool, SuppressionError> {
    Ok(app
        .store
        .get(&keys::suppression(tenant, id))
        .await?
        .is_some())
}

/// One page of the list.
pub async fn list(
    app: &App,
    tenant: &TenantId,
    limit: u32,
    cursor: Option<Cursor>,
) -> Result<(Vec<Suppression>, Option<Cursor>), SuppressionError> {
    tenants::get(app, tenant).await?;
    let page = app
        .store
        .query(
            Query::table(keys::suppressions(tenant))
                .limit(limit)
                .after(cursor),
        )
        .await?;
    let entries = page
        .items
        .iter()
        .map(|s| s.item.parse())
        .collect::<Result<Vec<Suppression>, _>>()?;
    Ok((entries, page.next))
}

/// Removes an entry added by hand; the others cannot be removed.
pub async fn remove(app: &App, tenant: &TenantId, id: &ContactId) -> Result<(), SuppressionError> {
    tenants::get_active(app, tenant).await?;
    let key = keys::suppression(tenant, id);
    let stored = app
        .store
        .get(&key)
        .await?
        .ok_or(SuppressionError::NotFound)?;
    let entry: Suppression = stored.item.parse()?;
    if entry.reason != SuppressionReason::Manual {
        return Err(SuppressionError::NotRemovable);
    }
    app.store.delete(&key).await?;
    Ok(())
}
