//! The principal: who is making a request, as the access check established it.

use super::{Role, TenantId, UserId};

/// How the principal proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A browser session cookie (state-changing requests need a CSRF token).
    Session,
    /// A bearer token from the corporate identity provider.
    Sso,
    /// An integration's API key.
    ApiKey,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub role: Role,
    pub tenant: Option<TenantId>,
    /// The keyed hash of the user's address, for the audit log.
    pub email_hash: String,
    pub credential: Credential,
    /// A one-time password is in use: only the password change is open.
    pub must_change_password: bool,
}
