//! Lists (Verteiler) of a tenant: named, static sets of contacts. A
//! membership is an item of its own under the list, so a list of a million
//! members is read page by page; the list keeps a live member count as a
//! counter, changed with each membership that is really added or removed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::domain::{Contact, ContactId, ListId, TenantId, short_text};
use crate::ports::store::{
    Cursor, Item, MAX_BATCH_GET, PutCondition, Query, StoreError, TxOp, keys,
};
use crate::services::tenants::{self, TenantError};

/// The counter that holds a list's member count.
const MEMBERS: &str = "members";

#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error("no list with this id")]
    NotFound,
    #[error("no contact with this id")]
    ContactNotFound,
    #[error("name: {0}")]
    Name(&'static str),
    #[error("the cursor is not valid for this list")]
    InvalidCursor,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ListError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => Self::InvalidCursor,
            other => Self::Store(other),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct List {
    pub id: ListId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The live member count (from the list's counter).
    #[serde(skip)]
    pub members: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Membership {
    contact: ContactId,
    added_at: DateTime<Utc>,
}

fn list_name(raw: &str) -> Result<String, ListError> {
    let name = short_text(raw).map_err(ListError::Name)?;
    if name.is_empty() {
        return Err(ListError::Name("is empty"));
    }
    Ok(name)
}

fn read(stored: &crate::ports::store::Stored) -> Result<List, StoreError> {
    let mut list: List = stored.item.parse()?;
    list.members = stored.item.counters.get(MEMBERS).copied().unwrap_or(0);
    Ok(list)
}

/// Creates a list.
pub async fn create(app: &App, tenant: &TenantId, name: &str) -> Result<List, ListError> {
    tenants::get_active(app, tenant).await?;
    let now = app.clock.now();
    let list = List {
        id: ListId::generate(),
        name: list_name(name)?,
        created_at: now,
        updated_at: now,
        members: 0,
    };
    let item = Item::new(keys::list(tenant, &list.id), &list)?.with_counter(MEMBERS, 0);
    app.store.put(item, PutCondition::NotExists).await?;
    Ok(list)
}

/// One list, with its member count.
pub async fn get(app: &App, tenant: &TenantId, id: &ListId) -> Result<List, ListError> {
    tenants::get(app, tenant).await?;
    let stored = app
        .store
        .get(&keys::list(tenant, id))
        .await?
        .ok_or(ListError::NotFound)?;
    Ok(read(&stored)?)
}

/// Every list of the tenant, oldest first.
pub async fn all(app: &App, tenant: &TenantId) -> Result<Vec<List>, ListError> {
    tenants::get(app, tenant).await?;
    let mut lists = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(Query::table(keys::lists(tenant)).limit(500).after(cursor))
            .await?;
        for stored in &page.items {
            lists.push(read(stored)?);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(lists),
        }
    }
}

/// Renames a list (its counter stays as it is).
pub async fn rename(
    app: &App,
    tenant: &TenantId,
    id: &ListId,
    name: &str,
) -> Result<List, ListError> {
    tenants::get_active(app, tenant).await?;
    let name = list_name(name)?;
    let key = keys::list(tenant, id);
    let stored = app.store.get(&key).await?.ok_or(ListError::NotFound)?;
    let mut list = read(&stored)?;
    list.name = name;
    list.updated_at = app.clock.now();
    let mut item = Item::new(key, &list)?;
    item.counters = stored.item.counters.clone();
    app.store
        .put(item, PutCondition::Version(stored.version))
        .await
        .map_err(|e| match e {
            // A membership changed the count meanwhile: try again.
            StoreError::ConditionFailed => ListError::Store(StoreError::Throttled),
            other => other.into(),
        })?;
    Ok(list)
}

/// Deletes a list and its memberships (the contacts stay).
pub async fn delete(app: &App, tenant: &TenantId, id: &ListId) -> Result<(), ListError> {
    tenants::get(app, tenant).await?;
    let key = keys::list(tenant, id);
    if app.store.get(&key).await?.is_none() {
        return Err(ListError::NotFound);
    }
    loop {
        let page = app
            .store
            .query(Query::table(keys::list_members(tenant, id)).limit(500))
            .await?;
        for stored in &page.items {
            app.store.delete(&stored.item.key).await?;
        }
        if page.next.is_none() {
            break;
        }
    }
    app.store.delete(&key).await?;
    Ok(())
}

/// Adds a contact of the tenant to the list; adding it twice changes
/// nothing. List and contact are checked in the same transaction that
/// writes the membership, so neither can vanish in between.
pub async fn add_member(
    app: &App,
    tenant: &TenantId,
    id: &ListId,
    contact: &ContactId,
) -> Result<(), ListError> {
    tenants::get_active(app, tenant).await?;
    let list_key = keys::list(tenant, id);
    let contact_key = keys::contact(tenant, contact);
    let member_key = keys::list_member(tenant, id, contact);
    for _ in 0..3 {
        let list = app.store.get(&list_key).await?.ok_or(ListError::NotFound)?;
        let person = app
            .store
            .get(&contact_key)
            .await?
            .ok_or(ListError::ContactNotFound)?;
        let membership = Item::new(
            member_key.clone(),
            &Membership {
                contact: contact.clone(),
                added_at: app.clock.now(),
            },
        )?;
        let added = app
            .store
            .transact(vec![
                TxOp::Check {
                    key: list_key.clone(),
                    condition: PutCondition::Version(list.version),
                },
                TxOp::Check {
                    key: contact_key.clone(),
                    condition: PutCondition::Version(person.version),
                },
                TxOp::Put {
                    item: membership,
                    condition: PutCondition::NotExists,
                },
            ])
            .await;
        match added {
            Ok(()) => {
                app.store.add(&list_key, &[(MEMBERS, 1)]).await?;
                return Ok(());
            }
            Err(StoreError::ConditionFailed) => {
                if app.store.get(&member_key).await?.is_some() {
                    return Ok(()); // a member already
                }
                // List or contact changed meanwhile: read them again.
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ListError::Store(StoreError::Throttled))
}

/// The membership item of a contact in a list, for writers that add
/// members in bulk (an import); they count what they added with
/// [`count_added`].
pub fn membership(
    tenant: &TenantId,
    list: &ListId,
    contact: &ContactId,
    now: DateTime<Utc>,
) -> Result<Item, StoreError> {
    Item::new(
        keys::list_member(tenant, list, contact),
        &Membership {
            contact: contact.clone(),
            added_at: now,
        },
    )
}

/// Adds `added` memberships written in bulk to the list's count.
pub async fn count_added(
    app: &App,
    tenant: &TenantId,
    list: &ListId,
    added: i64,
) -> Result<(), StoreError> {
    if added != 0 {
        app.store
            .add(&keys::list(tenant, list), &[(MEMBERS, added)])
            .await?;
    }
    Ok(())
}

/// Removes a contact from the list; removing a non-member changes nothing.
pub async fn remove_member(
    app: &App,
    tenant: &TenantId,
    id: &ListId,
    contact: &ContactId,
) -> Result<(), ListError> {
    tenants::get(app, tenant).await?;
    let list_key = keys::list(tenant, id);
    if app.store.get(&list_key).await?.is_none() {
        return Err(ListError::NotFound);
    }
    let member_key = keys::list_member(tenant, id, contact);
    let Some(stored) = app.store.get(&member_key).await? else {
        return Ok(());
    };
    let removed = app
        .store
        .transact(vec![TxOp::Delete {
            key: member_key,
            condition: PutCondition::Version(stored.version),
        }])
        .await;
    match removed {
        Ok(()) => {
            app.store.add(&list_key, &[(MEMBERS, -1)]).await?;
            Ok(())
        }
        Err(StoreError::ConditionFailed) => Ok(()), // removed meanwhile
        Err(e) => Err(e.into()),
    }
}

/// One page of the list's members (contacts that were deleted since are
/// left out).
pub async fn members(
    app: &App,
    tenant: &TenantId,
    id: &ListId,
    limit: u32,
    cursor: Option<Cursor>,
) -> Result<(Vec<Contact>, Option<Cursor>), ListError> {
    get(app, tenant, id).await?;
    let page = app
        .store
        .query(
            Query::table(keys::list_members(tenant, id))
                .limit(limit.min(MAX_BATCH_GET as u32))
                .after(cursor),
        )
        .await?;
    let contact_keys = page
        .items
        .iter()
        .map(|s| {
            s.item
                .parse::<Membership>()
                .map(|m| keys::contact(tenant, &m.contact))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let found = app.store.get_many(&contact_keys).await?;
    let contacts = found
        .into_iter()
        .flatten()
        .map(|s| s.item.parse())
        .collect::<Result<Vec<Contact>, _>>()?;
    Ok((contacts, page.next))
}

/// Removes a contact from every list of the tenant (when it is deleted or
/// erased). Tenants keep dozens of lists, not thousands: one read each.
pub async fn remove_from_all(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
) -> Result<(), ListError> {
    for list in all(app, tenant).await? {
        remove_member(app, tenant, &list.id, contact).await?;
    }
    Ok(())
}
