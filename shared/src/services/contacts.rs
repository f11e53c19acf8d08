//! Contacts of a tenant: create, read, list. An address is unique within a
//! tenant; a guard item written in the same transaction keeps it so.

use crate::App;
use crate::domain::{Contact, ContactDraft, ContactId, TenantId};
use crate::ports::store::{Cursor, Item, PutCondition, Query, StoreError, TxOp, keys};
use crate::services::tenants::{self, TenantError};

#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error("no contact with this id")]
    NotFound,
    #[error("a contact with this e-mail address exists already")]
    DuplicateEmail,
    #[error("the cursor is not valid for this list")]
    InvalidCursor,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ContactError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => Self::InvalidCursor,
            other => Self::Store(other),
        }
    }
}

/// Creates a contact for an active tenant.
#[tracing::instrument(skip(app, draft), fields(email = %app.pseudonyms.email(&draft.email)))]
pub async fn create(
    app: &App,
    tenant: &TenantId,
    draft: ContactDraft,
) -> Result<Contact, ContactError> {
    tenants::get_active(app, tenant).await?;
    let contact = Contact::new(draft, app.clock.now());
    let record = Item::new(keys::contact(tenant, &contact.id), &contact)?
        .with_index(keys::contact_by_email(tenant, &contact.email));
    let guard = Item::new(
        keys::contact_email_guard(tenant, &app.pseudonyms.email(&contact.email)),
        &serde_json::json!({ "contact_id": contact.id }),
    )?;
    let result = app
        .store
        .transact(vec![
            TxOp::Put {
                item: guard,
                condition: PutCondition::NotExists,
            },
            TxOp::Put {
                item: record,
                condition: PutCondition::NotExists,
            },
        ])
        .await;
    match result {
        Ok(()) => {
            tracing::info!(tenant = %tenant, contact = %contact.id, "contact created");
            Ok(contact)
        }
        Err(StoreError::ConditionFailed) => Err(ContactError::DuplicateEmail),
        Err(e) => Err(e.into()),
    }
}

/// One contact of the tenant. Another tenant's contact is simply not found:
/// the key starts with the tenant id.
pub async fn get(app: &App, tenant: &TenantId, id: &ContactId) -> Result<Contact, ContactError> {
    let stored = app
        .store
        .get(&keys::contact(tenant, id))
        .await?
        .ok_or(ContactError::NotFound)?;
    Ok(stored.item.parse()?)
}

/// One page of the tenant's contacts, newest first.
pub async fn list(
    app: &App,
    tenant: &TenantId,
    limit: u32,
    cursor: Option<Cursor>,
) -> Result<(Vec<Contact>, Option<Cursor>), ContactError> {
    tenants::get(app, tenant).await?;
    let page = app
        .store
        .query(
            Query::table(keys::contacts(tenant))
                .descending()
                .limit(limit)
                .after(cursor),
        )
        .await?;
    let contacts = page
        .items
        .iter()
        .map(|stored| stored.item.parse())
        .collect::<Result<Vec<Contact>, _>>()?;
    Ok((contacts, page.next))
}
