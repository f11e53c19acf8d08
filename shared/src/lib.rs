//! EMMA's shared library: the domain, the ports and their adapters, the use
//! cases, and the HTTP and event layers every function is built from.

pub mod adapters;
pub mod app;
pub mod auth;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod content;
pub mod domain;
pub mod excel;
pub mod feedback;
pub mod http;
pub mod import;
pub mod lambda;
pub mod local;
pub mod mime;
pub mod ports;
pub mod services;
pub mod telemetry;
pub mod ui;
pub mod workers;

pub use app::App;
