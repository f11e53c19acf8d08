//! A user's own account: setting up and removing the TOTP second factor,
//! and resetting a forgotten password through an e-mailed one-time link.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::App;
use crate::auth::password::{self, PasswordPolicy, PasswordProblem};
use crate::auth::totp::{self, TotpSecret};
use crate::domain::{EmailAddress, SecondFactor, TenantId, User, UserId};
use crate::mime;
use crate::ports::store::{Item, PutCondition, StoreError, keys};
use crate::ports::{MailError, OutgoingMail};
use crate::services::audit::{self, Actor, AuditEntry, Outcome};
use crate::services::sessions;
use crate::services::users::{self, UserError};

/// A reset link is good for this long, once.
pub const RESET_LINK_VALIDITY: Duration = Duration::minutes(30);

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the code is not right")]
    InvalidCode,
    #[error("no second factor is being set up")]
    NothingToConfirm,
    #[error("the institute requires a second factor")]
    SecondFactorRequired,
    #[error("a second factor is set up already; remove it first")]
    SecondFactorActive,
    #[error("the link is not valid (any more)")]
    InvalidResetLink,
    #[error("the new password is not acceptable: {0}")]
    Password(PasswordProblem),
    #[error("the current password is not right")]
    WrongCurrentPassword,
    #[error("too many wrong passwords; try again in {} seconds", .0.num_seconds().max(1))]
    Throttled(chrono::TimeDelta),
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the mail could not be sent: {0}")]
    Mail(#[from] MailError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// What the password policy must not find in a user's password: the
/// address, its local part and the name.
fn personal_inputs(user: &User) -> [String; 3] {
    let local_part = user.email.as_str().split('@').next().unwrap_or_default();
    [
        user.email.to_string(),
        local_part.to_owned(),
        user.name.as_str().to_owned(),
    ]
}

/// Checks a new password against the policy and the user's own data, and
/// hashes it.
async fn acceptable_hash(
    user: &User,
    new_password: &str,
) -> Result<password::PasswordHash, AccountError> {
    let inputs = personal_inputs(user);
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    PasswordPolicy::default()
        .check(new_password, &inputs)
        .map_err(AccountError::Password)?;
    password::hash_blocking(new_password.to_owned())
        .await
        .map_err(|e| AccountError::Internal(e.to_string()))
}

/// Changes a signed-in user's password after checking the current one;
/// ends a one-time password.
pub async fn change_password(
    app: &App,
    user: &User,
    current_password: &str,
    new_password: &str,
    current_session: Option<&sessions::SessionToken>,
) -> Result<(), AccountError> {
    if !confirm_current(app, user, current_password).await? {
        return Err(AccountError::WrongCurrentPassword);
    }
    let hash = acceptable_hash(user, new_password).await?;
    let updated = users::update(app, user.tenant.as_ref(), &user.id, |u| {
        u.password_hash = Some(hash);
        u.must_change_password = false;
        u.session_epoch = u.session_epoch.wrapping_add(1);
        Ok(())
    })
    .await?;
    // Every other session ends; the one that made the change goes on.
    if let Some(token) = current_session {
        sessions::keep_after_password_change(app, token, updated.session_epoch).await?;
    }
    Ok(())
}

/// The current password, checked with sign-in's throttle.
async fn confirm_current(app: &App, user: &User, password: &str) -> Result<bool, AccountError> {
    use crate::services::sign_in::{self, SignInError};
    sign_in::confirm_password(app, user, password)
        .await
        .map_err(|e| match e {
            SignInError::Throttled { retry_after } => AccountError::Throttled(retry_after),
            SignInError::Store(s) => AccountError::Store(s),
            other => AccountError::Internal(other.to_string()),
        })
}

/// What an authenticator app needs to add the account.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TotpSetup {
    /// The shared secret, base32, for typing in by hand.
    pub secret: String,
    /// The `otpauth://` URI.
    pub provisioning_uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
}

/// Starts setting up TOTP: a new secret, pending until confirmed.
pub async fn start_totp(app: &App, user: &User) -> Result<TotpSetup, AccountError> {
    // Replacing an active factor would let a stolen session take it over:
    // removing it takes the password first.
    if user.second_factor.is_some() {
        return Err(AccountError::SecondFactorActive);
    }
    let secret = TotpSecret::generate();
    let uri = secret.provisioning_uri("EMMA", user.email.as_str());
    let qr_svg = totp::qr_svg(&uri).map_err(|e| AccountError::Internal(e.to_string()))?;
    let base32 = secret.to_base32();
    users::update(app, user.tenant.as_ref(), &user.id, |u| {
        u.pending_second_factor = Some(base32.clone());
        Ok(())
    })
    .await?;
    Ok(TotpSetup {
        secret: base32,
        provisioning_uri: uri,
        qr_svg,
    })
}

/// Confirms the pending secret with a code from the app; from now on
/// sign-in needs a code.
pub async fn confirm_totp(app: &App, user: &User, code: &str) -> Result<(), AccountError> {
    let pending = user
        .pending_second_factor
        .as_deref()
        .ok_or(AccountError::NothingToConfirm)?;
    let secret = TotpSecret::from_base32(pending).map_err(|_| AccountError::NothingToConfirm)?;
    let step = secret
        .verify(code, app.clock.now(), None)
        .map_err(|_| AccountError::InvalidCode)?;
    let confirmed = SecondFactor {
        secret: pending.to_owned(),
        last_step: Some(step),
    };
    users::update(app, user.tenant.as_ref(), &user.id, |u| {
        u.second_factor = Some(confirmed.clone());
        u.pending_second_factor = None;
        Ok(())
    })
    .await?;
    Ok(())
}

/// Removes the second factor after checking the current password, unless
/// the user's tenant requires one.
pub async fn remove_totp(
    app: &App,
    user: &User,
    current_password: &str,
) -> Result<(), AccountError> {
    if let Some(tenant) = &user.tenant {
        let tenant = crate::services::tenants::get(app, tenant)
            .await
            .map_err(|e| match e {
                crate::services::tenants::TenantError::Store(s) => AccountError::Store(s),
                other => AccountError::Internal(other.to_string()),
            })?;
        if tenant.settings.require_second_factor {
            return Err(AccountError::SecondFactorRequired);
        }
    }
    if !confirm_current(app, user, current_password).await? {
        return Err(AccountError::WrongCurrentPassword);
    }
    users::update(app, user.tenant.as_ref(), &user.id, |u| {
        u.second_factor = None;
        u.pending_second_factor = None;
        Ok(())
    })
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ResetRecord {
    user_id: UserId,
    tenant: Option<TenantId>,
    created_at: DateTime<Utc>,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Asks for a reset link. Answers at once and the same for every address:
/// the lookup and the mail happen later, in the send worker (a job on the
/// queue carrying only the address's keyed hash), so neither the answer
/// nor its timing tells whether the address has an account.
pub async fn request_reset(
    app: &App,
    email: &str,
    ip: Option<std::net::IpAddr>,
) -> Result<(), AccountError> {
    let Ok(email) = EmailAddress::parse(email) else {
        return Ok(());
    };
    let job = crate::services::jobs::Job::PasswordLink {
        email_hash: app.pseudonyms.email(&email),
        ip: audit::IpTrace::of_optional(app, ip),
    };
    if let Err(e) = app
        .jobs
        .send(&job.to_body(), std::time::Duration::ZERO)
        .await
    {
        tracing::error!(error = %e, "password reset request not queued");
    }
    Ok(())
}

/// The send worker's part of a reset request: finds the account by the
/// address's keyed hash and mails it a link; audits either way.
pub async fn send_reset_link_for(
    app: &App,
    email_hash: &str,
    ip: Option<audit::IpTrace>,
) -> Result<(), AccountError> {
    let mut entry = AuditEntry::new(
        app,
        None,
        Actor {
            email_hash: Some(email_hash.to_owned()),
            ..Actor::default()
        },
        "auth.password_reset_request",
    );
    entry.ip = ip;
    let user = users::find_by_email_hash(app, email_hash)
        .await?
        .filter(|u| u.is_active());
    let Some(user) = user else {
        entry.outcome = Outcome::Denied;
        audit::record_or_log(app, &entry).await;
        return Ok(());
    };
    send_link(app, &user, LinkKind::Reset).await?;
    entry.tenant = user.tenant.clone();
    entry.actor.user_id = Some(user.id);
    entry.actor.role = Some(user.role);
    audit::record_or_log(app, &entry).await;
    Ok(())
}

/// What a one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// A forgotten password: good for 30 minutes.
    Reset,
    /// A new account's first password: good for three days.
    Invitation,
}

impl LinkKind {
    fn validity(self) -> Duration {
        match self {
            Self::Reset => RESET_LINK_VALIDITY,
            Self::Invitation => Duration::days(3),
        }
    }

    fn subject(self) -> &'static str {
        match self {
            Self::Reset => "Kennwort zurücksetzen",
            Self::Invitation => "Ihr Zugang zu EMMA",
        }
    }

    fn lead(self) -> &'static str {
        match self {
            Self::Reset => {
                "mit diesem Link legen Sie ein neues Kennwort für EMMA fest. Er gilt 30 Minuten und nur einmal:"
            }
            Self::Invitation => {
                "für Sie wurde ein Zugang zu EMMA eingerichtet. Mit diesem Link legen Sie Ihr Kennwort fest; er gilt drei Tage und nur einmal:"
            }
        }
    }

    fn button(self) -> &'static str {
        match self {
            Self::Reset => "Neues Kennwort festlegen",
            Self::Invitation => "Kennwort festlegen",
        }
    }

    fn footer(self) -> &'static str {
        match self {
            Self::Reset => {
                "Wenn Sie das nicht angefordert haben, können Sie diese Nachricht ignorieren."
            }
            Self::Invitation => {
                "Wenn Sie damit nicht gerechnet haben, wenden Sie sich an Ihre Administration."
            }
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Self::Reset => "password-reset",
            Self::Invitation => "invitation",
        }
    }
}

/// Mails the user a one-time link to set a password.
pub async fn send_link(app: &App, user: &User, kind: LinkKind) -> Result<(), AccountError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| AccountError::Internal("no randomness".into()))?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = app.clock.now();
    let record = ResetRecord {
        user_id: user.id,
        tenant: user.tenant.clone(),
        created_at: now,
    };
    let item = Item::new(keys::password_reset(&token_hash(&token)), &record)?
        .expiring_at(now + kind.validity());
    app.store.put(item, PutCondition::NotExists).await?;

    let mut link = app.settings.public_url.clone();
    link.set_path("/kennwort-zuruecksetzen");
    link.set_query(Some(&format!("token={token}")));
    let message = mime::Message {
        from_name: "EMMA".to_owned(),
        from: app.settings.mail_from.clone(),
        to_name: Some(user.name.as_str().to_owned()),
        to: user.email.clone(),
        subject: kind.subject().to_owned(),
        text: format!(
            "Hallo {},\n\n{}\n\n{link}\n\n{}\n",
            user.name.as_str(),
            kind.lead(),
            kind.footer()
        ),
        html: format!(
            "<p>Hallo {},</p><p>{}</p><p><a href=\"{link}\">{}</a></p><p>{}</p>",
            mime::escape_html(user.name.as_str()),
            mime::escape_html(kind.lead()),
            mime::escape_html(kind.button()),
            mime::escape_html(kind.footer()),
            link = mime::escape_html(link.as_str()),
        ),
        headers: vec![("Auto-Submitted", "auto-generated".to_owned())],
        list_unsubscribe: None,
    };
    let built = mime::build(&message, now.timestamp())
        .map_err(|e| AccountError::Internal(e.to_string()))?;
    let tenant_for_mail = user
        .tenant
        .clone()
        .unwrap_or_else(|| TenantId::parse("platform").expect("a valid id"));
    app.mailer
        .send(&OutgoingMail {
            tenant: tenant_for_mail,
            from: app.settings.mail_from.clone(),
            recipients: vec![user.email.clone()],
            raw: built.raw,
            tags: vec![("kind".to_owned(), kind.tag().to_owned())],
        })
        .await?;
    Ok(())
}

/// Creates a user for an administrator. A tenant admin hands over a
/// one-time password, shown once; a product admin never sees a tenant
/// admin's password — the new admin gets an e-mailed invitation link.
pub async fn create_user_for(
    app: &App,
    creator: crate::domain::Role,
    new: users::NewUser,
) -> Result<(User, Option<String>), AccountError> {
    if creator == crate::domain::Role::ProductAdmin {
        let user = users::create(app, new).await?;
        send_link(app, &user, LinkKind::Invitation).await?;
        return Ok((user, None));
    }
    let (user, password) = users::create_with_one_time_password(app, new).await?;
    Ok((user, Some(password)))
}

/// Sets a new password with a reset link's token; the link is spent.
pub async fn complete_reset(
    app: &App,
    token: &str,
    new_password: &str,
) -> Result<(), AccountError> {
    let key = keys::password_reset(&token_hash(token));
    let stored = app
        .store
        .get(&key)
        .await?
        .ok_or(AccountError::InvalidResetLink)?;
    let record: ResetRecord = stored.item.parse()?;
    let user = users::get(app, record.tenant.as_ref(), &record.user_id).await?;
    let hash = acceptable_hash(&user, new_password).await?;
    // Spend the link first: a second use fails even if this one does.
    app.store
        .transact(vec![crate::ports::store::TxOp::Delete {
            key,
            condition: PutCondition::Version(stored.version),
        }])
        .await
        .map_err(|e| match e {
            StoreError::ConditionFailed => AccountError::InvalidResetLink,
            other => other.into(),
        })?;
    // A reset ends every session: whoever held one may be why it was needed.
    users::update(app, user.tenant.as_ref(), &user.id, |u| {
        u.password_hash = Some(hash);
        u.must_change_password = false;
        u.session_epoch = u.session_epoch.wrapping_add(1);
        Ok(())
    })
    .await?;
    let mut entry = AuditEntry::new(
        app,
        user.tenant.clone(),
        Actor {
            user_id: Some(user.id),
            role: Some(user.role),
            email_hash: Some(app.pseudonyms.email(&user.email)),
            ..Actor::default()
        },
        "auth.password_reset",
    );
    entry.object = Some(user.id.to_string());
    audit::record_or_log(app, &entry).await;
    Ok(())
}
