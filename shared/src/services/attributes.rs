//! Custom contact attributes of a tenant: the definitions (name, label,
//! kind; at most [`MAX_ATTRIBUTES`]) and the reading of values against them,
//! from JSON (the API) and from form text (the UI).
//!
//! A definition's name and kind never change; only its label does.
//! Deleting a definition leaves the values contacts hold for it in the
//! store, but from then on they are not shown, exported or checked: every
//! reader goes through [`visible`], which keeps only values whose attribute
//! is defined with the kind the value has. The next change of a contact's
//! attributes drops such stale values for good (see [`apply`]), so a
//! definition created again under the same name, even of another kind,
//! never sees old values of the wrong kind.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::App;
use crate::domain::{
    AttributeDefinition, AttributeKind, AttributeName, AttributeValue, AttributeValueError,
    AttributeValues, MAX_ATTRIBUTES, TenantId, short_text,
};
use crate::ports::store::{Item, PutCondition, Query, StoreError, keys};
use crate::services::tenants::{self, TenantError};

/// A change of a contact's attribute values: `Some` sets a value, `None`
/// removes it; attributes not named stay as they are.
pub type AttributeChanges = BTreeMap<AttributeName, Option<AttributeValue>>;

/// A value that does not fit the tenant's definitions: the attribute is
/// unknown, or the value is not of its kind. Names the field
/// `attributes.<name>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("attributes.{name}: {reason}")]
pub struct ValueProblem {
    /// The attribute's name as it was given (it may not be a valid name).
    pub name: String,
    pub reason: String,
}

impl ValueProblem {
    /// The request field the problem is about, e.g. `attributes.geburtstag`.
    pub fn field(&self) -> String {
        format!("attributes.{}", self.name)
    }

    fn unknown(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            reason: "no attribute of this name is defined".to_owned(),
        }
    }

    fn value(name: &AttributeName, error: AttributeValueError) -> Self {
        Self {
            name: name.to_string(),
            reason: error.to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AttributeError {
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error("no attribute with this name")]
    NotFound,
    #[error("name: {0}")]
    Name(&'static str),
    #[error("label: {0}")]
    Label(&'static str),
    #[error("an attribute with this name exists already")]
    Taken,
    #[error("an institute can define at most {MAX_ATTRIBUTES} attributes")]
    TooMany,
    #[error("the attribute was changed meanwhile; load it again")]
    Conflict,
    #[error(transparent)]
    Value(#[from] ValueProblem),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn label(raw: &str) -> Result<String, AttributeError> {
    let label = short_text(raw).map_err(AttributeError::Label)?;
    if label.is_empty() {
        return Err(AttributeError::Label("is empty"));
    }
    Ok(label)
}

/// Every attribute the tenant defined, by name. Other use cases (forms,
/// imports, exports, segments) read the definitions through this.
pub async fn list(
    app: &App,
    tenant: &TenantId,
) -> Result<Vec<AttributeDefinition>, AttributeError> {
    tenants::get(app, tenant).await?;
    let mut definitions = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(
                Query::table(keys::attributes(tenant))
                    .limit(100)
                    .after(cursor),
            )
            .await?;
        for stored in &page.items {
            definitions.push(stored.item.parse()?);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(definitions),
        }
    }
}

/// One definition of the tenant; another tenant's is simply not found.
pub async fn get(
    app: &App,
    tenant: &TenantId,
    name: &AttributeName,
) -> Result<AttributeDefinition, AttributeError> {
    tenants::get(app, tenant).await?;
    let stored = app
        .store
        .get(&keys::attribute(tenant, name))
        .await?
        .ok_or(AttributeError::NotFound)?;
    Ok(stored.item.parse()?)
}

/// Defines an attribute. The name is the attribute's identity in the API,
/// in CSV headers and in templates; it is taken once (409 when it is).
#[tracing::instrument(skip(app, label_text))]
pub async fn create(
    app: &App,
    tenant: &TenantId,
    name: &str,
    label_text: &str,
    kind: AttributeKind,
) -> Result<AttributeDefinition, AttributeError> {
    tenants::get_active(app, tenant).await?;
    let name = AttributeName::parse(name.trim()).map_err(AttributeError::Name)?;
    let definition = AttributeDefinition {
        name,
        label: label(label_text)?,
        kind,
        created_at: app.clock.now(),
    };
    let existing = list(app, tenant).await?;
    if existing.iter().any(|d| d.name == definition.name) {
        return Err(AttributeError::Taken);
    }
    if existing.len() >= MAX_ATTRIBUTES {
        return Err(AttributeError::TooMany);
    }
    let item = Item::new(keys::attribute(tenant, &definition.name), &definition)?;
    match app.store.put(item, PutCondition::NotExists).await {
        Ok(_) => {
            tracing::info!(tenant = %tenant, attribute = %definition.name, "attribute defined");
            Ok(definition)
        }
        Err(StoreError::ConditionFailed) => Err(AttributeError::Taken),
        Err(e) => Err(e.into()),
    }
}

/// Gives an attribute another label; its name and kind stay.
pub async fn relabel(
    app: &App,
    tenant: &TenantId,
    name: &AttributeName,
    label_text: &str,
) -> Result<AttributeDefinition, AttributeError> {
    tenants::get_active(app, tenant).await?;
    let label = label(label_text)?;
    let key = keys::attribute(tenant, name);
    let stored = app.store.get(&key).await?.ok_or(AttributeError::NotFound)?;
    let mut definition: AttributeDefinition = stored.item.parse()?;
    definition.label = label;
    match app
        .store
        .put(
            Item::new(key, &definition)?,
            PutCondition::Version(stored.version),
        )
        .await
    {
        Ok(_) => Ok(definition),
        Err(StoreError::ConditionFailed) => Err(AttributeError::Conflict),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a definition. The values contacts hold stay in the store but
/// are no longer shown, exported or checked (see the module's notes).
pub async fn delete(
    app: &App,
    tenant: &TenantId,
    name: &AttributeName,
) -> Result<(), AttributeError> {
    tenants::get_active(app, tenant).await?;
    let key = keys::attribute(tenant, name);
    if app.store.get(&key).await?.is_none() {
        return Err(AttributeError::NotFound);
    }
    app.store.delete(&key).await?;
    tracing::info!(tenant = %tenant, attribute = %name, "attribute deleted");
    Ok(())
}

fn definition<'a>(
    definitions: &'a [AttributeDefinition],
    raw_name: &str,
) -> Result<&'a AttributeDefinition, ValueProblem> {
    definitions
        .iter()
        .find(|d| d.name.as_str() == raw_name)
        .ok_or_else(|| ValueProblem::unknown(raw_name))
}

/// Reads a JSON object of changes (`{"kundennummer": "4711", "vip":
/// null}`): each key must name a defined attribute and each value be of
/// its kind (a string for text, a number, a boolean, a date as
/// `YYYY-MM-DD`); `null` removes the value.
pub fn read_changes(
    definitions: &[AttributeDefinition],
    json: &Map<String, Value>,
) -> Result<AttributeChanges, ValueProblem> {
    let mut changes = AttributeChanges::new();
    for (raw_name, raw_value) in json {
        let definition = definition(definitions, raw_name)?;
        let value = definition
            .kind
            .read_json(raw_value)
            .map_err(|e| ValueProblem::value(&definition.name, e))?;
        changes.insert(definition.name.clone(), value);
    }
    Ok(changes)
}

/// Reads a JSON object of values for a new contact, like
/// [`read_changes`]; `null` is simply no value.
pub fn read_values(
    definitions: &[AttributeDefinition],
    json: &Map<String, Value>,
) -> Result<AttributeValues, ValueProblem> {
    Ok(read_changes(definitions, json)?
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect())
}

/// The form field that carries an attribute's value.
pub fn form_field(name: &AttributeName) -> String {
    format!("attributes.{name}")
}

/// Reads the text fields of a form (`attributes.<name>`, as
/// [`form_field`] names them) as people type them: numbers with a German
/// decimal comma, dates as `31.12.2024` or `2024-12-31`, ja/nein. An empty
/// field removes the value; an attribute without a field in the form stays
/// as it is.
pub fn read_form<'a>(
    definitions: &[AttributeDefinition],
    field: impl Fn(&str) -> Option<&'a str>,
) -> Result<AttributeChanges, ValueProblem> {
    let mut changes = AttributeChanges::new();
    for definition in definitions {
        let Some(text) = field(&form_field(&definition.name)) else {
            continue;
        };
        let value = definition
            .kind
            .read_text(text)
            .map_err(|e| ValueProblem::value(&definition.name, e))?;
        changes.insert(definition.name.clone(), value);
    }
    Ok(changes)
}

/// Checks values a caller built against the definitions: each must name a
/// defined attribute and be of its kind.
pub fn check(
    definitions: &[AttributeDefinition],
    values: &AttributeValues,
) -> Result<(), ValueProblem> {
    for (name, value) in values {
        let definition = definition(definitions, name.as_str())?;
        if definition.kind != value.kind() {
            return Err(ValueProblem::value(
                name,
                AttributeValueError::WrongKind(definition.kind),
            ));
        }
    }
    Ok(())
}

/// Applies changes to a contact's values (after [`check`]ing the ones
/// set) and drops values whose definition is gone or now of another kind.
pub fn apply(
    definitions: &[AttributeDefinition],
    values: &mut AttributeValues,
    changes: AttributeChanges,
) -> Result<(), ValueProblem> {
    let set: AttributeValues = changes
        .iter()
        .filter_map(|(name, value)| value.clone().map(|v| (name.clone(), v)))
        .collect();
    check(definitions, &set)?;
    for (name, value) in changes {
        match value {
            Some(value) => values.insert(name, value),
            None => values.remove(&name),
        };
    }
    values.retain(|name, value| {
        definitions
            .iter()
            .any(|d| d.name == *name && d.kind == value.kind())
    });
    Ok(())
}

/// The values that count: those of defined attributes with the kind the
/// definition has, in the definitions' order.
pub fn visible<'a>(
    definitions: &'a [AttributeDefinition],
    values: &'a AttributeValues,
) -> impl Iterator<Item = (&'a AttributeDefinition, &'a AttributeValue)> {
    definitions.iter().filter_map(move |d| {
        values
            .get(&d.name)
            .filter(|v| v.kind() == d.kind)
            .map(|v| (d, v))
    })
}

/// The visible values as a JSON object of plain values.
pub fn to_json(
    definitions: &[AttributeDefinition],
    values: &AttributeValues,
) -> Map<String, Value> {
    visible(definitions, values)
        .map(|(d, v)| (d.name.to_string(), v.to_json()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Number;
    use chrono::NaiveDate;
    use serde_json::json;

    fn definitions() -> Vec<AttributeDefinition> {
        [
            ("geburtstag", AttributeKind::Date),
            ("kundennummer", AttributeKind::Text),
            ("vip", AttributeKind::Boolean),
            ("volumen", AttributeKind::Number),
        ]
        .into_iter()
        .map(|(name, kind)| AttributeDefinition {
            name: AttributeName::parse(name).unwrap(),
            label: name.to_uppercase(),
            kind,
            created_at: chrono::DateTime::UNIX_EPOCH,
        })
        .collect()
    }

    fn name(raw: &str) -> AttributeName {
        AttributeName::parse(raw).unwrap()
    }

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn json_values_of_every_kind_are_read_and_null_removes() {
        let defs = definitions();
        let changes = read_changes(
            &defs,
            &object(json!({
                "geburtstag": "1980-05-17",
                "kundennummer": "4711",
                "vip": true,
                "volumen": 1234.5,
            })),
        )
        .unwrap();
        assert_eq!(
            changes[&name("geburtstag")],
            Some(AttributeValue::Date(
                NaiveDate::from_ymd_opt(1980, 5, 17).unwrap()
            ))
        );
        assert_eq!(
            changes[&name("volumen")],
            Some(AttributeValue::Number(Number::new(1234.5).unwrap()))
        );
        let removal = read_changes(&defs, &object(json!({ "vip": null }))).unwrap();
        assert_eq!(removal[&name("vip")], None);
        assert!(
            read_values(&defs, &object(json!({ "vip": null })))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn an_unknown_name_or_a_wrong_kind_names_the_attribute_field() {
        let defs = definitions();
        let unknown = read_values(&defs, &object(json!({ "Lieblingsfarbe": "blau" }))).unwrap_err();
        assert_eq!(unknown.field(), "attributes.Lieblingsfarbe");
        let wrong = read_values(&defs, &object(json!({ "geburtstag": 17 }))).unwrap_err();
        assert_eq!(wrong.field(), "attributes.geburtstag");
        assert_eq!(wrong.reason, "is not a date value");
        let german = read_values(&defs, &object(json!({ "geburtstag": "17.05.1980" })));
        assert_eq!(german.unwrap_err().field(), "attributes.geburtstag");
    }

    #[test]
    fn form_text_reads_german_numbers_and_dates_and_an_empty_field_removes() {
        let defs = definitions();
        let fields = [
            ("attributes.volumen", "1.234,5"),
            ("attributes.geburtstag", "17.05.1980"),
            ("attributes.vip", ""),
        ];
        let changes = read_form(&defs, |f| {
            fields.iter().find(|(k, _)| *k == f).map(|(_, v)| *v)
        })
        .unwrap();
        assert_eq!(
            changes[&name("volumen")],
            Some(AttributeValue::Number(Number::new(1234.5).unwrap()))
        );
        assert_eq!(changes[&name("vip")], None);
        assert!(
            !changes.contains_key(&name("kundennummer")),
            "a field not in the form changes nothing"
        );
        let bad = read_form(&defs, |f| (f == "attributes.volumen").then_some("viel")).unwrap_err();
        assert_eq!(bad.field(), "attributes.volumen");
    }

    #[test]
    fn applying_changes_drops_values_of_deleted_or_redefined_attributes() {
        let mut defs = definitions();
        let mut values = AttributeValues::new();
        values.insert(name("kundennummer"), AttributeValue::Text("4711".into()));
        values.insert(name("vip"), AttributeValue::Boolean(true));
        values.insert(name("alt"), AttributeValue::Text("weg".into()));
        // "vip" is defined again, now as text: the old boolean is stale.
        defs.retain(|d| d.name.as_str() != "vip");
        defs.push(AttributeDefinition {
            name: name("vip"),
            label: "VIP".into(),
            kind: AttributeKind::Text,
            created_at: chrono::DateTime::UNIX_EPOCH,
        });
        assert_eq!(visible(&defs, &values).count(), 1);
        let mut changes = AttributeChanges::new();
        changes.insert(
            name("volumen"),
            Some(AttributeValue::Number(Number::new(3.0).unwrap())),
        );
        apply(&defs, &mut values, changes).unwrap();
        let kept: Vec<&str> = values.keys().map(AttributeName::as_str).collect();
        assert_eq!(kept, ["kundennummer", "volumen"]);
        let mut wrong = AttributeChanges::new();
        wrong.insert(name("volumen"), Some(AttributeValue::Boolean(true)));
        assert_eq!(
            apply(&defs, &mut values, wrong).unwrap_err().field(),
            "attributes.volumen"
        );
    }

    #[test]
    fn the_json_view_shows_only_defined_values_as_plain_json() {
        let defs = definitions();
        let mut values = AttributeValues::new();
        values.insert(
            name("geburtstag"),
            AttributeValue::Date(NaiveDate::from_ymd_opt(1980, 5, 17).unwrap()),
        );
        values.insert(name("alt"), AttributeValue::Text("weg".into()));
        assert_eq!(
            Value::Object(to_json(&defs, &values)),
            json!({ "geburtstag": "1980-05-17" })
        );
    }
}
