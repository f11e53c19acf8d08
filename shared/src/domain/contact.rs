//! Contacts: the people a tenant mails.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ContactId, EmailAddress};

/// A first or last name: at most 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

/// Trims a short single-line text (a name, a label) and checks it: at most
/// 100 characters, no control characters.
pub fn short_text(raw: &str) -> Result<String, &'static str> {
    let text = raw.trim();
    if text.chars().count() > 100 {
        return Err("is longer than 100 characters");
    }
    if text.chars().any(char::is_control) {
        return Err("contains control characters");
    }
    Ok(text.to_owned())
}

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        short_text(raw).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PersonName {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PersonName> for String {
    fn from(value: PersonName) -> Self {
        value.0
    }
}

/// What a caller supplies to create a contact.
#[derive(Debug, Clone)]
pub struct ContactDraft {
    pub email: EmailAddress,
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    pub email: EmailAddress,
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Contact {
    pub fn new(draft: ContactDraft, now: DateTime<Utc>) -> Self {
        Self {
            id: ContactId::generate(),
            email: draft.email,
            first_name: draft.first_name,
            last_name: draft.last_name,
            created_at: now,
            updated_at: now,
        }
    }

    /// "Erika Mustermann", or the address when no name is known.
    pub fn display_name(&self) -> String {
        let parts: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .flatten()
            .map(PersonName::as_str)
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            self.email.to_string()
        } else {
            parts.join(" ")
        }
    }
}
