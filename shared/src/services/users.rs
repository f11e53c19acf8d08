//! Users: create (with a one-time password, or none for SSO), list, change
//! role, disable, delete, and find by address for sign-in. One account per
//! address across the platform, kept by a login record written in the same
//! transaction as the user.

use serde::{Deserialize, Serialize};

use crate::App;
use crate::domain::{EmailAddress, PersonName, Role, TenantId, User, UserId, UserStatus};
use crate::ports::store::{Item, PutCondition, Query, StoreError, TxOp, keys};

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("no user with this id")]
    NotFound,
    #[error("a user with this e-mail address exists already")]
    DuplicateEmail,
    #[error("the role {0} does not fit here")]
    RoleNotAllowed(&'static str),
    #[error("you may not change your own role, status or account this way")]
    SelfChange,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where sign-in finds a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRecord {
    pub tenant: Option<TenantId>,
    pub user_id: UserId,
}

/// What a new user needs.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub tenant: Option<TenantId>,
    pub email: EmailAddress,
    pub name: PersonName,
    pub role: Role,
    /// The hash of a one-time password, if the user gets one.
    pub password_hash: Option<crate::auth::password::PasswordHash>,
}

/// Creates a user. The role must fit the scope: tenant roles in a tenant,
/// platform roles outside.
#[tracing::instrument(skip(app, new), fields(email = %app.pseudonyms.email(&new.email)))]
pub async fn create(app: &App, new: NewUser) -> Result<User, UserError> {
    if new.role.is_tenant_role() != new.tenant.is_some() {
        return Err(UserError::RoleNotAllowed(new.role.as_str()));
    }
    let now = app.clock.now();
    let user = User {
        id: UserId::generate(),
        tenant: new.tenant,
        email: new.email,
        name: new.name,
        role: new.role,
        status: UserStatus::Active,
        must_change_password: new.password_hash.is_some(),
        password_hash: new.password_hash,
        second_factor: None,
        pending_second_factor: None,
        sso_subject: None,
        session_epoch: 0,
        created_at: now,
        updated_at: now,
    };
    let login = LoginRecord {
        tenant: user.tenant.clone(),
        user_id: user.id,
    };
    let result = app
        .store
        .transact(vec![
            TxOp::Put {
                item: Item::new(keys::login(&app.pseudonyms.email(&user.email)), &login)?,
                condition: PutCondition::NotExists,
            },
            TxOp::Put {
                item: Item::new(keys::user(user.tenant.as_ref(), &user.id), &user)?,
                condition: PutCondition::NotExists,
            },
        ])
        .await;
    match result {
        Ok(()) => Ok(user),
        Err(StoreError::ConditionFailed) => Err(UserError::DuplicateEmail),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(app: &App, scope: Option<&TenantId>, id: &UserId) -> Result<User, UserError> {
    let stored = app
        .store
        .get(&keys::user(scope, id))
        .await?
        .ok_or(UserError::NotFound)?;
    Ok(stored.item.parse()?)
}

/// The user with this address, if any.
pub async fn find_by_email(app: &App, email: &EmailAddress) -> Result<Option<User>, UserError> {
    find_by_email_hash(app, &app.pseudonyms.email(email)).await
}

/// The user whose address has this keyed hash, if any.
pub async fn find_by_email_hash(app: &App, email_hash: &str) -> Result<Option<User>, UserError> {
    let Some(stored) = app.store.get(&keys::login(email_hash)).await? else {
        return Ok(None);
    };
    let login: LoginRecord = stored.item.parse()?;
    match get(app, login.tenant.as_ref(), &login.user_id).await {
        Ok(user) => Ok(Some(user)),
        Err(UserError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every user of the tenant (or the platform users), oldest first.
pub async fn list(app: &App, scope: Option<&TenantId>) -> Result<Vec<User>, UserError> {
    let mut users = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(Query::table(keys::users(scope)).limit(500).after(cursor))
            .await?;
        for stored in &page.items {
            users.push(stored.item.parse()?);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(users),
        }
    }
}

/// Rewrites a user with `change`, guarded by the version read (a
/// concurrent change makes this one fail rather than be lost).
pub async fn update(
    app: &App,
    scope: Option<&TenantId>,
    id: &UserId,
    change: impl FnOnce(&mut User) -> Result<(), UserError>,
) -> Result<User, UserError> {
    let key = keys::user(scope, id);
    let stored = app.store.get(&key).await?.ok_or(UserError::NotFound)?;
    let mut user: User = stored.item.parse()?;
    change(&mut user)?;
    user.updated_at = app.clock.now();
    app.store
        .put(
            Item::new(key, &user)?,
            PutCondition::Version(stored.version),
        )
        .await?;
    Ok(user)
}

/// Deletes the user and their login record, together.
pub async fn delete(app: &App, scope: Option<&TenantId>, id: &UserId) -> Result<User, UserError> {
    let user = get(app, scope, id).await?;
    app.store
        .transact(vec![
            TxOp::Delete {
                key: keys::user(scope, id),
                condition: PutCondition::Always,
            },
            TxOp::Delete {
                key: keys::login(&app.pseudonyms.email(&user.email)),
                condition: PutCondition::Always,
            },
        ])
        .await?;
    Ok(user)
}

/// A one-time password: 20 characters from an alphabet without look-alikes
/// (about 100 bits), to be replaced at the first sign-in.
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679";
    let mut bytes = [0u8; 20];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// Creates a user with a one-time password; returns the user and the
/// password, which is shown once and stored only as a hash.
pub async fn create_with_one_time_password(
    app: &App,
    mut new: NewUser,
) -> Result<(User, String), UserError> {
    let password = one_time_password();
    let hash = crate::auth::password::hash_blocking(password.clone())
        .await
        .map_err(|e| UserError::Store(StoreError::Backend(e.to_string())))?;
    new.password_hash = Some(hash);
    let user = create(app, new).await?;
    Ok((user, password))
}
