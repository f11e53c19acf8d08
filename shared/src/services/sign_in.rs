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
use crate::services::audit::{self, Actor, AuditEntry, IpTrace, Outcome};
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

/// How long a device (an IP address, or an IPv6 /64) stays known for an
/// account after a successful sign-in from it.
const KNOWN_DEVICE_DAYS: i64 = 90;

/// The address a throttle counts: IPv4 as it is, IPv6 by its /64 (one
/// household or server holds a whole /64 and could rotate through it).
fn throttled_address(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Signs a user in and starts a session.
///
/// Every attempt is counted before the password is checked, so parallel
/// guesses cannot slip past the counters. Two counters slow failures down:
/// one per address (IPv6: per /64) and one per account. The account's
/// counter does not apply from a device the account signed in from before,
/// so an attacker elsewhere can slow the account down but cannot lock its
/// owner out.
pub async fn sign_in(app: &App, attempt: Attempt<'_>) -> Result<SignedIn, SignInError> {
    let policy = ThrottlePolicy::default();
    let email = EmailAddress::parse(attempt.email).ok();
    let email_hash = app.pseudonyms.hash(&attempt.email.trim().to_lowercase());
    let ip_hash = attempt.ip.map(|ip| {
        app.pseudonyms
            .hash(&format!("ip:{}", throttled_address(ip)))
    });
    let mut entry = AuditEntry::new(
        app,
        None,
        Actor {
            email_hash: Some(email_hash.clone()),
            ..Actor::default()
        },
        "auth.sign_in",
    );
    entry.ip = IpTrace::of_optional(app, attempt.ip);

    // A known user's attempts belong in their tenant's log.
    let user = match &email {
        Some(email) => users::find_by_email(app, email).await?,
        None => None,
    };
    if let Some(user) = &user {
        entry.tenant = user.tenant.clone();
        entry.actor.user_id = Some(user.id);
        entry.actor.role = Some(user.role);
    }

    let device_key = ip_hash
        .as_deref()
        .map(|ip| keys::sign_in_failures("device", &format!("{email_hash}#{ip}")));
    let known_device = match &device_key {
        Some(key) => app.store.get(key).await?.is_some(),
        None => false,
    };
    let mut counters: Vec<(&str, &str)> = Vec::new();
    if !known_device {
        counters.push(("account", email_hash.as_str()));
    }
    if let Some(ip) = ip_hash.as_deref() {
        counters.push(("ip", ip));
    }
    let now = app.clock.now();
    let mut throttled = None;
    for (kind, hash) in &counters {
        let before = count_attempt(app, kind, hash, &policy, 1).await?;
        if let Some(retry_after) = policy
            .decide(before.count, before.last, now)
            .retry_after(now)
        {
            throttled =
                Some(throttled.map_or(retry_after, |t: chrono::TimeDelta| t.max(retry_after)));
        }
    }
    if let Some(retry_after) = throttled {
        entry.outcome = Outcome::Denied;
        audit::record_or_log(app, &entry).await;
        return Err(SignInError::Throttled { retry_after });
    }

    let result = check(app, user, &attempt).await;
    match &result {
        Ok(_) | Err(SignInError::SecondFactorRequired) => {
            // The password was right: this attempt was no failure.
            for (kind, hash) in &counters {
                if *kind == "account" {
                    app.store
                        .delete(&keys::sign_in_failures(kind, hash))
                        .await?;
                } else {
                    count_attempt(app, kind, hash, &policy, -1).await?;
                }
            }
        }
        Err(SignInError::Store(_)) => {}
        Err(_) => entry.outcome = Outcome::Denied,
    }
    if let Err(e) = result {
        if !matches!(e, SignInError::SecondFactorRequired) {
            audit::record_or_log(app, &entry).await;
        }
        return Err(e);
    }
    let user = result?;
    if let Some(key) = device_key {
        let item = Item::new(key, &serde_json::json!({ "at": now }))?
            .expiring_at(now + chrono::Duration::days(KNOWN_DEVICE_DAYS));
        app.store.put(item, PutCondition::Always).await?;
    }
    let (token, session) = sessions::start(app, &user).await?;
    audit::record_or_log(app, &entry).await;
    Ok(SignedIn {
        token,
        session,
        user,
    })
}

/// The user, if the credentials hold; costs the same for unknown accounts.
async fn check(app: &App, user: Option<User>, attempt: &Attempt<'_>) -> Result<User, SignInError> {
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

/// Checks a signed-in user's password again (before changing the password
/// or removing the second factor), counted like sign-in attempts so a stolen
/// session cannot guess it at full speed. A right password forgives the
/// attempt.
pub async fn confirm_password(app: &App, user: &User, password: &str) -> Result<bool, SignInError> {
    let policy = ThrottlePolicy::default();
    let subject = app.pseudonyms.hash(&format!("reauth:{}", user.id));
    let now = app.clock.now();
    let before = count_attempt(app, "reauth", &subject, &policy, 1).await?;
    if let Some(retry_after) = policy
        .decide(before.count, before.last, now)
        .retry_after(now)
    {
        return Err(SignInError::Throttled { retry_after });
    }
    let ok = match &user.password_hash {
        Some(hash) => password::verify_blocking(password.to_owned(), hash.clone()).await,
        None => false,
    };
    if ok {
        app.store
            .delete(&keys::sign_in_failures("reauth", &subject))
            .await?;
    }
    Ok(ok)
}

/// Adds `delta` (1 for an attempt, -1 to take one back) to a counter and
/// returns what it held before. Guarded by the version read; retried on a
/// race, so concurrent attempts each count.
async fn count_attempt(
    app: &App,
    kind: &str,
    hash: &str,
    policy: &ThrottlePolicy,
    delta: i32,
) -> Result<Failures, StoreError> {
    let key = keys::sign_in_failures(kind, hash);
    for _ in 0..8 {
        let now = app.clock.now();
        let (before, condition) = match app.store.get(&key).await? {
            Some(stored) => (
                stored.item.parse::<Failures>()?,
                PutCondition::Version(stored.version),
            ),
            None => (Failures::default(), PutCondition::NotExists),
        };
        // Failures older than the policy's window are forgotten, even when
        // the store has not yet deleted the expired record.
        let next = if delta > 0 {
            Failures {
                count: policy.next_failures(before.count, before.last, now),
                last: Some(now),
            }
        } else {
            Failures {
                count: before.count.saturating_sub(delta.unsigned_abs()),
                last: before.last,
            }
        };
        let item = Item::new(key.clone(), &next)?.expiring_at(now + policy.window());
        match app.store.put(item, condition).await {
            Ok(_) => return Ok(before),
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(
        "the sign-in counter is contended".to_owned(),
    ))
}
