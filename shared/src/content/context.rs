//! What a template sees of one recipient: the contact's fields, its custom
//! attributes by name, a ready greeting, the unsubscribe link and the
//! institute's name.
//!
//! An empty field is left out, never set to an empty string or null: then
//! `{{ contact.first_name | default("Kundin, Kunde") }}` fills it (minijinja's
//! `default` replaces undefined values only). Numbers and dates read the way
//! a German reader expects them (`1.234,5` as `1234,5`, `31.12.2024`); yes/no
//! fields stay booleans, so `{% if contact.attributes.premium %}` works.

use serde_json::{Map, Value as Json};

use crate::domain::{AttributeValue, Contact, Language, Salutation};

/// The names a template may read, besides a contact's custom attributes
/// (`contact.attributes.<name>`).
pub const STANDARD_FIELDS: [&str; 9] = [
    "contact.email",
    "contact.salutation",
    "contact.first_name",
    "contact.last_name",
    "contact.language",
    "contact.greeting",
    "contact.attributes",
    "unsubscribe_url",
    "institute.name",
];

/// The context of one recipient.
pub fn for_contact(contact: &Contact, unsubscribe_url: &str, institute: &str) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(json_for_contact(
        contact,
        unsubscribe_url,
        institute,
    )))
}

/// The same context as JSON (what the preview shows as "fields").
pub fn json_for_contact(contact: &Contact, unsubscribe_url: &str, institute: &str) -> Json {
    let mut fields = Map::new();
    fields.insert("email".into(), contact.email.as_str().into());
    let first = contact.first_name.as_ref().map(|n| n.as_str());
    let last = contact.last_name.as_ref().map(|n| n.as_str());
    if let Some(word) = contact
        .salutation
        .and_then(|s| salutation_word(s, contact.language))
    {
        fields.insert("salutation".into(), word.into());
    }
    if let Some(first) = first {
        fields.insert("first_name".into(), first.into());
    }
    if let Some(last) = last {
        fields.insert("last_name".into(), last.into());
    }
    let language = match contact.language {
        Language::De => "de",
        Language::En => "en",
    };
    fields.insert("language".into(), language.into());
    fields.insert(
        "greeting".into(),
        greeting(contact.salutation, first, last, contact.language).into(),
    );
    let attributes: Map<String, Json> = contact
        .attributes
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), attribute_value(value)))
        .collect();
    fields.insert("attributes".into(), Json::Object(attributes));
    serde_json::json!({
        "contact": fields,
        "unsubscribe_url": unsubscribe_url,
        "institute": { "name": institute },
    })
}

fn attribute_value(value: &AttributeValue) -> Json {
    match value {
        AttributeValue::Boolean(b) => Json::Bool(*b),
        other => Json::String(other.display_de()),
    }
}

fn salutation_word(salutation: Salutation, language: Language) -> Option<&'static str> {
    match (salutation, language) {
        (Salutation::Female, Language::De) => Some("Frau"),
        (Salutation::Male, Language::De) => Some("Herr"),
        (Salutation::Female, Language::En) => Some("Ms"),
        (Salutation::Male, Language::En) => Some("Mr"),
        (Salutation::Diverse, _) => None,
    }
}

/// The opening line without its comma: "Sehr geehrte Frau Müller", "Guten
/// Tag Alex Schmidt", "Sehr geehrte Damen und Herren" when the name is not
/// known.
pub fn greeting(
    salutation: Option<Salutation>,
    first: Option<&str>,
    last: Option<&str>,
    language: Language,
) -> String {
    let full = match (first, last) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (None, Some(l)) => Some(l.to_owned()),
        _ => None,
    };
    match (language, salutation, last, full) {
        (Language::De, Some(Salutation::Female), Some(l), _) => format!("Sehr geehrte Frau {l}"),
        (Language::De, Some(Salutation::Male), Some(l), _) => format!("Sehr geehrter Herr {l}"),
        (Language::De, _, _, Some(full)) => format!("Guten Tag {full}"),
        (Language::De, _, _, None) => "Sehr geehrte Damen und Herren".to_owned(),
        (Language::En, Some(Salutation::Female), Some(l), _) => format!("Dear Ms {l}"),
        (Language::En, Some(Salutation::Male), Some(l), _) => format!("Dear Mr {l}"),
        (Language::En, _, _, Some(full)) => format!("Dear {full}"),
        (Language::En, _, _, None) => "Dear Sir or Madam".to_owned(),
    }
}

/// Whether a merge field a template reads is one EMMA fills: a standard
/// field, a prefix of one (`contact`), or an attribute the tenant defined.
pub fn is_known(field: &str, attributes: &[&str]) -> bool {
    if STANDARD_FIELDS
        .iter()
        .any(|known| *known == field || known.starts_with(&format!("{field}.")))
    {
        return true;
    }
    match field.strip_prefix("contact.attributes.") {
        Some(name) => attributes.contains(&name.split('.').next().unwrap_or(name)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::template::{TemplateKind, TemplateSource, compile};
    use crate::domain::{
        AttributeKind, AttributeName, ContactDraft, ContactId, ContactStatus, EmailAddress,
        PersonName,
    };

    fn contact(first: Option<&str>, last: Option<&str>, salutation: Option<Salutation>) -> Contact {
        let mut draft = ContactDraft::new(EmailAddress::parse("kunde@example.de").unwrap());
        draft.first_name = first.map(|f| PersonName::parse(f).unwrap());
        draft.last_name = last.map(|l| PersonName::parse(l).unwrap());
        draft.salutation = salutation;
        draft.status = ContactStatus::Subscribed;
        Contact::new(
            ContactId::parse(&"ab".repeat(16)).unwrap(),
            draft,
            chrono::Utc::now(),
        )
    }

    fn render(body: &str, contact: &Contact) -> String {
        let compiled = compile(&TemplateSource {
            kind: TemplateKind::Html,
            subject: "s".into(),
            body: body.into(),
            text: Some("t".into()),
        })
        .unwrap();
        compiled
            .render(&for_contact(
                contact,
                "https://emma.example/abmelden/x",
                "Sparkasse",
            ))
            .unwrap()
            .html
    }

    #[test]
    fn an_empty_field_is_left_out_so_a_default_fills_it() {
        let anonymous = contact(None, None, None);
        assert_eq!(
            render(
                r#"Hallo {{ contact.first_name | default("Kundin, Kunde") }}"#,
                &anonymous
            ),
            "Hallo Kundin, Kunde"
        );
        let named = contact(Some("Anna"), Some("Müller"), Some(Salutation::Female));
        assert_eq!(
            render(
                r#"Hallo {{ contact.first_name | default("Kundin, Kunde") }}"#,
                &named
            ),
            "Hallo Anna"
        );
    }

    #[test]
    fn the_greeting_follows_salutation_name_and_language() {
        assert_eq!(
            greeting(
                Some(Salutation::Female),
                Some("Anna"),
                Some("Müller"),
                Language::De
            ),
            "Sehr geehrte Frau Müller"
        );
        assert_eq!(
            greeting(Some(Salutation::Male), None, Some("Schmidt"), Language::De),
            "Sehr geehrter Herr Schmidt"
        );
        assert_eq!(
            greeting(
                Some(Salutation::Diverse),
                Some("Alex"),
                Some("Kim"),
                Language::De
            ),
            "Guten Tag Alex Kim"
        );
        assert_eq!(
            greeting(Some(Salutation::Female), Some("Anna"), None, Language::De),
            "Sehr geehrte Damen und Herren"
        );
        assert_eq!(
            greeting(Some(Salutation::Male), None, Some("Smith"), Language::En),
            "Dear Mr Smith"
        );
        let person = contact(Some("Anna"), Some("Müller"), Some(Salutation::Female));
        assert_eq!(
            render("{{ contact.greeting }},", &person),
            "Sehr geehrte Frau Müller,"
        );
    }

    #[test]
    fn attributes_are_read_by_name_in_the_way_a_german_reader_expects() {
        let mut person = contact(Some("Anna"), None, None);
        person.attributes.insert(
            AttributeName::parse("guthaben").unwrap(),
            AttributeKind::Number.read_text("1.234,5").unwrap().unwrap(),
        );
        person.attributes.insert(
            AttributeName::parse("premium").unwrap(),
            AttributeValue::Boolean(true),
        );
        assert_eq!(
            render(
                "{{ contact.attributes.guthaben }} {% if contact.attributes.premium %}P{% endif %}\
                 {% if contact.attributes.fehlt %}F{% endif %}",
                &person
            ),
            "1234,5 P"
        );
    }

    #[test]
    fn only_standard_fields_and_defined_attributes_are_known() {
        let defined = ["kundennummer"];
        for known in [
            "contact",
            "contact.first_name",
            "contact.attributes",
            "contact.attributes.kundennummer",
            "unsubscribe_url",
            "institute.name",
        ] {
            assert!(is_known(known, &defined), "{known}");
        }
        for unknown in [
            "contact.vorname",
            "contact.attributes.iban",
            "kontakt.first_name",
            "unsubscribe",
            "institute.iban",
        ] {
            assert!(!is_known(unknown, &defined), "{unknown}");
        }
    }
}
