//! Contacts: the people a tenant mails.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AttributeValues, ContactId, EmailAddress};

/// Folds a name for sorting and searching: lower case, German umlauts and
/// other Latin accents without their marks (DIN 5007-1), ß as ss; the
/// separator `|` and control characters are dropped.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        match c {
            'ä' | 'à' | 'á' | 'â' | 'ã' | 'å' => out.push('a'),
            'ö' | 'ò' | 'ó' | 'ô' | 'õ' | 'ø' => out.push('o'),
            'ü' | 'ù' | 'ú' | 'û' => out.push('u'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'í' | 'ì' | 'î' | 'ï' => out.push('i'),
            'ç' => out.push('c'),
            'ñ' => out.push('n'),
            'ß' => out.push_str("ss"),
            '|' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

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

/// How a contact is addressed in a letter ("Sehr geehrte Frau …").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Salutation {
    /// Frau
    Female,
    /// Herr
    Male,
    /// Divers: a neutral greeting ("Guten Tag Vorname Nachname").
    Diverse,
}

/// The language a contact is written to in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    De,
    En,
}

/// Where a contact stands with the tenant's mailings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactStatus {
    /// Signed up, has not confirmed yet (double opt-in): never mailed.
    Unconfirmed,
    /// Consented: mailed.
    Subscribed,
    /// Left: never mailed again without a new opt-in.
    Unsubscribed,
    /// The address bounced for good.
    Bounced,
    /// The person marked a mailing as spam.
    Complained,
}

impl ContactStatus {
    /// Whether mailings go to the contact.
    pub fn is_mailable(self) -> bool {
        self == Self::Subscribed
    }

    /// Whether the contact left or cannot be reached: no import, form or
    /// edit brings it back to `Subscribed` without a new opt-in.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Unsubscribed | Self::Bounced | Self::Complained)
    }
}

/// What a caller supplies to create a contact.
#[derive(Debug, Clone)]
pub struct ContactDraft {
    pub email: EmailAddress,
    pub salutation: Option<Salutation>,
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub language: Language,
    pub status: ContactStatus,
    /// Values of the tenant's custom attributes (checked against the
    /// definitions by the use case that stores the draft).
    pub attributes: AttributeValues,
}

impl ContactDraft {
    /// A draft with the address alone: no names, German, unconfirmed.
    pub fn new(email: EmailAddress) -> Self {
        Self {
            email,
            salutation: None,
            first_name: None,
            last_name: None,
            language: Language::De,
            status: ContactStatus::Unconfirmed,
            attributes: AttributeValues::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    pub email: EmailAddress,
    #[serde(default)]
    pub salutation: Option<Salutation>,
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    #[serde(default)]
    pub language: Language,
    pub status: ContactStatus,
    /// Values of the tenant's custom attributes; none when empty.
    #[serde(default, skip_serializing_if = "AttributeValues::is_empty")]
    pub attributes: AttributeValues,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Contact {
    /// A new contact with the id the caller derived from its address.
    pub fn new(id: ContactId, draft: ContactDraft, now: DateTime<Utc>) -> Self {
        Self {
            id,
            email: draft.email,
            salutation: draft.salutation,
            first_name: draft.first_name,
            last_name: draft.last_name,
            language: draft.language,
            status: draft.status,
            attributes: draft.attributes,
            created_at: now,
            updated_at: now,
        }
    }

    /// What the name index sorts by: last name, first name (folded for
    /// German order: "Müller" with "Muller", "Straße" as "strasse"), then
    /// the id; contacts without a name come last, by address.
    pub fn name_sort_key(&self) -> String {
        let last = self.last_name.as_ref().map(|n| fold(n.as_str()));
        let first = self.first_name.as_ref().map(|n| fold(n.as_str()));
        match (
            last.filter(|l| !l.is_empty()),
            first.filter(|f| !f.is_empty()),
        ) {
            (None, None) => format!("~|{}|{}", self.email.normalized(), self.id),
            (last, first) => format!(
                "{}|{}|{}",
                last.unwrap_or_default(),
                first.unwrap_or_default(),
                self.id
            ),
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
