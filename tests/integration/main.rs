//! EMMA's integration tests, in one binary: the port conformance suites
//! (each run against the local and the cloud adapter), the sample events fed
//! to the functions as Lambda would, the API's answers to bad input, and the
//! walking skeleton end to end.

mod access;
mod account;
mod api_keys;
mod assets;
mod attributes;
mod blob_conformance;
mod browser;
mod campaigns;
mod contacts;
mod events;
mod gdpr;
mod http_api;
mod imports;
mod mail_conformance;
mod queue_conformance;
mod segments;
mod sending;
mod sending_faults;
mod sending_segments;
mod sign_in;
mod signup;
mod skeleton;
mod sso;
mod sso_browser;
mod store_conformance;
mod suppressions;
mod templates;
mod tracking;
mod unsubscribe;
