//! Tenants: the platform registry of institutes.

use crate::App;
use crate::domain::{Tenant, TenantId, TenantName, TenantStatus};
use crate::ports::store::{Item, PutCondition, Query, StoreError, keys};

#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("no tenant with this id")]
    NotFound,
    #[error("the tenant is suspended")]
    Suspended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Registers a new, active tenant.
#[tracing::instrument(skip(app, name))]
pub async fn create(app: &App, name: TenantName) -> Result<Tenant, TenantError> {
    let tenant = Tenant {
        id: TenantId::generate(&name),
        name,
        status: TenantStatus::Active,
        created_at: app.clock.now(),
    };
    let item = Item::new(keys::tenant(&tenant.id), &tenant)?;
    app.store.put(item, PutCondition::NotExists).await?;
    tracing::info!(tenant = %tenant.id, "tenant created");
    Ok(tenant)
}

pub async fn get(app: &App, id: &TenantId) -> Result<Tenant, TenantError> {
    let stored = app
        .store
        .get(&keys::tenant(id))
        .await?
        .ok_or(TenantError::NotFound)?;
    Ok(stored.item.parse()?)
}

/// The tenant, if it exists and may act (is not suspended).
pub async fn get_active(app: &App, id: &TenantId) -> Result<Tenant, TenantError> {
    let tenant = get(app, id).await?;
    match tenant.status {
        TenantStatus::Active => Ok(tenant),
        TenantStatus::Suspended => Err(TenantError::Suspended),
    }
}

/// Every tenant, in id order.
pub async fn list(app: &App) -> Result<Vec<Tenant>, TenantError> {
    let mut tenants = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(Query::table(keys::tenants()).limit(500).after(cursor))
            .await?;
        for stored in &page.items {
            tenants.push(stored.item.parse()?);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(tenants),
        }
    }
}
