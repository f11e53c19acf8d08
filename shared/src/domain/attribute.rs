//! Custom contact attributes: the fields a tenant defines beyond the
//! standard ones ("Kundennummer", "Geburtstag", "Anlagevolumen",
//! "Privatkunde"), each of one kind, and the values contacts hold for them.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// How many attributes a tenant may define.
pub const MAX_ATTRIBUTES: usize = 50;

/// The longest text value an attribute holds, in characters.
pub const MAX_TEXT_CHARS: usize = 500;

/// The kind of values an attribute holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttributeKind {
    Text,
    Number,
    Date,
    Boolean,
}

impl AttributeKind {
    pub const ALL: [Self; 4] = [Self::Text, Self::Number, Self::Date, Self::Boolean];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "number",
            Self::Date => "date",
            Self::Boolean => "boolean",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// Reads a value of this kind as people write it in a form or a German
    /// Excel export: numbers as `1.234,56` or `1234.56`, dates as
    /// `31.12.2024` or `2024-12-31`, booleans as ja/nein, true/false, 1/0
    /// or x. A blank text is no value (`Ok(None)`).
    pub fn read_text(self, raw: &str) -> Result<Option<AttributeValue>, AttributeValueError> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let value = match self {
            Self::Text => AttributeValue::text(text)?,
            Self::Number => AttributeValue::Number(read_number(text)?),
            Self::Date => AttributeValue::Date(read_date(text)?),
            Self::Boolean => AttributeValue::Boolean(read_boolean(text)?),
        };
        Ok(Some(value))
    }

    /// Reads a value of this kind from JSON: a string for text and dates
    /// (`YYYY-MM-DD`), a number, a boolean; `null` is no value.
    pub fn read_json(
        self,
        json: &serde_json::Value,
    ) -> Result<Option<AttributeValue>, AttributeValueError> {
        use serde_json::Value as J;
        match (self, json) {
            (_, J::Null) => Ok(None),
            (Self::Text, J::String(s)) => Ok(Some(AttributeValue::text(s)?)),
            (Self::Number, J::Number(n)) => n
                .as_f64()
                .and_then(Number::new)
                .map(|n| Some(AttributeValue::Number(n)))
                .ok_or(AttributeValueError::Number),
            (Self::Date, J::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|d| Some(AttributeValue::Date(d)))
                .map_err(|_| AttributeValueError::Date),
            (Self::Boolean, J::Bool(b)) => Ok(Some(AttributeValue::Boolean(*b))),
            (kind, _) => Err(AttributeValueError::WrongKind(kind)),
        }
    }
}

/// A finite number (no NaN, no infinity), so values compare and sort.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Number(f64);

impl Number {
    pub fn new(value: f64) -> Option<Self> {
        value.is_finite().then_some(Self(value))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl Eq for Number {}

impl TryFrom<f64> for Number {
    type Error = AttributeValueError;
    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Self::new(value).ok_or(AttributeValueError::Number)
    }
}

impl From<Number> for f64 {
    fn from(value: Number) -> Self {
        value.0
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A value a contact holds for an attribute. Stored tagged with its kind
/// (`{"date": "2024-12-31"}`), so a value reads back as what it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeValue {
    Text(String),
    Number(Number),
    Date(NaiveDate),
    Boolean(bool),
}

impl AttributeValue {
    /// A text value: trimmed, at most [`MAX_TEXT_CHARS`] characters, no
    /// control characters.
    pub fn text(raw: &str) -> Result<Self, AttributeValueError> {
        let text = raw.trim();
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(AttributeValueError::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(AttributeValueError::Control);
        }
        Ok(Self::Text(text.to_owned()))
    }

    pub fn kind(&self) -> AttributeKind {
        match self {
            Self::Text(_) => AttributeKind::Text,
            Self::Number(_) => AttributeKind::Number,
            Self::Date(_) => AttributeKind::Date,
            Self::Boolean(_) => AttributeKind::Boolean,
        }
    }

    /// The value as plain JSON: a string, a number, a boolean; dates as
    /// `YYYY-MM-DD`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Text(s) => serde_json::Value::String(s.clone()),
            Self::Number(n) => serde_json::Number::from_f64(n.get())
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Self::Date(d) => serde_json::Value::String(d.format("%Y-%m-%d").to_string()),
            Self::Boolean(b) => serde_json::Value::Bool(*b),
        }
    }

    /// The value as a German reader expects it: `1234,5`, `31.12.2024`,
    /// `ja`/`nein`.
    pub fn display_de(&self) -> String {
        match self {
            Self::Text(s) => s.clone(),
            Self::Number(n) => n.to_string().replace('.', ","),
            Self::Date(d) => d.format("%d.%m.%Y").to_string(),
            Self::Boolean(true) => "ja".to_owned(),
            Self::Boolean(false) => "nein".to_owned(),
        }
    }
}

/// Why a value does not fit its attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AttributeValueError {
    #[error("is longer than 500 characters")]
    TooLong,
    #[error("contains control characters")]
    Control,
    #[error("is not a number")]
    Number,
    #[error("is not a date (DD.MM.YYYY or YYYY-MM-DD)")]
    Date,
    #[error("is not yes or no (ja/nein, true/false, 1/0)")]
    Boolean,
    #[error("is not a {} value", .0.as_str())]
    WrongKind(AttributeKind),
}

fn read_number(text: &str) -> Result<Number, AttributeValueError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    // German: `.` groups thousands and `,` is the decimal mark; with a
    // comma present, the dots are grouping. Without one, several dots are
    // grouping (`1.234.567`), and so is a single dot between one to three
    // leading digits and exactly three more (`2.000`, as German Excel
    // writes two thousand); any other single dot is a decimal point
    // (`1234.56`, `0.125`).
    let normalized = if compact.contains(',') || compact.matches('.').count() > 1 {
        compact.replace('.', "").replace(',', ".")
    } else if is_one_thousands_group(&compact) {
        compact.replace('.', "")
    } else {
        compact
    };
    let ok_chars = normalized
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'));
    if !ok_chars {
        return Err(AttributeValueError::Number);
    }
    normalized
        .parse::<f64>()
        .ok()
        .and_then(Number::new)
        .ok_or(AttributeValueError::Number)
}

/// `2.000`, `-12.500`: one to three digits (not a lone leading zero), a
/// dot, exactly three digits.
fn is_one_thousands_group(text: &str) -> bool {
    let unsigned = text.trim_start_matches(['-', '+']);
    let Some((head, tail)) = unsigned.split_once('.') else {
        return false;
    };
    (1..=3).contains(&head.len())
        && head != "0"
        && tail.len() == 3
        && head.bytes().chain(tail.bytes()).all(|b| b.is_ascii_digit())
}

fn read_date(text: &str) -> Result<NaiveDate, AttributeValueError> {
    ["%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
        .ok_or(AttributeValueError::Date)
}

fn read_boolean(text: &str) -> Result<bool, AttributeValueError> {
    match text.to_lowercase().as_str() {
        "ja" | "j" | "yes" | "y" | "true" | "wahr" | "1" | "x" => Ok(true),
        "nein" | "n" | "no" | "false" | "falsch" | "0" => Ok(false),
        _ => Err(AttributeValueError::Boolean),
    }
}

/// The name an attribute is known by in the API, in templates
/// (`{{ contact.attributes.kundennummer }}`) and in CSV headers: 1 to 40
/// characters, lower-case ASCII letters, digits and `_`, starting with a
/// letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AttributeName(String);

/// The standard fields an attribute may not shadow.
const RESERVED: [&str; 9] = [
    "id",
    "email",
    "salutation",
    "first_name",
    "last_name",
    "language",
    "status",
    "created_at",
    "updated_at",
];

impl AttributeName {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let ok_shape = (1..=40).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok_shape {
            return Err(
                "must be 1 to 40 lower-case letters, digits or '_', starting with a letter",
            );
        }
        if RESERVED.contains(&raw) {
            return Err("is the name of a standard contact field");
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AttributeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AttributeName {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AttributeName> for String {
    fn from(value: AttributeName) -> Self {
        value.0
    }
}

/// A tenant's definition of an attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeDefinition {
    pub name: AttributeName,
    /// What the UI shows ("Kundennummer").
    pub label: String,
    pub kind: AttributeKind,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The values a contact holds, by attribute name.
pub type AttributeValues = BTreeMap<AttributeName, AttributeValue>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_and_plain_numbers_read_alike() {
        for (raw, want) in [
            ("1.234,56", 1234.56),
            ("1234,56", 1234.56),
            ("1234.56", 1234.56),
            ("1.234.567", 1_234_567.0),
            ("2.000", 2000.0),
            ("-12.500", -12_500.0),
            ("0.125", 0.125),
            ("12.5", 12.5),
            ("1234.567", 1234.567),
            ("-3", -3.0),
            (" 42 ", 42.0),
        ] {
            let got = AttributeKind::Number.read_text(raw).unwrap();
            assert_eq!(
                got,
                Some(AttributeValue::Number(Number::new(want).unwrap())),
                "{raw}"
            );
        }
        for bad in ["zwölf", "1,2,3", "NaN", "inf", "1e400"] {
            assert_eq!(
                AttributeKind::Number.read_text(bad),
                Err(AttributeValueError::Number),
                "{bad}"
            );
        }
    }

    #[test]
    fn dates_read_in_german_and_iso_form() {
        let want = NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
        for raw in ["31.12.2024", "2024-12-31"] {
            assert_eq!(
                AttributeKind::Date.read_text(raw).unwrap(),
                Some(AttributeValue::Date(want))
            );
        }
        assert_eq!(
            AttributeKind::Date.read_text("31.02.2024"),
            Err(AttributeValueError::Date)
        );
    }

    #[test]
    fn booleans_read_in_german_and_english_and_blank_is_no_value() {
        assert_eq!(
            AttributeKind::Boolean.read_text("Ja").unwrap(),
            Some(AttributeValue::Boolean(true))
        );
        assert_eq!(
            AttributeKind::Boolean.read_text("0").unwrap(),
            Some(AttributeValue::Boolean(false))
        );
        assert_eq!(AttributeKind::Boolean.read_text("  ").unwrap(), None);
        assert_eq!(
            AttributeKind::Boolean.read_text("vielleicht"),
            Err(AttributeValueError::Boolean)
        );
    }

    #[test]
    fn a_value_keeps_its_kind_through_the_store_format() {
        let date = AttributeValue::Date(NaiveDate::from_ymd_opt(1980, 5, 17).unwrap());
        let json = serde_json::to_string(&date).unwrap();
        assert_eq!(json, r#"{"date":"1980-05-17"}"#);
        assert_eq!(serde_json::from_str::<AttributeValue>(&json).unwrap(), date);
        assert!(serde_json::from_str::<AttributeValue>(r#"{"number":null}"#).is_err());
    }

    #[test]
    fn json_values_must_match_the_kind() {
        assert_eq!(
            AttributeKind::Date.read_json(&serde_json::json!(12)),
            Err(AttributeValueError::WrongKind(AttributeKind::Date))
        );
        assert_eq!(
            AttributeKind::Number
                .read_json(&serde_json::json!(12.5))
                .unwrap(),
            Some(AttributeValue::Number(Number::new(12.5).unwrap()))
        );
        assert_eq!(
            AttributeKind::Text
                .read_json(&serde_json::Value::Null)
                .unwrap(),
            None
        );
    }

    #[test]
    fn attribute_names_are_slugs_that_do_not_shadow_standard_fields() {
        assert!(AttributeName::parse("kundennummer").is_ok());
        assert!(AttributeName::parse("anlage_2024").is_ok());
        for bad in [
            "",
            "Kundennummer",
            "1st",
            "email",
            "a-b",
            "a#b",
            &"x".repeat(41),
        ] {
            assert!(AttributeName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_values_refuse_control_characters_and_overlong_text() {
        assert_eq!(
            AttributeValue::text("a\r\nBcc: x"),
            Err(AttributeValueError::Control)
        );
        assert_eq!(
            AttributeValue::text(&"ä".repeat(501)),
            Err(AttributeValueError::TooLong)
        );
    }
}
