//! One tenant's page (Mandant): its details and settings for everyone who
//! may read tenants, and for the operator the form that renames, suspends
//! or resumes it and edits its settings.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::admin::{date, tenant_failure};
use super::forms::{FormBody, Invalid, Member, Visit};
use super::view;
use crate::domain::{
    Permission, Tenant, TenantId, TenantName, TenantNameError, TenantSettings, TenantStatus,
    TrackingMode,
};
use crate::http::ApiError;
use crate::http::access::AUDIT_OBJECT;
use crate::services::tenants::{self, TenantChange};

/// The tracking modes as the form offers them: value and message id.
const TRACKING: [(TrackingMode, &str, &str); 3] = [
    (TrackingMode::Off, "off", "tracking-off"),
    (TrackingMode::Aggregate, "aggregate", "tracking-aggregate"),
    (TrackingMode::PerPerson, "per_person", "tracking-per_person"),
];

/// The days a retention may last, as the JSON API checks them.
const MAX_DAYS: u32 = 3650;

#[derive(Debug, Default, Serialize)]
struct TenantForm {
    name: String,
    status: &'static str,
    sender_domains: String,
    default_from_name: String,
    tracking: String,
    audit_retention_days: String,
    unconfirmed_contact_retention_days: String,
    require_second_factor: bool,
}

impl TenantForm {
    fn of(tenant: &Tenant) -> Self {
        let settings = &tenant.settings;
        Self {
            name: tenant.name.as_str().to_owned(),
            status: status_value(tenant.status),
            sender_domains: settings.sender_domains.join("\n"),
            default_from_name: settings.default_from_name.clone().unwrap_or_default(),
            tracking: tracking_value(settings.tracking).to_owned(),
            audit_retention_days: settings.audit_retention_days.to_string(),
            unconfirmed_contact_retention_days: settings
                .unconfirmed_contact_retention_days
                .to_string(),
            require_second_factor: settings.require_second_factor,
        }
    }
}

fn status_value(status: TenantStatus) -> &'static str {
    match status {
        TenantStatus::Active => "active",
        TenantStatus::Suspended => "suspended",
    }
}

fn tracking_value(mode: TrackingMode) -> &'static str {
    TRACKING
        .iter()
        .find(|(m, _, _)| *m == mode)
        .map_or("aggregate", |(_, value, _)| value)
}

#[derive(Debug, Serialize)]
struct TrackingOption {
    value: &'static str,
    label: &'static str,
}

#[derive(Debug, Default, Serialize)]
struct TenantView {
    alert: Option<String>,
    notice: Option<String>,
    invalid: Option<&'static str>,
    field_error: Option<String>,
    id: String,
    /// The stored name, for the heading.
    title: String,
    status: &'static str,
    created_at: String,
    /// The operator may change the tenant.
    may_manage: bool,
    form: TenantForm,
    tracking_options: Vec<TrackingOption>,
    /// The stored tracking mode's message id, for the read-only view.
    tracking_label: &'static str,
    sender_domains: Vec<String>,
    max_days: u32,
}

impl TenantView {
    fn refuse(&mut self, invalid: Invalid) {
        self.alert = Some(invalid.alert);
        self.invalid = Some(invalid.field);
        self.field_error = Some(invalid.problem);
    }
}

fn tenant_page(
    visit: &Visit,
    member: &Member,
    tenant: &Tenant,
    mut values: TenantView,
    status: StatusCode,
) -> Response {
    values.id = tenant.id.to_string();
    values.title = tenant.name.as_str().to_owned();
    values.status = match tenant.status {
        TenantStatus::Active => "tenant-status-active",
        TenantStatus::Suspended => "tenant-status-suspended",
    };
    values.created_at = date(visit.lang, tenant.created_at);
    values.may_manage = member.principal.role.may(Permission::ManageTenants);
    values.tracking_options = TRACKING
        .iter()
        .map(|(_, value, label)| TrackingOption { value, label })
        .collect();
    values.tracking_label = TRACKING
        .iter()
        .find(|(m, _, _)| *m == tenant.settings.tracking)
        .map_or("tracking-aggregate", |(_, _, label)| label);
    values.sender_domains = tenant.settings.sender_domains.clone();
    values.max_days = MAX_DAYS;
    if values.form.status.is_empty() {
        values.form = TenantForm::of(tenant);
    }
    let layout = visit.layout(member, "/mandanten");
    view::page(status, "tenant.html", &layout, &values, visit.https)
}

/// The member and the tenant of the path, if they may read tenants.
async fn member_and_tenant(visit: &Visit, raw_id: &str) -> Result<(Member, Tenant), Response> {
    let member = visit.member(false).await?;
    if !member.principal.role.may(Permission::ReadTenants) {
        return Err(visit.fail(StatusCode::FORBIDDEN));
    }
    let id = TenantId::parse(raw_id).map_err(|_| visit.fail(StatusCode::NOT_FOUND))?;
    let tenant = tenants::get(&visit.app, &id)
        .await
        .map_err(|e| tenant_failure(visit, e))?;
    Ok((member, tenant))
}

/// `GET /mandanten/{tenant_id}`: the tenant's details and settings.
pub(super) async fn page(visit: Visit, Path(tenant_id): Path<String>) -> Response {
    let (member, tenant) = match member_and_tenant(&visit, &tenant_id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    tenant_page(
        &visit,
        &member,
        &tenant,
        TenantView::default(),
        StatusCode::OK,
    )
}

/// The message id of a field's label.
fn label_of(field: &str) -> &'static str {
    match field {
        "name" => "field-tenant-name",
        "status" => "field-status",
        "sender_domains" => "field-sender-domains",
        "default_from_name" => "field-default-from-name",
        "tracking" => "field-tracking",
        "audit_retention_days" => "field-audit-retention-days",
        "unconfirmed_contact_retention_days" => "field-unconfirmed-retention-days",
        _ => "field-settings",
    }
}

/// The form field an error of the JSON API's checks names.
fn form_field(api_field: &str) -> &'static str {
    match api_field.trim_start_matches("settings.") {
        "sender_domains" => "sender_domains",
        "default_from_name" => "default_from_name",
        "audit_retention_days" => "audit_retention_days",
        "unconfirmed_contact_retention_days" => "unconfirmed_contact_retention_days",
        _ => "settings",
    }
}

fn days_problem(visit: &Visit) -> String {
    visit.tr_args("problem-days-range", &[("max", MAX_DAYS.to_string())])
}

/// Reads the form into a change, checked as the JSON API checks a patch.
fn read_change(visit: &Visit, form: &TenantForm, body: &FormBody) -> Result<TenantChange, Invalid> {
    let invalid =
        |field: &'static str, problem: String| visit.invalid(field, label_of(field), problem);
    let name = TenantName::parse(body.get("name")).map_err(|e| {
        let problem = match e {
            TenantNameError::Empty => visit.tr("problem-required"),
            TenantNameError::TooLong => {
                visit.tr_args("problem-too-long", &[("max", "120".to_owned())])
            }
            TenantNameError::ControlCharacters => visit.tr("problem-control-characters"),
        };
        invalid("name", problem)
    })?;
    let status = match body.get("status") {
        "active" => TenantStatus::Active,
        "suspended" => TenantStatus::Suspended,
        _ => return Err(invalid("status", visit.tr("problem-choose-option"))),
    };
    let tracking = TRACKING
        .iter()
        .find(|(_, value, _)| *value == form.tracking)
        .map(|(mode, _, _)| *mode)
        .ok_or_else(|| invalid("tracking", visit.tr("problem-choose-option")))?;
    let days = |field: &'static str, raw: &str| {
        raw.trim()
            .parse::<u32>()
            .map_err(|_| invalid(field, days_problem(visit)))
    };
    let settings = TenantSettings {
        sender_domains: form
            .sender_domains
            .lines()
            .map(|line| line.trim().to_ascii_lowercase())
            .filter(|line| !line.is_empty())
            .collect(),
        default_from_name: Some(form.default_from_name.trim().to_owned()).filter(|n| !n.is_empty()),
        tracking,
        audit_retention_days: days("audit_retention_days", &form.audit_retention_days)?,
        unconfirmed_contact_retention_days: days(
            "unconfirmed_contact_retention_days",
            &form.unconfirmed_contact_retention_days,
        )?,
        require_second_factor: form.require_second_factor,
    };
    if let Err(e) = crate::http::tenants::check_settings(&settings) {
        let field = match &e {
            ApiError::BadRequest { field, .. } => form_field(field),
            _ => "settings",
        };
        let problem = match field {
            "sender_domains" => {
                // The first domain the check refused, as entered.
                let domain = settings
                    .sender_domains
                    .iter()
                    .find(|d| {
                        crate::domain::EmailAddress::parse(&format!("probe@{d}"))
                            .map_or(true, |a| a.domain() != d.as_str())
                    })
                    .cloned()
                    .unwrap_or_default();
                visit.tr_args("problem-domain-invalid", &[("domain", domain)])
            }
            "default_from_name" => visit.tr_args("problem-from-name", &[("max", "100".to_owned())]),
            "audit_retention_days" | "unconfirmed_contact_retention_days" => days_problem(visit),
            _ => visit.tr("problem-settings-invalid"),
        };
        return Err(invalid(field, problem));
    }
    Ok(TenantChange {
        name: Some(name),
        status: Some(status),
        settings: Some(settings),
    })
}

/// `POST /mandanten/{tenant_id}`: the operator renames, suspends or resumes
/// the tenant and edits its settings.
pub(super) async fn update(
    visit: Visit,
    Path(tenant_id): Path<String>,
    body: FormBody,
) -> Response {
    let (member, tenant) = match member_and_tenant(&visit, &tenant_id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if !member.principal.role.may(Permission::ManageTenants) {
        return visit.fail(StatusCode::FORBIDDEN);
    }
    let form = TenantForm {
        name: body.get("name").trim().to_owned(),
        status: match body.get("status") {
            "suspended" => "suspended",
            _ => "active",
        },
        sender_domains: body.get("sender_domains").to_owned(),
        default_from_name: body.get("default_from_name").to_owned(),
        tracking: body.get("tracking").to_owned(),
        audit_retention_days: body.get("audit_retention_days").trim().to_owned(),
        unconfirmed_contact_retention_days: body
            .get("unconfirmed_contact_retention_days")
            .trim()
            .to_owned(),
        require_second_factor: !body.get("require_second_factor").is_empty(),
    };
    let change = match read_change(&visit, &form, &body) {
        Ok(change) => change,
        Err(invalid) => {
            let mut values = TenantView {
                form,
                ..TenantView::default()
            };
            values.refuse(invalid);
            return tenant_page(&visit, &member, &tenant, values, StatusCode::BAD_REQUEST);
        }
    };
    let updated = match tenants::update(&visit.app, &tenant.id, change).await {
        Ok(updated) => updated,
        Err(e) => return tenant_failure(&visit, e),
    };
    let values = TenantView {
        notice: Some(visit.tr("tenant-saved")),
        ..TenantView::default()
    };
    let mut response = tenant_page(&visit, &member, &updated, values, StatusCode::OK);
    if let Ok(id) = HeaderValue::from_str(updated.id.as_str()) {
        response.headers_mut().insert(AUDIT_OBJECT, id);
    }
    response
}
