//! Password sign-in: the address and password (and a TOTP code when the
//! user has a second factor), slowed down after repeated failures per
//! account and per IP address — never locked out for good — and every
//! attempt written to the audit log without the address in clear.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::auth::password;
use crate::auth::throttle::ThrottlePolicy;
use crate::auth::totp::TotpSecret;
use crate::domain::{EmailAddress, SecondFactor, TenantStatus, User};
use crate::ports::store::{Item, PutCondition, StoreError, keys};
use crate::services::audit::{self, Actor, AuditEntry, Outcome};
use crate::services::sessions::{self, Session, SessionToken};
use crate::services::tenants::{self, TenantError};
use crate::services::users::{self, UserError};

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Deliberately vague: it does not tell which part was wrong.
    #[error("the e-mail address or the password is not right")]
    InvalidCredentials,
    #[error("too many failed attempts; try again in {} seconds", retry_after.num_seconds().max(1))]
    Throttled { retry_after: chrono::TimeDelta },
    #[error("enter the code from your authenticator app")]
    SecondFactorRequired,
    #[error("the code is not right")]
    InvalidSecondFactor,
    #[error("the institute's access is suspended")]
    TenantSuspended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UserError> for SignInError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Store(s) => Self::Store(s),
            _ => Self::InvalidCredentials,
        }
    }
}

pub struct Attempt<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub totp_code: Option<&'a str>,
    pub ip: Option<IpAddr>,
}

pub struct SignedIn {
    pub token: SessionToken,
    pub session: Session,
    pub user: User,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Failures {
    count: u32,
    last: Option<DateTime<Utc>>,
}

/// Signs a user in and starts a session.
pub async fn sign_in(app: &App, attempt: Attempt<'_>) -> Result<SignedIn, SignInError> {
    let policy = ThrottlePolicy::default();
    let email = EmailAddress::parse(attempt.email).ok();
    let email_hash = app.pseudonyms.hash(&attempt.email.trim().to_lowercase());
    let ip_hash = attempt
        .ip
        .map(|ip| app.pseudonyms.hash(&format!("ip:{ip}")));
    let mut entry = AuditEntry::new(
        app,
        None,
        Actor {
            email_hash: Some(email_hash.clone()),
            ..Actor::default()
        },
        "auth.sign_in",
    );
    entry.ip = attempt.ip.map(|ip| ip.to_string());

    let counters: Vec<(&str, &str)> = std::iter::once(("account", email_hash.as_str()))
        .chain(ip_hash.as_deref().map(|h| ("ip", h)))
        .collect();
    let now = app.clock.now();
    for (kind, hash) in &counters {
        let failures = read_failures(app, kind, hash).await?;
        let decision = policy.decide(failures.count, failures.last, now);
        if let Some(retry_after) = decision.retry_after(now) {
            entry.outcome = Outcome::Denied;
            audit::record_or_log(app, &entry).await;
            return Err(SignInError::Throttled { retry_after });
        }
    }

    let result = check(app, email.as_ref(), &attempt).await;
    match &result {
        Ok(user) => {
            // A success forgives the account's failures (not the address's).
            app.store
                .delete(&keys::sign_in_failures("account", &email_hash))
                .await?;
            entry.tenant = user.tenant.clone();
            entry.actor.user_id = Some(user.id);
            entry.actor.role = Some(user.role);
        }
        Err(SignInError::SecondFactorRequired) => {
            // Not a failure: the password was right, the code comes next.
            return Err(SignInError::SecondFactorRequired);
        }
        Err(SignInError::Store(_)) => {}
        Err(_) => {
            for (kind, hash) in &counters {
                count_failure(app, kind, hash, &policy).await?;
            }
            entry.outcome = Outcome::Denied;
        }
    }
    if result.is_err() {
        audit::record_or_log(app, &entry).await;
    }
    let user = result?;
    let (token, session) = sessions::start(app, &user).await?;
    audit::record_or_log(app, &entry).await;
    Ok(SignedIn {
        token,
        session,
        user,
    })
}

/// The user, if the credentials hold; costs the same for unknown accounts.
async fn check(
    app: &App,
    email: Option<&EmailAddress>,
    attempt: &Attempt<'_>,
) -> Result<User, SignInError> {
    let user = match email {
        Some(email) => users::find_by_email(app, email).await?,
        None => None,
    };
    let usable = user
        .filter(|u| u.is_active())
        .and_then(|u| u.password_hash.clone().map(|h| (u, h)));
    let Some((user, hash)) = usable else {
        password::verify_dummy_blocking(attempt.password.to_owned()).await;
        return Err(SignInError::InvalidCredentials);
    };
    if !password::verify_blocking(attempt.password.to_owned(), hash).await {
        return Err(SignInError::InvalidCredentials);
    }
    if let Some(tenant) = &user.tenant {
        match tenants::get(app, tenant).await {
            Ok(t) if t.status == TenantStatus::Active => {}
            Ok(_) => return Err(SignInError::TenantSuspended),
            Err(TenantError::Store(e)) => return Err(e.into()),
            Err(_) => return Err(SignInError::InvalidCredentials),
        }
    }
    if let Some(factor) = &user.second_factor {
        let Some(code) = attempt.totp_code.filter(|c| !c.trim().is_empty()) else {
            return Err(SignInError::SecondFactorRequired);
        };
        let step = verify_code(factor, code, app.clock.now())?;
        // Remember the step so the same code cannot sign in twice.
        let scope = user.tenant.clone();
        let user = users::update(app, scope.as_ref(), &user.id, |u| {
            if let Some(f) = &mut u.second_factor {
                f.last_step = Some(step);
            }
            Ok(())
        })
        .await?;
        return Ok(user);
    }
    Ok(user)
}

fn verify_code(factor: &SecondFactor, code: &str, now: DateTime<Utc>) -> Result<u64, SignInError> {
    let secret =
        TotpSecret::from_base32(&factor.secret).map_err(|_| SignInError::InvalidSecondFactor)?;
    secret
        .verify(code.trim(), now, factor.last_step)
        .map_err(|_| SignInError::InvalidSecondFactor)
}

async fn read_failures(app: &App, kind: &str, hash: &str) -> Result<Failures, StoreError> {
    match app.store.get(&keys::sign_in_failures(kind, hash)).await? {
        Some(stored) => stored.item.parse(),
        None => Ok(Failures::default()),
    }
}

async fn count_failure(
    app: &App,
    kind: &str,
    hash: &str,
    policy: &ThrottlePolicy,
) -> Result<(), StoreError> {
    let key = keys::sign_in_failures(kind, hash);
    // Read, add one, write back guarded by the version; retry on a race.
    for _ in 0..5 {
        let now = app.clock.now();
        let (failures, condition) = match app.store.get(&key).await? {
            Some(stored) => (
                stored.item.parse::<Failures>()?,
                PutCondition::Version(stored.version),
            ),
            None => (Failures::default(), PutCondition::NotExists),
        };
        // Failures older than the policy's window are forgotten, even when
        // the store has not yet deleted the expired record.
        let next = Failures {
            count: policy.next_failures(failures.count, failures.last, now),
            last: Some(now),
        };
        let item = Item::new(key.clone(), &next)?.expiring_at(now + policy.window());
        match app.store.put(item, condition).await {
            Ok(_) => return Ok(()),
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
