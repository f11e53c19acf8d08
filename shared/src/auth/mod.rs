//! Building blocks for signing in: password policy and argon2id hashing,
//! TOTP second factor, and the backoff policy for failed attempts. Pure
//! functions and types, no HTTP and no store: the sign-in use cases combine
//! them with the user and session records.

pub mod dev_issuer;
pub mod oidc;
pub mod oidc_client;
pub mod password;
pub mod throttle;
pub mod totp;
