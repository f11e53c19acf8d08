//! Use cases: what EMMA does, written against the ports in [`crate::App`].
//! Each area has its own error type; callers map them to HTTP or to queue
//! outcomes.

pub mod account;
pub mod api_keys;
pub mod assets;
pub mod attributes;
pub mod audit;
pub mod campaigns;
pub mod consent;
pub mod contacts;
pub mod exports;
pub mod feedback;
pub mod gdpr;
pub mod imports;
pub mod jobs;
pub mod lists;
pub mod scheduler;
pub mod segments;
pub mod sending;
pub mod sessions;
pub mod sign_in;
pub mod signup;
pub mod sso;
pub mod suppressions;
pub mod templates;
pub mod tenants;
pub mod test_mail;
pub mod tracking;
pub mod unsubscribe;
pub mod users;
