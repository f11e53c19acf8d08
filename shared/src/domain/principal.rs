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

/// A person (session or SSO), or an integration holding an API key.
///
/// For an API key, `user_id` is the user who created the key and answers
/// for it (the key acts with its own role, not theirs), `api_key_id` names
/// the key, and there is no address: the audit log records both ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The person signed in; for an API key, its creator.
    pub user_id: UserId,
    pub role: Role,
    pub tenant: Option<TenantId>,
    /// The keyed hash of the user's address, for the audit log (none for an
    /// API key: nobody signed in).
    pub email_hash: Option<String>,
    pub credential: Credential,
    /// A one-time password is in use: only the password change is open.
    pub must_change_password: bool,
    /// The tenant requires a second factor this user has not set up: only
    /// the set-up is open.
    pub must_set_up_second_factor: bool,
    /// The API key's id, when an integration is asking.
    pub api_key_id: Option<String>,
}
