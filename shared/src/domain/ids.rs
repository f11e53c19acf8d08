//! Identifiers. A `TenantId` is the first part of every stored key, so its
//! alphabet is narrow: it can never collide with the platform partition.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::TenantName;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error(
        "a tenant id is 3 to 40 characters of a-z, 0-9 and '-', starting with a letter or digit"
    )]
    Tenant,
    #[error("a contact id is 32 hexadecimal digits")]
    Contact,
    #[error("a user id is a UUID")]
    User,
    #[error("an import id is a UUID")]
    Import,
    #[error("an export id is a UUID")]
    Export,
    #[error("a list id is a UUID")]
    List,
    #[error("a segment id is a UUID")]
    Segment,
    #[error("a sign-up form id is a UUID")]
    SignupForm,
    #[error("a template id is a UUID")]
    Template,
    #[error("an asset id is a UUID")]
    Asset,
    #[error("a campaign id is a UUID")]
    Campaign,
}

/// The id of a tenant (an institute). Lower-case letters, digits and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let ok_len = (3..=40).contains(&raw.len());
        let ok_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let ok_start = raw
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if ok_len && ok_chars && ok_start {
            Ok(Self(raw.to_owned()))
        } else {
            Err(IdError::Tenant)
        }
    }

    /// A new tenant id: a readable slug of the name plus a random suffix,
    /// e.g. `sparkasse-musterstadt-7f3k2q`.
    pub fn generate(name: &TenantName) -> Self {
        let mut slug = String::new();
        for c in name.as_str().chars().flat_map(char::to_lowercase) {
            let mapped = match c {
                'ä' => "ae",
                'ö' => "oe",
                'ü' => "ue",
                'ß' => "ss",
                c if c.is_ascii_alphanumeric() => {
                    slug.push(c);
                    continue;
                }
                _ => "-",
            };
            slug.push_str(mapped);
        }
        let mut compact = String::new();
        for part in slug.split('-').filter(|p| !p.is_empty()) {
            if compact.len() + part.len() + 1 > 26 {
                break;
            }
            if !compact.is_empty() {
                compact.push('-');
            }
            compact.push_str(part);
        }
        if compact.is_empty() {
            compact.push('t');
        }
        let suffix: String = uuid::Uuid::new_v4().simple().to_string()[..6].to_owned();
        Self(format!("{compact}-{suffix}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TenantId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TenantId> for String {
    fn from(value: TenantId) -> Self {
        value.0
    }
}

/// Declares an id that is a time-ordered UUID (v7): new ones sort last.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $error:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(uuid::Uuid);

        impl $name {
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            pub fn parse(raw: &str) -> Result<Self, IdError> {
                uuid::Uuid::parse_str(raw).map(Self).map_err(|_| $error)
            }

            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0.hyphenated())
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.to_string()
            }
        }
    };
}

/// The id of a contact: a keyed hash of the tenant and the address
/// (`Pseudonymizer::contact_id`), 32 lower-case hex digits. One address is
/// one contact per tenant, the id reveals nothing about the address, and
/// the same person has unrelated ids in two tenants. An address never
/// changes: another address is another contact, with its own consent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContactId(String);

impl ContactId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let ok = raw.len() == 32
            && raw
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| Self(raw.to_owned())).ok_or(IdError::Contact)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ContactId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ContactId> for String {
    fn from(value: ContactId) -> Self {
        value.0
    }
}

uuid_id!(
    /// The id of a user.
    UserId,
    IdError::User
);

uuid_id!(
    /// The id of a contact import (time-ordered: newest last).
    ImportId,
    IdError::Import
);

uuid_id!(
    /// The id of a contact export.
    ExportId,
    IdError::Export
);

uuid_id!(
    /// The id of a list (Verteiler).
    ListId,
    IdError::List
);

uuid_id!(
    /// The id of a segment (a saved filter).
    SegmentId,
    IdError::Segment
);

uuid_id!(
    /// The id of a hosted sign-up form (double opt-in into a list).
    SignupFormId,
    IdError::SignupForm
);

uuid_id!(
    /// The id of a newsletter template (Vorlage).
    TemplateId,
    IdError::Template
);

uuid_id!(
    /// The id of an image in the tenant's asset library.
    AssetId,
    IdError::Asset
);

uuid_id!(
    /// The id of a campaign (time-ordered: newest last).
    CampaignId,
    IdError::Campaign
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_id_refuses_characters_that_could_build_another_key() {
        for bad in [
            "",
            "ab",
            "Sparkasse",
            "a#b",
            "a/b",
            "-abc",
            "a b",
            "#platform",
        ] {
            assert_eq!(TenantId::parse(bad), Err(IdError::Tenant), "{bad:?}");
        }
        assert!(TenantId::parse("sparkasse-musterstadt-1a2b3c").is_ok());
    }

    #[test]
    fn a_generated_tenant_id_is_a_readable_slug_that_parses() {
        let name = TenantName::parse("Sparkasse Köln/Bonn & Umgebung").unwrap();
        let id = TenantId::generate(&name);
        assert!(id.as_str().starts_with("sparkasse-koeln-bonn-"), "{id}");
        assert_eq!(TenantId::parse(id.as_str()), Ok(id.clone()));
    }

    #[test]
    fn a_contact_id_is_32_lower_case_hex_digits() {
        let id = ContactId::parse("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(ContactId::parse(&id.to_string()), Ok(id));
        for bad in [
            "not-a-hash",
            "0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            "0123456789abcdef#123456789abcdef",
        ] {
            assert_eq!(ContactId::parse(bad), Err(IdError::Contact), "{bad:?}");
        }
    }
}
