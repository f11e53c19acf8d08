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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: TenantName,
    pub status: TenantStatus,
    pub created_at: DateTime<Utc>,
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
