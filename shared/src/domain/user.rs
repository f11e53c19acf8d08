//! Users: the staff who sign in. Platform users (operator, product admin)
//! have no tenant; every other user belongs to exactly one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{EmailAddress, PersonName, Role, TenantId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    /// May not sign in; existing sessions end at their next request.
    Disabled,
}

/// The TOTP second factor of a user, once confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactor {
    /// The shared secret, base32.
    pub secret: String,
    /// The last time step a code was accepted for (no code is used twice).
    pub last_step: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub tenant: Option<TenantId>,
    pub email: EmailAddress,
    pub name: PersonName,
    pub role: Role,
    pub status: UserStatus,
    /// The argon2id hash; absent for SSO-only users.
    pub password_hash: Option<crate::auth::password::PasswordHash>,
    /// Set by a one-time password: the user must choose their own first.
    #[serde(default)]
    pub must_change_password: bool,
    #[serde(default)]
    pub second_factor: Option<SecondFactor>,
    /// A TOTP secret being set up, not yet confirmed with a code (base32).
    #[serde(default)]
    pub pending_second_factor: Option<String>,
    /// Sessions started under an older epoch are over: a password change or
    /// reset moves it on, ending every other session.
    #[serde(default)]
    pub session_epoch: u32,
    /// The identity provider's subject (`sub`) this user signed in with
    /// first; tokens of another subject are refused for this account.
    #[serde(default)]
    pub sso_subject: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    pub fn is_active(&self) -> bool {
        self.status == UserStatus::Active
    }
}
