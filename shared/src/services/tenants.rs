//! Tenants: the platform registry of institutes.

use crate::App;
use crate::domain::{Tenant, TenantId, TenantName, TenantSettings, TenantStatus};
use crate::ports::store::{Item, PutCondition, Query, StoreError, keys};

/// A change to a tenant; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct TenantChange {
    pub name: Option<TenantName>,
    pub status: Option<TenantStatus>,
    pub settings: Option<TenantSettings>,
}

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
        settings: TenantSettings::default(),
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

/// Renames, suspends or resumes, or reconfigures a tenant, guarded by the
/// version read (a concurrent change makes this one fail, not vanish).
#[tracing::instrument(skip(app, change))]
pub async fn update(app: &App, id: &TenantId, change: TenantChange) -> Result<Tenant, TenantError> {
    let key = keys::tenant(id);
    let stored = app.store.get(&key).await?.ok_or(TenantError::NotFound)?;
    let mut tenant: Tenant = stored.item.parse()?;
    if let Some(name) = change.name {
        tenant.name = name;
    }
    if let Some(status) = change.status {
        tenant.status = status;
    }
    if let Some(settings) = change.settings {
        tenant.settings = settings;
    }
    app.store
        .put(
            Item::new(key, &tenant)?,
            PutCondition::Version(stored.version),
        )
        .await?;
    tracing::info!(tenant = %tenant.id, "tenant updated");
    Ok(tenant)
}
