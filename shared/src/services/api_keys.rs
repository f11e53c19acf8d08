//! API keys for integrations: each belongs to one tenant and acts with one
//! tenant role. A key reads `emma_<key id>_<secret>`; it is shown once, at
//! creation, and stored only as the SHA-256 hash of its secret. The key id
//! finds the tenant (through a platform lookup record, since the key names
//! no tenant) and the key's record; revoking marks the record, which stays
//! for the audit trail, and the key is refused from then on.

use std::fmt;
use std::net::IpAddr;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::App;
use crate::domain::{Credential, Principal, Role, TenantId, TenantStatus, UserId};
use crate::ports::store::{Item, PutCondition, Query, StoreError, TxOp, keys};
use crate::services::audit::{self, Actor, AuditEntry, Outcome};
use crate::services::tenants::{self, TenantError};
use crate::services::users::{self, UserError};

/// What every key starts with, so it is told apart from an SSO token.
pub const PREFIX: &str = "emma_";
const KEY_ID_LEN: usize = 12;
/// 32 symbols without look-alikes and without `_`: 60 bits in a key id.
const KEY_ID_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
/// 32 bytes, base64url without padding.
const SECRET_LEN: usize = 43;
/// `last_used_at` is written at most this often, to spare the store.
const TOUCH_EVERY: Duration = Duration::minutes(1);
/// Attempts at a write that a concurrent one may beat.
const ATTEMPTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("this is not an API key")]
    Malformed,
    #[error("no API key with this id and secret")]
    Unknown,
    #[error("the API key has been revoked")]
    Revoked,
    #[error("the API key's institute is suspended")]
    TenantInactive,
    #[error("no API key with this id")]
    NotFound,
    #[error("the role {0} cannot be given to an API key")]
    RoleNotAllowed(&'static str),
    #[error("you may not give the role {0}")]
    RoleNotGrantable(&'static str),
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApiKeyError {
    /// Whether the key was refused (as opposed to the store failing).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::Malformed | Self::Unknown | Self::Revoked | Self::TenantInactive
        )
    }
}

/// The public part of a key: 12 characters of `a-z` and `2-9`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ApiKeyId(String);

impl ApiKeyId {
    fn generate() -> Self {
        let mut bytes = [0u8; KEY_ID_LEN];
        aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
        // 256 is a multiple of 32: every symbol is equally likely.
        Self(
            bytes
                .iter()
                .map(|b| KEY_ID_ALPHABET[usize::from(*b) % KEY_ID_ALPHABET.len()] as char)
                .collect(),
        )
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == KEY_ID_LEN && raw.bytes().all(|b| KEY_ID_ALPHABET.contains(&b));
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ApiKeyId {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or("is not an API key id")
    }
}

impl From<ApiKeyId> for String {
    fn from(value: ApiKeyId) -> Self {
        value.0
    }
}

/// A key's label, e.g. "CRM-Anbindung": 1 to 100 characters, no control
/// characters; surrounding blanks are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ApiKeyName(String);

impl ApiKeyName {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let name = crate::domain::short_text(raw)?;
        if name.is_empty() {
            return Err("must not be empty");
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ApiKeyName {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ApiKeyName> for String {
    fn from(value: ApiKeyName) -> Self {
        value.0
    }
}

/// An API key as stored: never the secret, only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub tenant: TenantId,
    pub name: ApiKeyName,
    pub role: Role,
    /// SHA-256 of the secret, hex.
    secret_hash: String,
    /// The user who created the key and answers for what it does.
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    fn secret_matches(&self, secret: &str) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(
            self.secret_hash.as_bytes(),
            hash_secret(secret).as_bytes(),
        )
        .is_ok()
    }
}

/// The whole key, as handed to the integration once.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyToken(String);

impl fmt::Debug for ApiKeyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeyToken(..)")
    }
}

impl ApiKeyToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Where the key id leads: the tenant whose partition holds the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Lookup {
    tenant: TenantId,
}

fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether a bearer token is meant as an API key (and not as an SSO token).
pub fn is_api_key(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// The key id and the secret of a token, if it has the shape of a key. The
/// key id holds no `_`, so the first `_` after it ends it even though a
/// base64url secret may contain `_`.
fn split_token(token: &str) -> Option<(ApiKeyId, &str)> {
    let (id, secret) = token.strip_prefix(PREFIX)?.split_once('_')?;
    let id = ApiKeyId::parse(id)?;
    let ok = secret.len() == SECRET_LEN
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some((id, secret))
}

/// Creates a key of `tenant` with `role` for `creator`, who must be allowed
/// to grant that role. Returns the record and the whole key, which is
/// never available again.
#[tracing::instrument(skip(app, creator, name), fields(creator = %creator.user_id))]
pub async fn create(
    app: &App,
    creator: &Principal,
    tenant: &TenantId,
    name: ApiKeyName,
    role: Role,
) -> Result<(ApiKey, ApiKeyToken), ApiKeyError> {
    if !role.is_tenant_role() {
        return Err(ApiKeyError::RoleNotAllowed(role.as_str()));
    }
    if !creator.role.may_grant(role) {
        return Err(ApiKeyError::RoleNotGrantable(role.as_str()));
    }
    tenants::get(app, tenant).await?;
    let mut last = StoreError::ConditionFailed;
    for _ in 0..ATTEMPTS {
        let secret = generate_secret();
        let key = ApiKey {
            id: ApiKeyId::generate(),
            tenant: tenant.clone(),
            name: name.clone(),
            role,
            secret_hash: hash_secret(&secret),
            created_by: creator.user_id,
            created_at: app.clock.now(),
            last_used_at: None,
            revoked_at: None,
        };
        let lookup = Lookup {
            tenant: tenant.clone(),
        };
        let result = app
            .store
            .transact(vec![
                TxOp::Put {
                    item: Item::new(keys::api_key_lookup(key.id.as_str()), &lookup)?,
                    condition: PutCondition::NotExists,
                },
                TxOp::Put {
                    item: Item::new(keys::api_key(tenant, key.id.as_str()), &key)?,
                    condition: PutCondition::NotExists,
                },
            ])
            .await;
        match result {
            Ok(()) => {
                let token = ApiKeyToken(format!("{PREFIX}{}_{secret}", key.id));
                return Ok((key, token));
            }
            // The key id is taken (60 random bits: hardly ever); draw again.
            Err(e @ StoreError::ConditionFailed) => last = e,
            Err(e) => return Err(e.into()),
        }
    }
    Err(last.into())
}

/// The tenant's keys, revoked ones included, oldest first. Secrets are not
/// stored, so they cannot be listed.
pub async fn list(app: &App, tenant: &TenantId) -> Result<Vec<ApiKey>, ApiKeyError> {
    tenants::get(app, tenant).await?;
    let mut found: Vec<ApiKey> = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(
                Query::table(keys::api_keys(tenant))
                    .limit(500)
                    .after(cursor),
            )
            .await?;
        for stored in &page.items {
            found.push(stored.item.parse()?);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    found.sort_by(|a, b| (a.created_at, a.id.as_str()).cmp(&(b.created_at, b.id.as_str())));
    Ok(found)
}

/// Revokes the key: it is refused from the next request on. The record
/// stays, marked, for the audit trail; revoking twice keeps the first time.
#[tracing::instrument(skip(app))]
pub async fn revoke(app: &App, tenant: &TenantId, id: &ApiKeyId) -> Result<ApiKey, ApiKeyError> {
    let key = keys::api_key(tenant, id.as_str());
    for _ in 0..ATTEMPTS {
        let stored = app.store.get(&key).await?.ok_or(ApiKeyError::NotFound)?;
        let mut record: ApiKey = stored.item.parse()?;
        if record.is_revoked() {
            return Ok(record);
        }
        record.revoked_at = Some(app.clock.now());
        let item = Item::new(key.clone(), &record)?;
        // A concurrent `last_used_at` touch must not undo the revocation:
        // on a version conflict, read again and retry.
        match app
            .store
            .put(item, PutCondition::Version(stored.version))
            .await
        {
            Ok(_) => return Ok(record),
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::ConditionFailed.into())
}

/// The principal an API key stands for: the key's tenant and role, its
/// creator as the user who answers for it, and the key's id. A malformed,
/// unknown, revoked key or one of a suspended tenant is refused and the
/// refusal audited in the platform log (with the key id, never the secret).
pub async fn principal(
    app: &App,
    token: &str,
    ip: Option<IpAddr>,
) -> Result<Principal, ApiKeyError> {
    let key_id = split_token(token).map(|(id, _)| id);
    let result = authenticate(app, token).await;
    if let Err(e) = &result
        && e.is_refusal()
    {
        let actor = Actor {
            api_key_id: key_id.map(String::from),
            ..Actor::default()
        };
        let mut entry = AuditEntry::new(app, None, actor, "auth.api_key");
        entry.ip = crate::services::audit::IpTrace::of_optional(app, ip);
        entry.outcome = Outcome::Denied;
        audit::record_or_log(app, &entry).await;
    }
    let key = result?;
    Ok(Principal {
        user_id: key.created_by,
        role: key.role,
        tenant: Some(key.tenant),
        email_hash: None,
        credential: Credential::ApiKey,
        must_change_password: false,
        must_set_up_second_factor: false,
        api_key_id: Some(key.id.into()),
    })
}

async fn authenticate(app: &App, token: &str) -> Result<ApiKey, ApiKeyError> {
    let (id, secret) = split_token(token).ok_or(ApiKeyError::Malformed)?;
    let Some(lookup) = app.store.get(&keys::api_key_lookup(id.as_str())).await? else {
        return Err(ApiKeyError::Unknown);
    };
    let lookup: Lookup = lookup.item.parse()?;
    let record_key = keys::api_key(&lookup.tenant, id.as_str());
    let Some(stored) = app.store.get(&record_key).await? else {
        return Err(ApiKeyError::Unknown);
    };
    let mut key: ApiKey = stored.item.parse()?;
    if !key.secret_matches(secret) || key.tenant != lookup.tenant || !key.role.is_tenant_role() {
        return Err(ApiKeyError::Unknown);
    }
    if key.is_revoked() {
        return Err(ApiKeyError::Revoked);
    }
    match tenants::get(app, &key.tenant).await {
        Ok(tenant) if tenant.status == TenantStatus::Active => {}
        Ok(_) | Err(TenantError::Suspended) => return Err(ApiKeyError::TenantInactive),
        Err(TenantError::NotFound) => return Err(ApiKeyError::Unknown),
        Err(TenantError::Store(e)) => return Err(e.into()),
    }
    // A key answers to the admin who made it: it dies with their account or
    // their right to grant its role.
    match users::get(app, Some(&key.tenant), &key.created_by).await {
        Ok(creator) if creator.is_active() && creator.role.may_grant(key.role) => {}
        Ok(_) | Err(UserError::NotFound) => return Err(ApiKeyError::Revoked),
        Err(UserError::Store(e)) => return Err(e.into()),
        Err(_) => return Err(ApiKeyError::Revoked),
    }
    let now = app.clock.now();
    if key
        .last_used_at
        .is_none_or(|last| now - last >= TOUCH_EVERY)
    {
        key.last_used_at = Some(now);
        // A concurrent touch wins just as well, and a concurrent revocation
        // must win: never overwrite a newer version.
        match app
            .store
            .put(
                Item::new(record_key, &key)?,
                PutCondition::Version(stored.version),
            )
            .await
        {
            Ok(_) | Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_splits_into_its_key_id_and_a_secret_that_may_hold_underscores() {
        let id = ApiKeyId::generate();
        let secret = format!("{}_{}", "a".repeat(20), "b".repeat(22));
        let token = format!("{PREFIX}{id}_{secret}");
        let (parsed, rest) = split_token(&token).expect("a key");
        assert_eq!(parsed, id);
        assert_eq!(rest, secret);
    }

    #[test]
    fn tokens_of_another_shape_are_not_keys() {
        let id = ApiKeyId::generate();
        let secret = generate_secret();
        assert!(split_token(&format!("{PREFIX}{id}_{secret}")).is_some());
        for bad in [
            format!("{id}_{secret}"),
            format!("{PREFIX}{id}{secret}"),
            format!("{PREFIX}{id}_{}", &secret[1..]),
            format!("{PREFIX}{id}_{secret}x"),
            format!("{PREFIX}ABCDEFGHIJKL_{secret}"),
            format!("{PREFIX}{id}_{}!", &secret[1..]),
            "emma_".to_owned(),
        ] {
            assert!(split_token(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn only_the_hash_of_the_secret_matches() {
        let secret = generate_secret();
        let key = ApiKey {
            id: ApiKeyId::generate(),
            tenant: TenantId::parse("sparkasse-a").unwrap(),
            name: ApiKeyName::parse("CRM").unwrap(),
            role: Role::Editor,
            secret_hash: hash_secret(&secret),
            created_by: UserId::generate(),
            created_at: DateTime::from_timestamp(0, 0).unwrap(),
            last_used_at: None,
            revoked_at: None,
        };
        assert!(key.secret_matches(&secret));
        assert!(!key.secret_matches(&generate_secret()));
        assert_ne!(key.secret_hash, secret);
        assert!(!serde_json::to_string(&key).unwrap().contains(&secret));
    }

    #[test]
    fn a_name_is_one_to_a_hundred_characters_without_control_characters() {
        assert_eq!(ApiKeyName::parse("  CRM  ").unwrap().as_str(), "CRM");
        assert!(ApiKeyName::parse(&"ü".repeat(100)).is_ok());
        assert!(ApiKeyName::parse(&"ü".repeat(101)).is_err());
        assert!(ApiKeyName::parse("   ").is_err());
        assert!(ApiKeyName::parse("CRM\u{7}").is_err());
        assert!(ApiKeyName::parse("CR\nM").is_err());
    }
}
