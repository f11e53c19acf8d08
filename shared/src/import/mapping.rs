//! From a CSV record to a contact: which column holds what (chosen in the
//! UI, suggested from the header, custom attributes included), what a row's
//! cells mean (German and English spellings of salutations and languages,
//! German numbers and dates), and why a row was not taken, in words for the
//! report.

use serde::{Deserialize, Serialize};

use super::source::Record;
use crate::domain::{
    AttributeDefinition, AttributeKind, AttributeName, AttributeValueError, AttributeValues,
    ContactDraft, ContactStatus, EmailAddress, EmailAddressError, Language, PersonName, Salutation,
};

/// Which column (0-based) holds which field. Only the address is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnMapping {
    pub email: usize,
    #[serde(default)]
    pub salutation: Option<usize>,
    #[serde(default)]
    pub first_name: Option<usize>,
    #[serde(default)]
    pub last_name: Option<usize>,
    #[serde(default)]
    pub language: Option<usize>,
    /// Columns holding values of the tenant's custom attributes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<AttributeColumn>,
}

/// A column (0-based) that holds a custom attribute's values, read as
/// its kind (German numbers and dates understood).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeColumn {
    pub column: usize,
    #[schema(value_type = String, example = "geburtstag")]
    pub name: AttributeName,
    /// The attribute's kind, as the tenant defined it.
    pub kind: AttributeKind,
}

/// A field of the mapping (`first_name`, `attributes.geburtstag`) whose
/// column does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("mapping.{field}: the file has no column {column} (it has {columns})")]
    NoSuchColumn {
        field: String,
        column: usize,
        columns: usize,
    },
    #[error("mapping.{field}: column {column} is mapped to {other} already")]
    ColumnTwice {
        field: String,
        column: usize,
        other: String,
    },
    #[error("mapping.attributes.{name}: no attribute of this name is defined")]
    UnknownAttribute { name: AttributeName },
    #[error("mapping.attributes.{name}: the attribute holds {} values", .kind.as_str())]
    AttributeKind {
        name: AttributeName,
        kind: AttributeKind,
    },
}

impl MappingError {
    /// The request field the error is about, e.g. `mapping.first_name` or
    /// `mapping.attributes.geburtstag`.
    pub fn field(&self) -> String {
        match self {
            Self::NoSuchColumn { field, .. } | Self::ColumnTwice { field, .. } => {
                format!("mapping.{field}")
            }
            Self::UnknownAttribute { name } | Self::AttributeKind { name, .. } => {
                format!("mapping.attributes.{name}")
            }
        }
    }
}

impl ColumnMapping {
    fn columns(&self) -> Vec<(String, Option<usize>)> {
        let standard = [
            ("email", Some(self.email)),
            ("salutation", self.salutation),
            ("first_name", self.first_name),
            ("last_name", self.last_name),
            ("language", self.language),
        ];
        standard
            .into_iter()
            .map(|(field, column)| (field.to_owned(), column))
            .chain(
                self.attributes
                    .iter()
                    .map(|a| (format!("attributes.{}", a.name), Some(a.column))),
            )
            .collect()
    }

    /// Checks the mapping against a file of `columns` columns: every column
    /// exists and none is mapped twice (nor any attribute).
    pub fn check(&self, columns: usize) -> Result<(), MappingError> {
        let mut used: Vec<(usize, String)> = Vec::new();
        for (field, column) in self.columns() {
            let Some(column) = column else { continue };
            if column >= columns {
                return Err(MappingError::NoSuchColumn {
                    field,
                    column,
                    columns,
                });
            }
            let twice = used
                .iter()
                .find(|(c, f)| *c == column || *f == field)
                .map(|(_, other)| other.clone());
            if let Some(other) = twice {
                return Err(MappingError::ColumnTwice {
                    field,
                    column,
                    other,
                });
            }
            used.push((column, field));
        }
        Ok(())
    }

    /// Checks the attribute columns against the tenant's definitions: each
    /// names a defined attribute, with its kind.
    pub fn check_attributes(
        &self,
        definitions: &[AttributeDefinition],
    ) -> Result<(), MappingError> {
        for column in &self.attributes {
            let definition = definitions
                .iter()
                .find(|d| d.name == column.name)
                .ok_or_else(|| MappingError::UnknownAttribute {
                    name: column.name.clone(),
                })?;
            if definition.kind != column.kind {
                return Err(MappingError::AttributeKind {
                    name: column.name.clone(),
                    kind: definition.kind,
                });
            }
        }
        Ok(())
    }

    /// A mapping guessed from the header, as [`ColumnMapping::suggest`],
    /// with each further column whose heading is an attribute's name or
    /// label (in any case) mapped to that attribute.
    pub fn suggest_with(header: &[String], definitions: &[AttributeDefinition]) -> Option<Self> {
        let mut mapping = Self::suggest(header)?;
        for (index, heading) in header.iter().enumerate() {
            let heading = heading.trim().to_lowercase();
            let taken = mapping
                .columns()
                .iter()
                .any(|(_, column)| *column == Some(index));
            if taken || heading.is_empty() {
                continue;
            }
            let found = definitions.iter().find(|d| {
                !mapping.attributes.iter().any(|a| a.name == d.name)
                    && (d.name.as_str() == heading || d.label.trim().to_lowercase() == heading)
            });
            if let Some(definition) = found {
                mapping.attributes.push(AttributeColumn {
                    column: index,
                    name: definition.name.clone(),
                    kind: definition.kind,
                });
            }
        }
        Some(mapping)
    }

    /// A mapping guessed from the header's names ("E-Mail", "Vorname",
    /// "Nachname", "Anrede", "Sprache" and their English names); None
    /// without an address column.
    pub fn suggest(header: &[String]) -> Option<Self> {
        let find = |names: &[&str]| {
            header.iter().position(|h| {
                let h = normalise_header(h);
                names.contains(&h.as_str())
            })
        };
        Some(Self {
            email: find(&[
                "email",
                "emailadresse",
                "mail",
                "mailadresse",
                "emailaddress",
                "mailaddress",
            ])?,
            salutation: find(&["anrede", "salutation", "title", "geschlecht"]),
            first_name: find(&["vorname", "firstname", "givenname", "rufname"]),
            last_name: find(&["nachname", "name", "lastname", "surname", "familienname"]),
            language: find(&["sprache", "language", "korrespondenzsprache"]),
            attributes: Vec::new(),
        })
    }
}

/// "E-Mail-Adresse" → "emailadresse": lower case, letters and digits only.
fn normalise_header(header: &str) -> String {
    header
        .chars()
        .flat_map(char::to_lowercase)
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// Why a row was not taken (or taken differently), for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowProblem {
    /// Every cell is empty.
    Blank,
    /// The row is longer than the reader takes (64 KiB).
    TooLong,
    /// The row has fewer cells than the mapping needs for the address.
    MissingEmail,
    InvalidEmail(EmailAddressError),
    InvalidField {
        field: &'static str,
        reason: &'static str,
    },
    /// A cell of an attribute column is not a value of the attribute's kind.
    InvalidAttribute {
        /// The column, 0-based.
        column: usize,
        name: AttributeName,
        error: AttributeValueError,
    },
    /// The address came earlier in the file.
    DuplicateInFile,
    /// Mode "add": the contact exists already and stays as it is.
    Exists,
    /// Mode "update": there is no contact with this address.
    NotFound,
    /// The contact left or cannot be reached; an import never brings it back.
    Final(ContactStatus),
    /// The address is on the suppression list.
    Suppressed,
    /// Mode "update": the contact changed while the import ran; the
    /// change made meanwhile is kept.
    ChangedMeanwhile,
}

impl RowProblem {
    /// A stable code for the report and the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Blank => "blank",
            Self::TooLong => "too_long",
            Self::MissingEmail => "missing_email",
            Self::InvalidEmail(_) => "invalid_email",
            Self::InvalidField { .. } => "invalid_field",
            Self::InvalidAttribute { .. } => "invalid_attribute",
            Self::DuplicateInFile => "duplicate_in_file",
            Self::Exists => "exists",
            Self::NotFound => "not_found",
            Self::Final(_) => "unsubscribed",
            Self::Suppressed => "suppressed",
            Self::ChangedMeanwhile => "changed_meanwhile",
        }
    }

    /// The reason in German, as the report shows it.
    pub fn reason(&self) -> String {
        match self {
            Self::Blank => "leere Zeile".to_owned(),
            Self::TooLong => "Zeile länger als 64 KB".to_owned(),
            Self::MissingEmail => "keine E-Mail-Adresse in der Zeile".to_owned(),
            Self::InvalidEmail(e) => format!("ungültige E-Mail-Adresse: {}", email_reason(e)),
            Self::InvalidField { field, reason } => {
                format!("{}: {reason}", field_label(field))
            }
            Self::InvalidAttribute {
                column,
                name,
                error,
            } => format!(
                "Spalte {} ({name}): {}",
                column + 1,
                attribute_reason(error)
            ),
            Self::DuplicateInFile => "Adresse steht weiter oben schon in der Datei".to_owned(),
            Self::Exists => "Kontakt gibt es schon (nicht geändert)".to_owned(),
            Self::NotFound => "kein Kontakt mit dieser Adresse (nicht angelegt)".to_owned(),
            Self::Final(status) => format!(
                "Kontakt ist {} und wird durch einen Import nicht wieder angemeldet",
                match status {
                    ContactStatus::Bounced => "unzustellbar",
                    ContactStatus::Complained => "nach einer Beschwerde gesperrt",
                    _ => "abgemeldet",
                }
            ),
            Self::Suppressed => "Adresse steht auf der Sperrliste".to_owned(),
            Self::ChangedMeanwhile => {
                "Kontakt wurde während des Imports geändert (nicht überschrieben)".to_owned()
            }
        }
    }
}

fn field_label(field: &str) -> &'static str {
    match field {
        "salutation" => "Anrede",
        "first_name" => "Vorname",
        "last_name" => "Nachname",
        "language" => "Sprache",
        _ => "Feld",
    }
}

fn attribute_reason(e: &AttributeValueError) -> String {
    match e {
        AttributeValueError::TooLong => "länger als 500 Zeichen".to_owned(),
        AttributeValueError::Control => "enthält Steuerzeichen".to_owned(),
        AttributeValueError::Number => "keine Zahl (etwa 1.234,56 erwartet)".to_owned(),
        AttributeValueError::Date => {
            "kein gültiges Datum (TT.MM.JJJJ oder JJJJ-MM-TT erwartet)".to_owned()
        }
        AttributeValueError::Boolean => "weder ja noch nein".to_owned(),
        AttributeValueError::WrongKind(kind) => {
            format!("kein Wert der Art {}", kind.as_str())
        }
    }
}

fn email_reason(e: &EmailAddressError) -> &'static str {
    match e {
        EmailAddressError::Empty => "leer",
        EmailAddressError::TooLong => "länger als 254 Zeichen",
        EmailAddressError::LocalPartTooLong => "Teil vor dem @ länger als 64 Zeichen",
        EmailAddressError::Quoted => "Anführungszeichen vor dem @",
        EmailAddressError::IpLiteral => "IP-Adresse statt Domain",
        EmailAddressError::NoDotInDomain => "Domain ohne Punkt",
        EmailAddressError::NonAsciiLocalPart => "Umlaute oder Sonderzeichen vor dem @",
        EmailAddressError::InvalidDomain => "ungültige Domain",
        EmailAddressError::Invalid => "keine gültige Adresse",
    }
}

/// A salutation as institutes write it: Frau/Herr/Divers and the usual
/// abbreviations and English words; empty is none.
pub fn parse_salutation(cell: &str) -> Result<Option<Salutation>, RowProblem> {
    let cell = cell.trim().trim_end_matches('.').to_lowercase();
    Ok(match cell.as_str() {
        "" => None,
        "frau" | "fr" | "f" | "w" | "weiblich" | "female" | "ms" | "mrs" => {
            Some(Salutation::Female)
        }
        "herr" | "hr" | "m" | "männlich" | "maennlich" | "male" | "mr" => Some(Salutation::Male),
        "divers" | "d" | "x" | "diverse" | "mx" => Some(Salutation::Diverse),
        _ => {
            return Err(RowProblem::InvalidField {
                field: "salutation",
                reason: "Frau, Herr oder Divers erwartet",
            });
        }
    })
}

/// A language as a code or a word, German or English; empty is German.
pub fn parse_language(cell: &str) -> Result<Language, RowProblem> {
    let cell = cell.trim().to_lowercase();
    match cell.as_str() {
        "" | "de" | "deu" | "ger" | "deutsch" | "german" => Ok(Language::De),
        "en" | "eng" | "englisch" | "english" => Ok(Language::En),
        _ => Err(RowProblem::InvalidField {
            field: "language",
            reason: "de oder en erwartet",
        }),
    }
}

fn name(cell: Option<&str>, field: &'static str) -> Result<Option<PersonName>, RowProblem> {
    let Some(cell) = cell.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    PersonName::parse(cell)
        .map(Some)
        .map_err(|reason| RowProblem::InvalidField {
            field,
            reason: match reason {
                "contains control characters" => "enthält Steuerzeichen",
                _ => "länger als 100 Zeichen",
            },
        })
}

/// The contact a row describes, new ones starting as `status`.
pub fn draft_from(
    record: &Record,
    mapping: &ColumnMapping,
    status: ContactStatus,
) -> Result<ContactDraft, RowProblem> {
    if record.too_long() {
        return Err(RowProblem::TooLong);
    }
    if record.is_blank() {
        return Err(RowProblem::Blank);
    }
    let cell = |column: Option<usize>| column.and_then(|c| record.get(c));
    let raw = record.get(mapping.email).ok_or(RowProblem::MissingEmail)?;
    let email = EmailAddress::parse(raw).map_err(RowProblem::InvalidEmail)?;
    let mut attributes = AttributeValues::new();
    for column in &mapping.attributes {
        let value = column
            .kind
            .read_text(record.get(column.column).unwrap_or(""))
            .map_err(|error| RowProblem::InvalidAttribute {
                column: column.column,
                name: column.name.clone(),
                error,
            })?;
        // An empty cell is no value: an update keeps what is stored.
        if let Some(value) = value {
            attributes.insert(column.name.clone(), value);
        }
    }
    Ok(ContactDraft {
        email,
        salutation: parse_salutation(cell(mapping.salutation).unwrap_or(""))?,
        first_name: name(cell(mapping.first_name), "first_name")?,
        last_name: name(cell(mapping.last_name), "last_name")?,
        language: parse_language(cell(mapping.language).unwrap_or(""))?,
        status,
        attributes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::source::{RecordReader, Separator, TextEncoding};

    fn records(csv: &str) -> Vec<Record> {
        let mut reader =
            RecordReader::new(csv.as_bytes(), TextEncoding::Utf8, Separator::Semicolon);
        let mut out = Vec::new();
        loop {
            let mut record = Record::new();
            if !reader.read(&mut record).unwrap() {
                return out;
            }
            out.push(record);
        }
    }

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_german_excel_header_suggests_every_field() {
        let mapping = ColumnMapping::suggest(&header(&[
            "Kundennummer",
            "Anrede",
            "Vorname",
            "Nachname",
            "E-Mail-Adresse",
            "Sprache",
        ]))
        .unwrap();
        assert_eq!(
            mapping,
            ColumnMapping {
                email: 4,
                salutation: Some(1),
                first_name: Some(2),
                last_name: Some(3),
                language: Some(5),
                attributes: Vec::new(),
            }
        );
        assert_eq!(
            ColumnMapping::suggest(&header(&["First name", "Email"])).map(|m| m.email),
            Some(1)
        );
        assert_eq!(ColumnMapping::suggest(&header(&["Vorname", "Ort"])), None);
    }

    #[test]
    fn a_mapping_names_the_field_whose_column_is_missing_or_taken() {
        let mapping = ColumnMapping {
            email: 0,
            salutation: None,
            first_name: Some(3),
            last_name: None,
            language: None,
            attributes: Vec::new(),
        };
        let err = mapping.check(3).unwrap_err();
        assert_eq!(err.field(), "mapping.first_name");
        let twice = ColumnMapping {
            last_name: Some(0),
            ..mapping.clone()
        };
        assert_eq!(twice.check(5).unwrap_err().field(), "mapping.last_name");
        assert!(mapping.check(4).is_ok());
    }

    #[test]
    fn a_row_becomes_a_draft_with_german_spellings_understood() {
        let rows =
            records("Frau;Erika;Mustermann;Erika@Example.DE;Deutsch\nHr.;Max;;max@example.de;EN\n");
        let mapping = ColumnMapping {
            email: 3,
            salutation: Some(0),
            first_name: Some(1),
            last_name: Some(2),
            language: Some(4),
            attributes: Vec::new(),
        };
        let erika = draft_from(&rows[0], &mapping, ContactStatus::Subscribed).unwrap();
        assert_eq!(erika.email.as_str(), "Erika@example.de");
        assert_eq!(erika.salutation, Some(Salutation::Female));
        assert_eq!(erika.last_name.unwrap().as_str(), "Mustermann");
        assert_eq!(erika.language, Language::De);
        assert_eq!(erika.status, ContactStatus::Subscribed);
        let max = draft_from(&rows[1], &mapping, ContactStatus::Subscribed).unwrap();
        assert_eq!(max.salutation, Some(Salutation::Male));
        assert_eq!(max.last_name, None, "an empty cell is no name");
        assert_eq!(max.language, Language::En);
    }

    #[test]
    fn each_bad_row_gets_its_reason() {
        let rows = records(concat!(
            ";;\n",
            "Erika;nicht-gueltig\n",
            "Erika\n",
            "Erika;\"erika@example.de\r\nBcc: alle@example.de\"\n",
            "Erika;erika@example.de;Fräulein\n",
            "Erika\u{7};erika@example.de\n",
        ));
        let mapping = ColumnMapping {
            email: 1,
            salutation: Some(2),
            first_name: Some(0),
            last_name: None,
            language: None,
            attributes: Vec::new(),
        };
        let problems: Vec<&str> = rows
            .iter()
            .map(|r| {
                draft_from(r, &mapping, ContactStatus::Subscribed)
                    .unwrap_err()
                    .code()
            })
            .collect();
        assert_eq!(
            problems,
            [
                "blank",
                "invalid_email",
                "missing_email",
                "invalid_email",
                "invalid_field",
                "invalid_field"
            ]
        );
        let reason = draft_from(&rows[4], &mapping, ContactStatus::Subscribed)
            .unwrap_err()
            .reason();
        assert_eq!(reason, "Anrede: Frau, Herr oder Divers erwartet");
    }

    #[test]
    fn a_formula_in_a_name_is_kept_as_text() {
        let rows = records("=HYPERLINK(\"http://x\");a@example.de\n");
        let mapping = ColumnMapping {
            email: 1,
            salutation: None,
            first_name: Some(0),
            last_name: None,
            language: None,
            attributes: Vec::new(),
        };
        let draft = draft_from(&rows[0], &mapping, ContactStatus::Subscribed).unwrap();
        assert_eq!(
            draft.first_name.unwrap().as_str(),
            "=HYPERLINK(\"http://x\")"
        );
    }

    fn definition(name: &str, label: &str, kind: AttributeKind) -> AttributeDefinition {
        AttributeDefinition {
            name: AttributeName::parse(name).unwrap(),
            label: label.to_owned(),
            kind,
            created_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_heading_that_is_an_attributes_name_or_label_suggests_that_attribute() {
        let definitions = [
            definition("kundennummer", "Kunden-Nr.", AttributeKind::Text),
            definition("geburtstag", "Geburtsdatum", AttributeKind::Date),
            definition("vip", "Premiumkunde", AttributeKind::Boolean),
        ];
        let mapping = ColumnMapping::suggest_with(
            &header(&["E-Mail", "KUNDENNUMMER", "geburtsdatum", "Ort", "Nachname"]),
            &definitions,
        )
        .unwrap();
        assert_eq!(mapping.last_name, Some(4));
        assert_eq!(
            mapping.attributes,
            [
                AttributeColumn {
                    column: 1,
                    name: AttributeName::parse("kundennummer").unwrap(),
                    kind: AttributeKind::Text,
                },
                AttributeColumn {
                    column: 2,
                    name: AttributeName::parse("geburtstag").unwrap(),
                    kind: AttributeKind::Date,
                },
            ]
        );
        assert!(mapping.check(5).is_ok());
        assert!(mapping.check_attributes(&definitions).is_ok());
        // Without definitions nothing but the standard fields is suggested.
        let plain = ColumnMapping::suggest(&header(&["E-Mail", "Kundennummer"])).unwrap();
        assert!(plain.attributes.is_empty());
    }

    #[test]
    fn an_attribute_column_must_name_a_defined_attribute_of_its_kind_once() {
        let definitions = [definition("geburtstag", "Geburtstag", AttributeKind::Date)];
        let column = |name: &str, column: usize, kind| AttributeColumn {
            column,
            name: AttributeName::parse(name).unwrap(),
            kind,
        };
        let mut mapping = ColumnMapping::suggest(&header(&["E-Mail"])).unwrap();
        mapping.attributes = vec![column("lieblingsfarbe", 1, AttributeKind::Text)];
        let unknown = mapping.check_attributes(&definitions).unwrap_err();
        assert_eq!(unknown.field(), "mapping.attributes.lieblingsfarbe");
        mapping.attributes = vec![column("geburtstag", 1, AttributeKind::Number)];
        let kind = mapping.check_attributes(&definitions).unwrap_err();
        assert_eq!(kind.field(), "mapping.attributes.geburtstag");
        mapping.attributes = vec![
            column("geburtstag", 1, AttributeKind::Date),
            column("geburtstag", 2, AttributeKind::Date),
        ];
        assert_eq!(
            mapping.check(3).unwrap_err().field(),
            "mapping.attributes.geburtstag"
        );
        mapping.attributes = vec![column("geburtstag", 0, AttributeKind::Date)];
        assert_eq!(
            mapping.check(3).unwrap_err().field(),
            "mapping.attributes.geburtstag",
            "the address column is taken"
        );
    }

    #[test]
    fn attribute_cells_read_german_numbers_and_dates_and_a_bad_one_names_its_column() {
        let rows = records(concat!(
            "a@example.de;1.234,56;17.05.1980;ja\n",
            "b@example.de;;;\n",
            "c@example.de;12;31.02.1980;nein\n",
        ));
        let mut mapping = ColumnMapping::suggest(&header(&["E-Mail"])).unwrap();
        mapping.attributes = [
            ("volumen", AttributeKind::Number),
            ("geburtstag", AttributeKind::Date),
            ("vip", AttributeKind::Boolean),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (name, kind))| AttributeColumn {
            column: i + 1,
            name: AttributeName::parse(name).unwrap(),
            kind,
        })
        .collect();
        let a = draft_from(&rows[0], &mapping, ContactStatus::Subscribed).unwrap();
        let values: Vec<String> = a.attributes.values().map(|v| v.display_de()).collect();
        assert_eq!(values, ["17.05.1980", "ja", "1234,56"]);
        let b = draft_from(&rows[1], &mapping, ContactStatus::Subscribed).unwrap();
        assert!(b.attributes.is_empty(), "empty cells are no values");
        let bad = draft_from(&rows[2], &mapping, ContactStatus::Subscribed).unwrap_err();
        assert_eq!(bad.code(), "invalid_attribute");
        assert_eq!(
            bad.reason(),
            "Spalte 3 (geburtstag): kein gültiges Datum (TT.MM.JJJJ oder JJJJ-MM-TT erwartet)"
        );
    }
}
