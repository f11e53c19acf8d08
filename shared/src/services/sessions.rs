//! Browser sessions: a random token in a cookie, and on the server a record
//! under the token's hash with the user, an idle timeout and an absolute
//! one. Signing out deletes the record, so a copied cookie dies with it.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::App;
use crate::domain::{Tenant, TenantId, TenantStatus, User, UserId};
use crate::ports::store::{Item, PutCondition, StoreError, keys};
use crate::services::tenants::{self, TenantError};
use crate::services::users::{self, UserError};

/// A session ends after this long without a request.
pub const IDLE_TIMEOUT: Duration = Duration::minutes(30);
/// A session ends this long after sign-in, however busy.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::hours(12);
/// `last_seen` is written at most this often, to spare the store.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// The secret in the cookie: 32 random bytes, base64url.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

impl SessionToken {
    fn generate() -> Self {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A token as the cookie carries it.
    pub fn from_cookie(raw: &str) -> Option<Self> {
        let ok = raw.len() == 43
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the store keeps instead of the token.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: UserId,
    pub tenant: Option<TenantId>,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The user's session epoch when it started (see `User::session_epoch`).
    #[serde(default)]
    pub epoch: u32,
    /// How the user proved who they are.
    #[serde(default)]
    pub method: SignInMethod,
}

/// How a session's user signed in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    /// EMMA's password (and second factor, where set up).
    #[default]
    Password,
    /// The identity provider, whose own policy (e.g. its second factor)
    /// applies instead of EMMA's password rules.
    Sso,
}

impl Session {
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.created_at + ABSOLUTE_TIMEOUT
    }
}

/// Starts a session for a user who has just signed in with their password.
pub async fn start(app: &App, user: &User) -> Result<(SessionToken, Session), StoreError> {
    start_as(app, user, SignInMethod::Password).await
}

/// Starts a session for a user who has just signed in by `method`.
pub async fn start_as(
    app: &App,
    user: &User,
    method: SignInMethod,
) -> Result<(SessionToken, Session), StoreError> {
    let now = app.clock.now();
    let token = SessionToken::generate();
    let session = Session {
        user_id: user.id,
        tenant: user.tenant.clone(),
        created_at: now,
        last_seen: now,
        epoch: user.session_epoch,
        method,
    };
    let item = Item::new(keys::session(&token.hash()), &session)?.expiring_at(session.expires_at());
    app.store.put(item, PutCondition::NotExists).await?;
    Ok((token, session))
}

/// The session and its user, if the token names a live session of an
/// active user. Refreshes the idle timer.
pub async fn resolve(
    app: &App,
    token: &SessionToken,
) -> Result<Option<(Session, User, Option<Tenant>)>, UserError> {
    let key = keys::session(&token.hash());
    let Some(stored) = app.store.get(&key).await? else {
        return Ok(None);
    };
    let mut session: Session = stored.item.parse()?;
    let now = app.clock.now();
    if now - session.last_seen > IDLE_TIMEOUT {
        app.store.delete(&key).await?;
        return Ok(None);
    }
    let user = match users::get(app, session.tenant.as_ref(), &session.user_id).await {
        Ok(user) if user.is_active() && user.session_epoch == session.epoch => user,
        Ok(_) | Err(UserError::NotFound) => {
            app.store.delete(&key).await?;
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    // A suspended tenant's users are out at their next request.
    let tenant = match &session.tenant {
        Some(tenant) => match tenants::get(app, tenant).await {
            Ok(t) if t.status == TenantStatus::Active => Some(t),
            Ok(_) | Err(TenantError::NotFound) | Err(TenantError::Suspended) => return Ok(None),
            Err(TenantError::Store(e)) => return Err(e.into()),
        },
        None => None,
    };
    if now - session.last_seen > TOUCH_EVERY {
        session.last_seen = now;
        let item = Item::new(key, &session)?.expiring_at(session.expires_at());
        // A concurrent touch wins just as well.
        match app
            .store
            .put(item, PutCondition::Version(stored.version))
            .await
        {
            Ok(_) | Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some((session, user, tenant)))
}

/// Moves the session onto the user's current epoch: the session that
/// changed the password stays, all others end.
pub async fn keep_after_password_change(
    app: &App,
    token: &SessionToken,
    epoch: u32,
) -> Result<(), StoreError> {
    let key = keys::session(&token.hash());
    let Some(stored) = app.store.get(&key).await? else {
        return Ok(());
    };
    let mut session: Session = stored.item.parse()?;
    session.epoch = epoch;
    let item = Item::new(key, &session)?.expiring_at(session.expires_at());
    app.store
        .put(item, PutCondition::Version(stored.version))
        .await?;
    Ok(())
}

/// Ends the session now.
pub async fn end(app: &App, token: &SessionToken) -> Result<(), StoreError> {
    app.store.delete(&keys::session(&token.hash())).await
}

/// The CSRF token that goes with a session: derived from it with a key, so
/// a page of another origin can neither read nor compute it.
pub fn csrf_token(app: &App, token: &SessionToken) -> String {
    app.pseudonyms.hash(&format!("csrf:{}", token.hash()))
}

/// Compares a presented CSRF token in constant time.
pub fn csrf_matches(app: &App, token: &SessionToken, presented: &str) -> bool {
    let expected = csrf_token(app, token);
    aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), presented.as_bytes())
        .is_ok()
}
