//! Contacts of a tenant: create, read, list in name order with a search,
//! change, delete. A contact's key is derived from its address, so an
//! address is unique within a tenant by construction: no guard item, and
//! finding a contact by its address is one read.

use crate::App;
use crate::domain::{
    Contact, ContactDraft, ContactId, ContactStatus, EmailAddress, Language, PersonName,
    Salutation, TenantId, fold,
};
use crate::ports::store::{Cursor, Item, PutCondition, Query, StoreError, keys};
use crate::services::attributes::{self, AttributeChanges, AttributeError, ValueProblem};
use crate::services::lists::{self, ListError};
use crate::services::suppressions::{self, SuppressionError, SuppressionReason};
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
    #[error("{0}")]
    StatusChange(&'static str),
    #[error("the contact was changed meanwhile; load it again")]
    Conflict,
    #[error("the address is on the suppression list: only the person's own opt-in brings it back")]
    Suppressed,
    /// An attribute value that does not fit the tenant's definitions.
    #[error(transparent)]
    Attribute(#[from] ValueProblem),
    /// The contact's consent evidence could not be read or deleted.
    #[error(transparent)]
    Evidence(#[from] crate::services::consent::ConsentError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<ListError> for ContactError {
    fn from(e: ListError) -> Self {
        match e {
            ListError::Tenant(t) => Self::Tenant(t),
            ListError::Store(s) => Self::Store(s),
            ListError::InvalidCursor => Self::InvalidCursor,
            ListError::NotFound | ListError::ContactNotFound | ListError::Name(_) => Self::NotFound,
        }
    }
}

impl From<SuppressionError> for ContactError {
    fn from(e: SuppressionError) -> Self {
        match e {
            SuppressionError::Tenant(t) => Self::Tenant(t),
            SuppressionError::Store(s) => Self::Store(s),
            SuppressionError::InvalidCursor => Self::InvalidCursor,
            SuppressionError::NotFound | SuppressionError::NotRemovable => Self::NotFound,
        }
    }
}

impl From<AttributeError> for ContactError {
    fn from(e: AttributeError) -> Self {
        match e {
            AttributeError::Tenant(t) => Self::Tenant(t),
            AttributeError::Store(s) => Self::Store(s),
            AttributeError::Value(problem) => Self::Attribute(problem),
            // Reading definitions fails in no other way.
            other => Self::Store(StoreError::Backend(other.to_string())),
        }
    }
}

impl From<StoreError> for ContactError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => Self::InvalidCursor,
            other => Self::Store(other),
        }
    }
}

/// The id of the contact with this address in the tenant.
pub fn id_for(app: &App, tenant: &TenantId, email: &EmailAddress) -> ContactId {
    app.pseudonyms.contact_id(tenant, email)
}

/// The stored form of a contact: its record, indexed by name.
fn record(tenant: &TenantId, contact: &Contact) -> Result<Item, StoreError> {
    Ok(Item::new(keys::contact(tenant, &contact.id), contact)?
        .with_index(keys::contact_by_name(tenant, &contact.name_sort_key())))
}

/// Creates a contact for an active tenant. Only `unconfirmed` or
/// `subscribed` are starting points: the others are what happens later.
#[tracing::instrument(skip(app, draft), fields(email = %app.pseudonyms.email(&draft.email)))]
pub async fn create(
    app: &App,
    tenant: &TenantId,
    draft: ContactDraft,
) -> Result<Contact, ContactError> {
    tenants::get_active(app, tenant).await?;
    if draft.status.is_final() {
        return Err(ContactError::StatusChange(
            "a new contact starts as unconfirmed or subscribed",
        ));
    }
    if !draft.attributes.is_empty() {
        let definitions = attributes::list(app, tenant).await?;
        attributes::check(&definitions, &draft.attributes)?;
    }
    let id = id_for(app, tenant, &draft.email);
    if suppressions::is_suppressed(app, tenant, &id).await? {
        return Err(ContactError::Suppressed);
    }
    let contact = Contact::new(id, draft, app.clock.now());
    match app
        .store
        .put(record(tenant, &contact)?, PutCondition::NotExists)
        .await
    {
        Ok(_) => {
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

/// The tenant's contact with this address, if there is one.
pub async fn find_by_email(
    app: &App,
    tenant: &TenantId,
    email: &EmailAddress,
) -> Result<Option<Contact>, ContactError> {
    match get(app, tenant, &id_for(app, tenant, email)).await {
        Ok(contact) => Ok(Some(contact)),
        Err(ContactError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// An address (exactly that contact), or the start of a last name
    /// ("müll" finds Müller and Muller).
    pub search: Option<String>,
    /// Z to A instead of A to Z.
    pub descending: bool,
}

/// One page of the tenant's contacts in name order, read from the name
/// index: no scan, however many contacts there are.
pub async fn list(
    app: &App,
    tenant: &TenantId,
    listing: &Listing,
    limit: u32,
    cursor: Option<Cursor>,
) -> Result<(Vec<Contact>, Option<Cursor>), ContactError> {
    tenants::get(app, tenant).await?;
    let search = listing
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(search) = search
        && search.contains('@')
    {
        // An address names at most one contact; a malformed one, none.
        let found = match EmailAddress::parse(search) {
            Ok(email) => find_by_email(app, tenant, &email).await?,
            Err(_) => None,
        };
        return Ok((found.into_iter().collect(), None));
    }
    let prefix = search.map(fold).unwrap_or_default();
    let mut query = Query::index(keys::contacts_by_name(tenant, &prefix))
        .limit(limit)
        .after(cursor);
    if listing.descending {
        query = query.descending();
    }
    let page = app.store.query(query).await?;
    let contacts = page
        .items
        .iter()
        .map(|stored| stored.item.parse())
        .collect::<Result<Vec<Contact>, _>>()?;
    Ok((contacts, page.next))
}

/// A change to a contact; `None` leaves a field as it is. The address is
/// not among them: another address is another contact.
#[derive(Debug, Clone, Default)]
pub struct ContactChange {
    pub salutation: Option<Option<Salutation>>,
    pub first_name: Option<Option<PersonName>>,
    pub last_name: Option<Option<PersonName>>,
    pub language: Option<Language>,
    pub status: Option<ContactStatus>,
    /// Attribute values to set (`Some`) or remove (`None`); the others
    /// stay. Changing any also drops values of deleted definitions.
    pub attributes: AttributeChanges,
}

/// Changes a contact, guarded by the version read (a concurrent change
/// makes this one fail with `Conflict`, not vanish). Staff may end a
/// subscription but never start one again: that takes a new opt-in.
pub async fn update(
    app: &App,
    tenant: &TenantId,
    id: &ContactId,
    change: ContactChange,
) -> Result<Contact, ContactError> {
    // Leaving is honoured whatever the institute's state; other changes
    // need an active tenant.
    let leaving_only = change.status == Some(ContactStatus::Unsubscribed)
        && change.salutation.is_none()
        && change.first_name.is_none()
        && change.last_name.is_none()
        && change.language.is_none()
        && change.attributes.is_empty();
    if leaving_only {
        tenants::get(app, tenant).await?;
    } else {
        tenants::get_active(app, tenant).await?;
    }
    let definitions = if change.attributes.is_empty() {
        Vec::new()
    } else {
        attributes::list(app, tenant).await?
    };
    let key = keys::contact(tenant, id);
    let stored = app.store.get(&key).await?.ok_or(ContactError::NotFound)?;
    let mut contact: Contact = stored.item.parse()?;
    if !change.attributes.is_empty() {
        attributes::apply(&definitions, &mut contact.attributes, change.attributes)?;
    }
    if let Some(status) = change.status
        && status != contact.status
    {
        if status != ContactStatus::Unsubscribed {
            return Err(ContactError::StatusChange(
                "staff may only set the status to unsubscribed; subscribing takes the person's own opt-in",
            ));
        }
        contact.status = status;
    }
    if let Some(salutation) = change.salutation {
        contact.salutation = salutation;
    }
    if let Some(first_name) = change.first_name {
        contact.first_name = first_name;
    }
    if let Some(last_name) = change.last_name {
        contact.last_name = last_name;
    }
    if let Some(language) = change.language {
        contact.language = language;
    }
    contact.updated_at = app.clock.now();
    let unsubscribed = change.status == Some(ContactStatus::Unsubscribed);
    match app
        .store
        .put(
            record(tenant, &contact)?,
            PutCondition::Version(stored.version),
        )
        .await
    {
        Ok(_) => {
            if unsubscribed {
                suppressions::add(
                    app,
                    tenant,
                    &contact.id,
                    Some(&contact.email),
                    SuppressionReason::Unsubscribed,
                    None,
                )
                .await?;
            }
            Ok(contact)
        }
        Err(StoreError::ConditionFailed) => Err(ContactError::Conflict),
        Err(e) => Err(e.into()),
    }
}

/// Erases a contact (GDPR Art. 17): the contact goes, and only its id — a
/// keyed hash of the address — stays on the suppression list, so the
/// address is never mailed again and cannot come back by import or by
/// staff without the person's own new opt-in.
pub async fn erase(app: &App, tenant: &TenantId, id: &ContactId) -> Result<(), ContactError> {
    tenants::get(app, tenant).await?;
    let key = keys::contact(tenant, id);
    if app.store.get(&key).await?.is_none() {
        return Err(ContactError::NotFound);
    }
    // The suppression first: if the deletion fails, the address is still
    // never mailed; trying again finishes the erasure.
    suppressions::add(app, tenant, id, None, SuppressionReason::Erased, None).await?;
    lists::remove_from_all(app, tenant, id).await?;
    crate::services::feedback::delete_of_contact(app, tenant, id).await?;
    crate::services::tracking::delete_of_contact(app, tenant, id).await?;
    crate::services::gdpr::erase_send_records(app, tenant, id).await?;
    crate::services::consent::delete_all(app, tenant, id).await?;
    forget_sign_ups(app, tenant, id).await?;
    app.store.delete(&key).await?;
    tracing::info!(tenant = %tenant, contact = %id, "contact erased");
    Ok(())
}

/// Removes a contact, for entries made by mistake: the address may come
/// back. (A person's request to be forgotten is [`erase`].)
pub async fn delete(app: &App, tenant: &TenantId, id: &ContactId) -> Result<(), ContactError> {
    tenants::get(app, tenant).await?;
    let key = keys::contact(tenant, id);
    if app.store.get(&key).await?.is_none() {
        return Err(ContactError::NotFound);
    }
    lists::remove_from_all(app, tenant, id).await?;
    forget_sign_ups(app, tenant, id).await?;
    app.store.delete(&key).await?;
    tracing::info!(tenant = %tenant, contact = %id, "contact deleted");
    Ok(())
}

/// Forgets the contact's pending double opt-in sign-ups (they hold the
/// address and names given in the form, and their links would bring the
/// contact back) and its scheduled expiries.
async fn forget_sign_ups(app: &App, tenant: &TenantId, id: &ContactId) -> Result<(), ContactError> {
    use crate::services::signup::{self, SignupError};
    signup::forget_contact(app, tenant, id)
        .await
        .map_err(|e| match e {
            SignupError::Store(s) => ContactError::Store(s),
            other => ContactError::Store(StoreError::Backend(format!("pending sign-ups: {other}"))),
        })
}
