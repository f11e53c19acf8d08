//! From a CSV record to a contact: which column holds what (chosen in the
//! UI, suggested from the header), what a row's cells mean (German and
//! English spellings of salutations and languages), and why a row was not
//! taken, in words for the report.

use serde::{Deserialize, Serialize};

use super::source::Record;
use crate::domain::{
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
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("mapping.{field}: the file has no column {column} (it has {columns})")]
    NoSuchColumn {
        field: &'static str,
        column: usize,
        columns: usize,
    },
    #[error("mapping.{field}: column {column} is mapped to {other} already")]
    ColumnTwice {
        field: &'static str,
        column: usize,
        other: &'static str,
    },
}

impl MappingError {
    /// The request field the error is about, e.g. `mapping.first_name`.
    pub fn field(&self) -> String {
        match self {
            Self::NoSuchColumn { field, .. } | Self::ColumnTwice { field, .. } => {
                format!("mapping.{field}")
            }
        }
    }
}

impl ColumnMapping {
    fn columns(&self) -> [(&'static str, Option<usize>); 5] {
        [
            ("email", Some(self.email)),
            ("salutation", self.salutation),
            ("first_name", self.first_name),
            ("last_name", self.last_name),
            ("language", self.language),
        ]
    }

    /// Checks the mapping against a file of `columns` columns: every column
    /// exists and none is mapped twice.
    pub fn check(&self, columns: usize) -> Result<(), MappingError> {
        let mut used: Vec<(usize, &'static str)> = Vec::new();
        for (field, column) in self.columns() {
            let Some(column) = column else { continue };
            if column >= columns {
                return Err(MappingError::NoSuchColumn {
                    field,
                    column,
                    columns,
                });
            }
            if let Some((_, other)) = used.iter().find(|(c, _)| *c == column) {
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
    Ok(ContactDraft {
        email,
        salutation: parse_salutation(cell(mapping.salutation).unwrap_or(""))?,
        first_name: name(cell(mapping.first_name), "first_name")?,
        last_name: name(cell(mapping.last_name), "last_name")?,
        language: parse_language(cell(mapping.language).unwrap_or(""))?,
        status,
        attributes: Default::default(),
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
        };
        let draft = draft_from(&rows[0], &mapping, ContactStatus::Subscribed).unwrap();
        assert_eq!(
            draft.first_name.unwrap().as_str(),
            "=HYPERLINK(\"http://x\")"
        );
    }
}
