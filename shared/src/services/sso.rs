//! Single sign-on: a bearer token from the corporate identity provider
//! becomes a principal. The user is found by the token's verified address
//! (pre-provisioned users), or — for tenant roles only — provisioned on first
//! use from the token's tenant and role claims. Platform roles are never
//! granted by a claim.

use crate::App;
use crate::auth::oidc::{OidcError, VerifiedToken};
use crate::domain::{
    Credential, EmailAddress, PersonName, Principal, Role, TenantId, TenantStatus, User,
};
use crate::services::audit::{self, Actor, AuditEntry, Outcome};
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
    #[error(transparent)]
    User(#[from] UserError),
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
                Ok(users::update(app, user.tenant.as_ref(), &user.id, |u| {
                    u.sso_subject = Some(subject);
                    Ok(())
                })
                .await?)
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
