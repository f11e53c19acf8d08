//! The audit log (Änderungsprotokoll): an append-only record of every
//! state-changing action — who, which tenant, what, on which object, when,
//! from where, and how it ended, denials and failed sign-ins included.
//! Addresses appear only as keyed hashes.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::domain::{Principal, Role, TenantId, UserId};
use crate::ports::store::{Cursor, Item, PutCondition, Query, StoreError, keys};
use crate::telemetry::Pseudonymizer;

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

impl Actor {
    /// The signed-in user (or API key) acting.
    pub fn of(principal: &Principal) -> Self {
        Self {
            user_id: Some(principal.user_id),
            role: Some(principal.role),
            email_hash: principal.email_hash.clone(),
            api_key_id: principal.api_key_id.clone(),
        }
    }
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
    /// Where the request came from, pseudonymised.
    #[serde(default, deserialize_with = "IpTrace::deserialize_lenient")]
    pub ip: Option<IpTrace>,
    pub outcome: Outcome,
}

/// Where a request came from, pseudonymised like the addresses: its
/// network in clear (IPv4 /24, IPv6 /48), enough to tell the institute's
/// own network from a stranger's, and a keyed hash of the whole address,
/// enough to find the entries of one address known from elsewhere (the
/// log's filter hashes it the same way). The address itself is not kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IpTrace {
    /// e.g. `203.0.113.0/24` or `2001:db8:1::/48`.
    pub network: String,
    pub hash: String,
}

impl IpTrace {
    pub fn of(app: &App, ip: IpAddr) -> Self {
        Self {
            network: Self::network_of(ip),
            hash: ip_hash(&app.pseudonyms, ip),
        }
    }

    /// The network kept in clear: IPv4 /24, IPv6 /48.
    fn network_of(ip: IpAddr) -> String {
        match ip.to_canonical() {
            IpAddr::V4(v4) => {
                let [a, b, c, _] = v4.octets();
                format!("{a}.{b}.{c}.0/24")
            }
            IpAddr::V6(v6) => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
                format!("{net}/48")
            }
        }
    }

    /// Reads a trace, or an address as entries and jobs written before
    /// pseudonymisation carry it: only its network is kept (the key for the
    /// hash is not at hand while reading).
    pub fn deserialize_lenient<'de, D>(deserializer: D) -> Result<Option<Self>, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Trace(IpTrace),
            Address(String),
        }
        Ok(match Option::<Stored>::deserialize(deserializer)? {
            None => None,
            Some(Stored::Trace(trace)) => Some(trace),
            Some(Stored::Address(raw)) => raw.parse::<IpAddr>().ok().map(|ip| Self {
                network: Self::network_of(ip),
                hash: String::new(),
            }),
        })
    }

    /// The trace of `ip`, if known.
    pub fn of_optional(app: &App, ip: Option<IpAddr>) -> Option<Self> {
        ip.map(|ip| Self::of(app, ip))
    }
}

/// The keyed hash of a whole address, as entries and filters carry it.
pub fn ip_hash(pseudonyms: &Pseudonymizer, ip: IpAddr) -> String {
    pseudonyms.hash(&format!("audit-ip:{}", ip.to_canonical()))
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

/// Records that `principal` looked for an address's entries in the log of
/// `scope`: the network is in clear, so a series of such searches could
/// find an address; each one is on record.
pub async fn record_ip_search(
    app: &App,
    scope: Option<&TenantId>,
    principal: &Principal,
    ip_hash: &str,
) {
    let mut entry = AuditEntry::new(app, scope.cloned(), Actor::of(principal), "audit.ip_search");
    entry.object = Some(ip_hash.to_owned());
    record_or_log(app, &entry).await;
}

/// What to show of the log.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only actions starting with this, e.g. `user.`.
    pub action_prefix: Option<String>,
    pub outcome: Option<Outcome>,
    /// Only requests from this address (its keyed hash, see [`ip_hash`]).
    pub ip_hash: Option<String>,
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
            let ip_ok = filter
                .ip_hash
                .as_deref()
                .is_none_or(|h| entry.ip.as_ref().is_some_and(|ip| ip.hash == h));
            if action_ok && outcome_ok && ip_ok {
                entries.push(entry);
            }
        }
        match page.next {
            Some(next) if entries.len() < limit as usize => cursor = Some(next),
            next => return Ok((entries, next)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(ip: &str) -> (String, String) {
        let pseudonyms = Pseudonymizer::new(b"a key of at least thirty-two bytes!!");
        let ip: IpAddr = ip.parse().unwrap();
        (IpTrace::network_of(ip), ip_hash(&pseudonyms, ip))
    }

    #[test]
    fn an_entry_written_with_a_clear_address_reads_as_its_network_only() {
        let legacy = serde_json::json!({
            "id": "0193a0b0-0000-7000-8000-000000000001",
            "at": "2026-11-01T10:00:00Z",
            "tenant": null,
            "actor": {"user_id": null, "role": null, "email_hash": null},
            "action": "auth.sign_in",
            "object": null,
            "ip": "203.0.113.5",
            "outcome": "denied"
        });
        let entry: AuditEntry = serde_json::from_value(legacy).unwrap();
        assert_eq!(
            entry.ip,
            Some(IpTrace {
                network: "203.0.113.0/24".into(),
                hash: String::new()
            })
        );
        let without: AuditEntry = serde_json::from_value(serde_json::json!({
            "id": "0193a0b0-0000-7000-8000-000000000002",
            "at": "2026-11-01T10:00:00Z",
            "tenant": null,
            "actor": {},
            "action": "auth.sign_in",
            "object": null,
            "outcome": "denied"
        }))
        .unwrap();
        assert_eq!(without.ip, None);
    }

    #[test]
    fn an_ipv4_address_keeps_its_slash_24_network() {
        assert_eq!(trace("203.0.113.200").0, "203.0.113.0/24");
    }

    #[test]
    fn an_ipv6_address_keeps_its_slash_48_network() {
        assert_eq!(trace("2001:db8:1:2:3::4").0, "2001:db8:1::/48");
    }

    #[test]
    fn an_ipv4_mapped_ipv6_address_is_the_ipv4_address() {
        assert_eq!(trace("::ffff:203.0.113.200"), trace("203.0.113.200"));
    }

    #[test]
    fn addresses_of_one_network_differ_in_their_hash() {
        let (net_a, hash_a) = trace("203.0.113.1");
        let (net_b, hash_b) = trace("203.0.113.2");
        assert_eq!(net_a, net_b);
        assert_ne!(hash_a, hash_b);
        assert!(!hash_a.contains("203.0.113"));
    }
}
