//! The audit log (Änderungsprotokoll): an append-only record of every
//! state-changing action — who, which tenant, what, on which object, when,
//! from where, and how it ended, denials and failed sign-ins included.
//! Addresses appear only as keyed hashes.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::domain::{Role, TenantId, UserId};
use crate::ports::store::{Cursor, Item, PutCondition, Query, StoreError, keys};

/// How long entries are kept when the tenant has not chosen otherwise.
pub const DEFAULT_RETENTION_DAYS: i64 = 365;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// Refused by a permission check or by sign-in.
    Denied,
    /// Allowed, but it did not work (bad input, a failing dependency).
    Failed,
}

/// Who acted: a user, an integration's API key (with the user who created
/// it as `user_id`), or nobody known (a failed sign-in).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Actor {
    #[schema(value_type = Option<String>)]
    pub user_id: Option<UserId>,
    pub role: Option<Role>,
    /// The keyed hash of the actor's address (or of the address tried).
    pub email_hash: Option<String>,
    /// The id of the API key that acted (or was tried), never its secret.
    #[serde(default)]
    pub api_key_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    #[schema(value_type = String)]
    pub id: uuid::Uuid,
    pub at: DateTime<Utc>,
    #[schema(value_type = Option<String>)]
    pub tenant: Option<TenantId>,
    pub actor: Actor,
    /// e.g. `contact.create`, `user.role_change`, `auth.sign_in`.
    pub action: String,
    /// The object acted on, e.g. a contact or user id.
    pub object: Option<String>,
    pub ip: Option<String>,
    pub outcome: Outcome,
}

impl AuditEntry {
    pub fn new(app: &App, tenant: Option<TenantId>, actor: Actor, action: &str) -> Self {
        Self {
            id: uuid::Uuid::now_v7(),
            at: app.clock.now(),
            tenant,
            actor,
            action: action.to_owned(),
            object: None,
            ip: None,
            outcome: Outcome::Success,
        }
    }
}

/// How long the platform's own entries are kept.
pub const PLATFORM_RETENTION_DAYS: i64 = 730;

/// Appends the entry; an entry is never overwritten. It expires after the
/// tenant's audit retention period (the platform's for platform entries).
pub async fn record(app: &App, entry: &AuditEntry) -> Result<(), StoreError> {
    let days = match &entry.tenant {
        Some(tenant) => match crate::services::tenants::get(app, tenant).await {
            Ok(t) => i64::from(t.settings.audit_retention_days),
            Err(crate::services::tenants::TenantError::Store(e)) => return Err(e),
            Err(_) => DEFAULT_RETENTION_DAYS,
        },
        None => PLATFORM_RETENTION_DAYS,
    };
    let key = keys::audit_entry(entry.tenant.as_ref(), &entry.at, &entry.id);
    let item = Item::new(key, entry)?.expiring_at(entry.at + Duration::days(days));
    app.store.put(item, PutCondition::NotExists).await?;
    Ok(())
}

/// Records the entry, logging rather than failing when the store refuses:
/// the action itself has already happened.
pub async fn record_or_log(app: &App, entry: &AuditEntry) {
    if let Err(e) = record(app, entry).await {
        tracing::error!(action = %entry.action, error = %e, "audit entry not written");
    }
}

/// What to show of the log.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only actions starting with this, e.g. `user.`.
    pub action_prefix: Option<String>,
    pub outcome: Option<Outcome>,
}

/// One page of the tenant's (or the platform's) log, newest first.
pub async fn list(
    app: &App,
    scope: Option<&TenantId>,
    filter: &Filter,
    limit: u32,
    cursor: Option<Cursor>,
) -> Result<(Vec<AuditEntry>, Option<Cursor>), StoreError> {
    let mut entries = Vec::new();
    let mut cursor = cursor;
    // Filtering happens after the read: keep reading until the page is full.
    loop {
        let page = app
            .store
            .query(
                Query::table(keys::audit_log(scope))
                    .descending()
                    .limit(limit - entries.len() as u32)
                    .after(cursor),
            )
            .await?;
        for stored in &page.items {
            let entry: AuditEntry = stored.item.parse()?;
            let action_ok = filter
                .action_prefix
                .as_deref()
                .is_none_or(|p| entry.action.starts_with(p));
            let outcome_ok = filter.outcome.is_none_or(|o| entry.outcome == o);
            if action_ok && outcome_ok {
                entries.push(entry);
            }
        }
        match page.next {
            Some(next) if entries.len() < limit as usize => cursor = Some(next),
            next => return Ok((entries, next)),
        }
    }
}
