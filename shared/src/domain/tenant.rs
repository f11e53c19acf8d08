//! Tenants: the institutes that use EMMA.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::TenantId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantNameError {
    #[error("the tenant name is empty")]
    Empty,
    #[error("the tenant name is longer than 120 characters")]
    TooLong,
    #[error("the tenant name contains control characters")]
    ControlCharacters,
}

/// The display name of an institute, e.g. "Sparkasse Musterstadt".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantName(String);

impl TenantName {
    pub fn parse(raw: &str) -> Result<Self, TenantNameError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(TenantNameError::Empty);
        }
        if name.chars().count() > 120 {
            return Err(TenantNameError::TooLong);
        }
        if name.chars().any(char::is_control) {
            return Err(TenantNameError::ControlCharacters);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantName {
    type Error = TenantNameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TenantName> for String {
    fn from(value: TenantName) -> Self {
        value.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    Suspended,
}

/// How much a tenant's mailings track.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrackingMode {
    /// No open pixel, no rewritten links.
    Off,
    /// Opens and clicks are counted, but not who opened or clicked.
    #[default]
    Aggregate,
    /// Opens and clicks per recipient.
    PerPerson,
}

/// What the operator configures per tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct TenantSettings {
    /// Domains the tenant sends from (verified in SES).
    pub sender_domains: Vec<String>,
    /// The sender name when a campaign names none, e.g. "Sparkasse Musterstadt".
    pub default_from_name: Option<String>,
    pub tracking: TrackingMode,
    /// Days the audit log is kept.
    pub audit_retention_days: u32,
    /// Days unconfirmed (double opt-in) contacts are kept.
    pub unconfirmed_contact_retention_days: u32,
    /// Every user must sign in with a second factor (TOTP).
    pub require_second_factor: bool,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            sender_domains: Vec::new(),
            default_from_name: None,
            tracking: TrackingMode::Aggregate,
            audit_retention_days: 365,
            unconfirmed_contact_retention_days: 30,
            require_second_factor: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: TenantName,
    pub status: TenantStatus,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub settings: TenantSettings,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_name_is_trimmed_and_bounded() {
        assert_eq!(
            TenantName::parse("  Sparkasse Musterstadt ")
                .unwrap()
                .as_str(),
            "Sparkasse Musterstadt"
        );
        assert_eq!(TenantName::parse("   "), Err(TenantNameError::Empty));
        assert_eq!(
            TenantName::parse(&"x".repeat(121)),
            Err(TenantNameError::TooLong)
        );
        assert_eq!(
            TenantName::parse("Spar\nkasse"),
            Err(TenantNameError::ControlCharacters)
        );
    }
}
