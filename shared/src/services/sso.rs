//! Single sign-on: a bearer token from the corporate identity provider
//! becomes a principal, and a browser sign-in at the provider (code flow
//! with PKCE) becomes a session. The user is found by the token's verified
//! address (pre-provisioned users), or — for tenant roles only — provisioned
//! on first use from the token's tenant and role claims. Platform roles are
//! never granted by a claim.

use std::net::IpAddr;

use chrono::Duration;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use crate::App;
use crate::auth::oidc::{OidcError, VerifiedToken};
use crate::auth::oidc_client::PendingSignIn;
use crate::domain::{
    Credential, EmailAddress, PersonName, Principal, Role, TenantId, TenantStatus, User,
};
use crate::ports::store::{Item, PutCondition, StoreError, TxOp, keys};
use crate::services::audit::{self, Actor, AuditEntry, Outcome};
use crate::services::sessions::{self, SessionToken, SignInMethod};
use crate::services::tenants;
use crate::services::users::{self, NewUser, UserError};

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("single sign-on is not configured")]
    NotConfigured,
    #[error("the token is not accepted: {0}")]
    Token(#[from] OidcError),
    #[error("the token names no known user and no tenant role")]
    UnknownUser,
    #[error("the account is bound to another subject of the identity provider")]
    SubjectMismatch,
    #[error("the user is disabled or the institute suspended")]
    Inactive,
    #[error("the sign-in did not start in this browser, was used already or has expired")]
    UnknownSignIn,
    #[error("the identity provider ended the sign-in: {0}")]
    ProviderRefused(String),
    #[error("the identity provider's answer carries no code")]
    MissingCode,
    #[error(transparent)]
    User(#[from] UserError),
}

impl SsoError {
    /// Whether the sign-in was refused (as opposed to EMMA or the provider
    /// being unable to decide).
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::NotConfigured => false,
            Self::Token(e) => e.is_refusal(),
            Self::User(UserError::Store(_)) => false,
            _ => true,
        }
    }
}

impl From<StoreError> for SsoError {
    fn from(e: StoreError) -> Self {
        Self::User(UserError::Store(e))
    }
}

/// The principal a bearer token stands for.
pub async fn principal(app: &App, token: &str) -> Result<Principal, SsoError> {
    let verifier = app.oidc.as_ref().ok_or(SsoError::NotConfigured)?;
    let verified = verifier.verify(token).await?;
    let user = match user_for(app, &verified).await {
        Ok(user) => user,
        Err(e) => {
            let mut entry = AuditEntry::new(app, None, Actor::default(), "auth.sso");
            entry.actor.email_hash = verified
                .email
                .as_deref()
                .and_then(|e| EmailAddress::parse(e).ok())
                .map(|e| app.pseudonyms.email(&e));
            entry.outcome = Outcome::Denied;
            audit::record_or_log(app, &entry).await;
            return Err(e);
        }
    };
    ensure_active(app, &user).await?;
    Ok(Principal {
        user_id: user.id,
        role: user.role,
        tenant: user.tenant.clone(),
        email_hash: Some(app.pseudonyms.email(&user.email)),
        credential: Credential::Sso,
        must_change_password: false,
        must_set_up_second_factor: false,
        api_key_id: None,
    })
}

/// Refuses a disabled user, or one of a suspended tenant.
async fn ensure_active(app: &App, user: &User) -> Result<(), SsoError> {
    if !user.is_active() {
        return Err(SsoError::Inactive);
    }
    if let Some(tenant) = &user.tenant {
        let active = tenants::get(app, tenant)
            .await
            .is_ok_and(|t| t.status == TenantStatus::Active);
        if !active {
            return Err(SsoError::Inactive);
        }
    }
    Ok(())
}

/// How long a browser sign-in may take at the identity provider.
pub const BROWSER_SIGN_IN_TTL: Duration = Duration::minutes(10);

/// What EMMA keeps of a browser sign-in in progress, under the hash of its
/// state (the state itself is only in the browser's cookie and the URL).
#[derive(Serialize, Deserialize)]
struct PendingRecord {
    nonce: String,
    code_verifier: String,
}

/// A browser sign-in started: the state for the browser's cookie and
/// where to send the browser.
#[derive(Debug)]
pub struct BrowserStart {
    pub state: String,
    pub redirect: Url,
}

fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// Starts a browser sign-in at the identity provider.
pub async fn begin_browser_sign_in(app: &App) -> Result<BrowserStart, SsoError> {
    let client = app.sso_client.as_ref().ok_or(SsoError::NotConfigured)?;
    let pending = PendingSignIn::generate();
    let record = PendingRecord {
        nonce: pending.nonce.clone(),
        code_verifier: pending.code_verifier.clone(),
    };
    let item = Item::new(keys::sso_sign_in(&state_hash(&pending.state)), &record)?
        .expiring_at(app.clock.now() + BROWSER_SIGN_IN_TTL);
    app.store.put(item, PutCondition::NotExists).await?;
    Ok(BrowserStart {
        redirect: client.authorization_url(&pending),
        state: pending.state,
    })
}

/// The browser's return from the identity provider.
#[derive(Debug, Clone, Copy)]
pub struct BrowserReturn<'a> {
    /// The state the browser's cookie holds.
    pub cookie_state: Option<&'a str>,
    /// The state, code and error the provider put in the URL.
    pub state: &'a str,
    pub code: Option<&'a str>,
    pub error: Option<&'a str>,
    pub ip: Option<IpAddr>,
}

/// Finishes a browser sign-in: the state must be the one this browser
/// started (and is spent either way), the code is redeemed with its
/// verifier, and the ID token must carry the sign-in's nonce. Answers a new
/// session. Every refusal is in the audit log.
pub async fn finish_browser_sign_in(
    app: &App,
    answer: BrowserReturn<'_>,
) -> Result<(SessionToken, User), SsoError> {
    let mut entry = AuditEntry::new(app, None, Actor::default(), "auth.sign_in_sso");
    entry.ip = audit::IpTrace::of_optional(app, answer.ip);
    let result = browser_sign_in(app, answer, &mut entry).await;
    match &result {
        Ok((_, user)) => entry.object = Some(user.id.to_string()),
        Err(e) if e.is_refusal() => {
            tracing::info!(reason = %e, "single sign-on refused");
            entry.outcome = Outcome::Denied;
        }
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on could not be completed");
            entry.outcome = Outcome::Failed;
        }
    }
    audit::record_or_log(app, &entry).await;
    result
}

async fn browser_sign_in(
    app: &App,
    answer: BrowserReturn<'_>,
    entry: &mut AuditEntry,
) -> Result<(SessionToken, User), SsoError> {
    let client = app.sso_client.as_ref().ok_or(SsoError::NotConfigured)?;
    let verifier = app.oidc.as_ref().ok_or(SsoError::NotConfigured)?;
    let same_browser = answer.cookie_state.is_some_and(|cookie| {
        aws_lc_rs::constant_time::verify_slices_are_equal(
            cookie.as_bytes(),
            answer.state.as_bytes(),
        )
        .is_ok()
    });
    if !same_browser || answer.state.is_empty() {
        return Err(SsoError::UnknownSignIn);
    }
    // Spend the sign-in first: a replayed return finds nothing.
    let key = keys::sso_sign_in(&state_hash(answer.state));
    let stored = app.store.get(&key).await?.ok_or(SsoError::UnknownSignIn)?;
    let record: PendingRecord = stored.item.parse()?;
    app.store
        .transact(vec![TxOp::Delete {
            key,
            condition: PutCondition::Version(stored.version),
        }])
        .await
        .map_err(|e| match e {
            StoreError::ConditionFailed => SsoError::UnknownSignIn,
            other => other.into(),
        })?;
    if let Some(error) = answer.error {
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return Err(SsoError::ProviderRefused(error));
    }
    let code = answer
        .code
        .filter(|c| !c.is_empty())
        .ok_or(SsoError::MissingCode)?;
    let pending = PendingSignIn {
        state: answer.state.to_owned(),
        nonce: record.nonce,
        code_verifier: record.code_verifier,
    };
    let id_token = client.redeem(code, &pending).await?;
    let verified = verifier
        .verify_id_token(&id_token, &client.settings().client_id, &pending.nonce)
        .await?;
    entry.actor.email_hash = verified
        .email
        .as_deref()
        .and_then(|e| EmailAddress::parse(e).ok())
        .map(|e| app.pseudonyms.email(&e));
    let user = user_for(app, &verified).await?;
    entry.tenant = user.tenant.clone();
    entry.actor.user_id = Some(user.id);
    entry.actor.role = Some(user.role);
    ensure_active(app, &user).await?;
    let (token, _) = sessions::start_as(app, &user, SignInMethod::Sso).await?;
    Ok((token, user))
}

async fn user_for(app: &App, token: &VerifiedToken) -> Result<User, SsoError> {
    let email = token
        .email
        .as_deref()
        .and_then(|e| EmailAddress::parse(e).ok())
        .ok_or(SsoError::UnknownUser)?;
    if let Some(user) = users::find_by_email(app, &email).await? {
        // The first sign-in binds the account to the token's subject; a
        // token of another subject with the same address is refused.
        return match &user.sso_subject {
            Some(subject) if *subject == token.subject => Ok(user),
            Some(_) => Err(SsoError::SubjectMismatch),
            None => {
                let subject = token.subject.clone();
                let linked = users::update(app, user.tenant.as_ref(), &user.id, |u| {
                    u.sso_subject = Some(subject);
                    Ok(())
                })
                .await?;
                // From now on the identity provider vouches for this
                // account: worth a line of its own in the log.
                let mut entry = AuditEntry::new(
                    app,
                    linked.tenant.clone(),
                    Actor {
                        user_id: Some(linked.id),
                        role: Some(linked.role),
                        email_hash: Some(app.pseudonyms.email(&linked.email)),
                        api_key_id: None,
                    },
                    "user.sso_link",
                );
                entry.object = Some(linked.id.to_string());
                audit::record_or_log(app, &entry).await;
                Ok(linked)
            }
        };
    }
    // First sign-in of someone the identity provider places in a tenant.
    let tenant = token
        .tenant
        .as_deref()
        .and_then(|t| TenantId::parse(t).ok())
        .ok_or(SsoError::UnknownUser)?;
    let role = token
        .role
        .as_deref()
        .and_then(Role::parse)
        .filter(|r| r.is_tenant_role())
        .ok_or(SsoError::UnknownUser)?;
    tenants::get(app, &tenant)
        .await
        .map_err(|_| SsoError::UnknownUser)?;
    let name = token
        .name
        .as_deref()
        .and_then(|n| PersonName::parse(n).ok())
        .unwrap_or_else(|| PersonName::parse(email.as_str()).expect("an address is a fine name"));
    let created = users::create(
        app,
        NewUser {
            tenant: Some(tenant.clone()),
            email,
            name,
            role,
            password_hash: None,
        },
    )
    .await;
    let user = match created {
        Ok(user) => user,
        // Two first requests at once: the other one created it.
        Err(UserError::DuplicateEmail) => {
            let email = token
                .email
                .as_deref()
                .and_then(|e| EmailAddress::parse(e).ok());
            match email {
                Some(email) => users::find_by_email(app, &email)
                    .await?
                    .ok_or(SsoError::UnknownUser)?,
                None => return Err(SsoError::UnknownUser),
            }
        }
        Err(e) => return Err(e.into()),
    };
    let subject = token.subject.clone();
    let user = match &user.sso_subject {
        None => {
            users::update(app, user.tenant.as_ref(), &user.id, |u| {
                u.sso_subject = Some(subject);
                Ok(())
            })
            .await?
        }
        Some(bound) if *bound == token.subject => user,
        Some(_) => return Err(SsoError::SubjectMismatch),
    };
    let mut entry = AuditEntry::new(
        app,
        Some(tenant),
        Actor {
            user_id: Some(user.id),
            role: Some(user.role),
            email_hash: Some(app.pseudonyms.email(&user.email)),
            api_key_id: None,
        },
        "user.provision_sso",
    );
    entry.object = Some(user.id.to_string());
    audit::record_or_log(app, &entry).await;
    Ok(user)
}
