//! The suppression list page (Sperrliste): the tenant's entries page by
//! page (erased people show only that they were erased, never an address),
//! and for editors the forms that add one address, remove an entry added
//! by hand, and put many addresses on the list at once (pasted as text,
//! one a line or as CSV, read by the same import as the API's upload).
//! Everyone who may see the page may also download it as CSV (the API's
//! export, which the session may fetch; each download is on record).
//!
//! The paste form is a plain form post, bounded by the guard's 64 KiB form
//! limit (some 2,000 addresses); larger files go through
//! `POST /api/tenants/{tenant_id}/suppressions/import`.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::admin::{date_time, tenant_failure};
use super::forms::{FormBody, Member, Visit, see_other_to};
use super::view;
use crate::domain::{ContactId, EmailAddress, Permission, TenantId};
use crate::http::access::AUDIT_OBJECT;
use crate::ports::store::Cursor;
use crate::services::suppressions::{
    self, RowIssue, Suppression, SuppressionError, SuppressionImportReport, SuppressionReason,
    SuppressionTransferError,
};

/// How many entries one page shows.
const PAGE_SIZE: u32 = 100;

/// The message id of a reason's label.
fn reason_label(reason: SuppressionReason) -> &'static str {
    match reason {
        SuppressionReason::Unsubscribed => "suppressions-reason-unsubscribed",
        SuppressionReason::Bounced => "suppressions-reason-bounced",
        SuppressionReason::Complained => "suppressions-reason-complained",
        SuppressionReason::Erased => "suppressions-reason-erased",
        SuppressionReason::Manual => "suppressions-reason-manual",
    }
}

/// The notices a redirect may ask for (`?hinweis=`): a fixed set.
fn notice_id(raw: &str) -> Option<&'static str> {
    match raw {
        "eingetragen" => Some("suppressions-notice-added"),
        "entfernt" => Some("suppressions-notice-removed"),
        _ => None,
    }
}

/// A signed-in user of a tenant whose role holds `permission`.
async fn member_in_tenant(
    visit: &Visit,
    permission: Permission,
) -> Result<(Member, TenantId), Response> {
    let member = visit.member(false).await?;
    if !member.principal.role.may(permission) {
        return Err(visit.fail(StatusCode::FORBIDDEN));
    }
    let Some(tenant) = member.principal.tenant.clone() else {
        return Err(visit.fail(StatusCode::FORBIDDEN));
    };
    Ok((member, tenant))
}

fn failure(visit: &Visit, e: SuppressionError) -> Response {
    match e {
        SuppressionError::Tenant(t) => tenant_failure(visit, t),
        SuppressionError::NotFound => visit.fail(StatusCode::NOT_FOUND),
        SuppressionError::NotRemovable => visit.fail(StatusCode::CONFLICT),
        SuppressionError::InvalidCursor => visit.fail(StatusCode::BAD_REQUEST),
        SuppressionError::Store(s) => visit.store_failure(s),
    }
}

#[derive(Debug, Serialize)]
struct EntryRow {
    id: String,
    /// The address; none for erased people.
    address: Option<String>,
    reason: &'static str,
    added_at: String,
    removable: bool,
}

#[derive(Debug, Serialize)]
struct ReportView {
    rows: u64,
    added: u64,
    already_listed: u64,
    upgraded: u64,
    skipped: u64,
    problems: Vec<RowIssue>,
    problems_truncated: bool,
}

impl From<SuppressionImportReport> for ReportView {
    fn from(r: SuppressionImportReport) -> Self {
        Self {
            rows: r.rows,
            added: r.added,
            already_listed: r.already_listed,
            upgraded: r.upgraded,
            skipped: r.skipped,
            problems: r.problems,
            problems_truncated: r.problems_truncated,
        }
    }
}

#[derive(Debug, Default, Serialize)]
struct SuppressionsView {
    alert: Option<String>,
    notice: Option<String>,
    /// The form field that did not hold: `email` or `adressen`.
    invalid: Option<&'static str>,
    field_error: Option<String>,
    email: String,
    may_write: bool,
    /// Whether the CSV download is offered: to everyone who may read the
    /// list (`suppression.export` needs `ReadContacts`).
    may_export: bool,
    /// The tenant, for the CSV download's link (the API's export route).
    tenant_id: String,
    entries: Vec<EntryRow>,
    next_query: Option<String>,
    first_query: Option<String>,
    report: Option<ReportView>,
}

/// The page's query: `?weiter=<cursor>`, and `hinweis` after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PageQuery {
    #[serde(default)]
    weiter: String,
    #[serde(default)]
    hinweis: String,
}

fn row(visit: &Visit, entry: Suppression) -> EntryRow {
    EntryRow {
        id: entry.id.to_string(),
        address: entry.email.map(|e| e.to_string()),
        reason: reason_label(entry.reason),
        added_at: date_time(visit.lang, entry.added_at),
        removable: entry.reason == SuppressionReason::Manual,
    }
}

async fn render(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    query: &PageQuery,
    mut values: SuppressionsView,
    status: StatusCode,
) -> Response {
    let cursor = (!query.weiter.is_empty()).then(|| Cursor::from_client(query.weiter.clone()));
    let later = cursor.is_some();
    let listed = match suppressions::list(&visit.app, tenant, PAGE_SIZE, cursor).await {
        // A cursor of another list (or garbage): the first page instead.
        Err(SuppressionError::InvalidCursor) => {
            suppressions::list(&visit.app, tenant, PAGE_SIZE, None)
                .await
                .map(|page| (page, false))
        }
        other => other.map(|page| (page, later)),
    };
    let ((entries, next), later) = match listed {
        Ok(listed) => listed,
        Err(e) => return failure(visit, e),
    };
    values.entries = entries.into_iter().map(|e| row(visit, e)).collect();
    values.next_query = next.map(|cursor| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("weiter", cursor.as_str())
            .finish()
    });
    values.first_query = later.then(String::new);
    values.may_write = member.principal.role.may(Permission::WriteContacts);
    values.may_export = member.principal.role.may(Permission::ReadContacts);
    values.tenant_id = tenant.to_string();
    if values.notice.is_none() {
        values.notice = notice_id(&query.hinweis).map(|id| visit.tr(id));
    }
    let layout = visit.layout(member, "/sperrliste");
    view::page(status, "suppressions.html", &layout, &values, visit.https)
}

/// `GET /sperrliste`: one page of the list, and the forms for editors.
pub(super) async fn page(visit: Visit, uri: Uri) -> Response {
    let query = axum::extract::Query::<PageQuery>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    render(
        &visit,
        &member,
        &tenant,
        &query,
        SuppressionsView::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /sperrliste`: puts one address on the list by hand.
pub(super) async fn add(visit: Visit, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let raw = body.get("email").trim().to_owned();
    let email = match EmailAddress::parse(&raw) {
        Ok(email) => email,
        Err(_) => {
            let invalid = visit.invalid("email", "field-email", visit.tr("problem-email-invalid"));
            let values = SuppressionsView {
                alert: Some(invalid.alert),
                invalid: Some(invalid.field),
                field_error: Some(invalid.problem),
                email: raw,
                ..SuppressionsView::default()
            };
            let first = PageQuery::default();
            return render(
                &visit,
                &member,
                &tenant,
                &first,
                values,
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    match suppressions::add_address(&visit.app, &tenant, &email, member.principal.user_id).await {
        Ok(entry) => {
            let mut response =
                see_other_to(HeaderValue::from_static("/sperrliste?hinweis=eingetragen"));
            if let Ok(id) = HeaderValue::from_str(entry.id.as_str()) {
                response.headers_mut().insert(AUDIT_OBJECT, id);
            }
            response
        }
        Err(e) => failure(&visit, e),
    }
}

/// `POST /sperrliste/import`: puts the pasted addresses on the list and
/// shows the report (rows with problems are skipped, with their line).
pub(super) async fn import(visit: Visit, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let text = body.get("adressen");
    let first = PageQuery::default();
    let report = suppressions::import_csv(
        &visit.app,
        &tenant,
        member.principal.user_id,
        text.as_bytes(),
    )
    .await;
    match report {
        Ok(report) => {
            // Entries that were unsubscribed or erased and are now manual.
            let upgraded = (report.upgraded > 0).then(|| {
                visit.tr_args(
                    "suppressions-report-upgraded",
                    &[(
                        "upgraded",
                        super::imports::number(visit.lang, report.upgraded),
                    )],
                )
            });
            let values = SuppressionsView {
                notice: upgraded,
                report: Some(report.into()),
                ..SuppressionsView::default()
            };
            render(&visit, &member, &tenant, &first, values, StatusCode::OK).await
        }
        Err(SuppressionTransferError::EmptyFile) => {
            let invalid = visit.invalid(
                "adressen",
                "suppressions-import-label",
                visit.tr("problem-required"),
            );
            let values = SuppressionsView {
                alert: Some(invalid.alert),
                invalid: Some(invalid.field),
                field_error: Some(invalid.problem),
                ..SuppressionsView::default()
            };
            render(
                &visit,
                &member,
                &tenant,
                &first,
                values,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(SuppressionTransferError::List(e)) => failure(&visit, e),
        Err(other) => {
            tracing::info!(error = %other, "page: suppression import refused");
            visit.fail(StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

/// `POST /sperrliste/{entry_id}/entfernen`: removes an entry added by hand.
pub(super) async fn remove(visit: Visit, Path(entry_id): Path<String>) -> Response {
    let (_, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(id) = ContactId::parse(&entry_id) else {
        return visit.fail(StatusCode::NOT_FOUND);
    };
    match suppressions::remove(&visit.app, &tenant, &id).await {
        Ok(()) => see_other_to(HeaderValue::from_static("/sperrliste?hinweis=entfernt")),
        Err(e) => failure(&visit, e),
    }
}
