//! The audit log (Änderungsprotokoll): a tenant admin reads their tenant's,
//! the operator the platform's; as JSON pages or as CSV.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiQuery};
use crate::App;
use crate::domain::{Principal, TenantId};
use crate::ports::store::Cursor;
use crate::services::audit::{self, AuditEntry, Filter, Outcome};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(tenant_audit))
        .routes(routes!(platform_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditParams {
    /// Only actions starting with this, e.g. `user.`.
    pub action: Option<String>,
    /// `success`, `denied` or `failed`.
    pub outcome: Option<String>,
    /// Only requests from this IPv4 or IPv6 address (matched by its keyed
    /// hash: the log keeps no addresses).
    pub ip: Option<String>,
    /// 1 to 500; 100 when absent.
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// `csv` for a CSV download (UTF-8 with BOM, `;`, for German Excel).
    pub format: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

fn parse(app: &App, params: &AuditParams) -> Result<(Filter, u32, bool), ApiError> {
    let outcome = match params.outcome.as_deref() {
        None => None,
        Some("success") => Some(Outcome::Success),
        Some("denied") => Some(Outcome::Denied),
        Some("failed") => Some(Outcome::Failed),
        Some(_) => {
            return Err(ApiError::bad_request(
                "outcome",
                "success, denied or failed",
            ));
        }
    };
    let limit = super::page_limit(params.limit.as_deref(), 100, 500)?;
    let csv = match params.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::bad_request("format", "json or csv")),
    };
    let ip_hash = match params.ip.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(audit::ip_hash(
            &app.pseudonyms,
            raw.parse()
                .map_err(|_| ApiError::bad_request("ip", "an IPv4 or IPv6 address"))?,
        )),
    };
    let filter = Filter {
        action_prefix: params.action.clone(),
        outcome,
        ip_hash,
    };
    Ok((filter, limit, csv))
}

async fn answer(
    app: &App,
    scope: Option<&TenantId>,
    principal: &Principal,
    params: AuditParams,
) -> Result<Response, ApiError> {
    let (filter, limit, csv) = parse(app, &params)?;
    if let Some(hash) = &filter.ip_hash {
        audit::record_ip_search(app, scope, principal, hash).await;
    }
    let cursor = params.cursor.map(Cursor::from_client);
    let (entries, next) = audit::list(app, scope, &filter, limit, cursor).await?;
    if csv {
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"aenderungsprotokoll.csv\"",
                ),
            ],
            to_csv(&entries)?,
        )
            .into_response());
    }
    Ok(Json(AuditPage {
        entries,
        next_cursor: next.map(|c| c.as_str().to_owned()),
    })
    .into_response())
}

/// The entries as CSV for German Excel: UTF-8 with BOM, `;` separated, and
/// cells that Excel would run as formulas made inert.
pub fn to_csv(entries: &[AuditEntry]) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    {
        let mut writer =
            crate::excel::writer(&mut out).map_err(|e| ApiError::Internal(e.to_string()))?;
        let internal = |e: csv::Error| ApiError::Internal(e.to_string());
        writer
            .write_record([
                "Zeitpunkt (UTC)",
                "Aktion",
                "Objekt",
                "Ergebnis",
                "Benutzer",
                "Rolle",
                "Adresse (Hash)",
                "API-Schlüssel",
                "IP-Netz",
                "IP-Adresse (Hash)",
            ])
            .map_err(internal)?;
        for e in entries {
            let outcome = match e.outcome {
                Outcome::Success => "erfolgreich",
                Outcome::Denied => "verweigert",
                Outcome::Failed => "fehlgeschlagen",
            };
            let row = [
                e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                e.action.clone(),
                e.object.clone().unwrap_or_default(),
                outcome.to_owned(),
                e.actor.user_id.map(|u| u.to_string()).unwrap_or_default(),
                e.actor
                    .role
                    .map(|r| r.as_str().to_owned())
                    .unwrap_or_default(),
                e.actor.email_hash.clone().unwrap_or_default(),
                e.actor.api_key_id.clone().unwrap_or_default(),
                e.ip.as_ref()
                    .map(|ip| ip.network.clone())
                    .unwrap_or_default(),
                e.ip.as_ref().map(|ip| ip.hash.clone()).unwrap_or_default(),
            ];
            writer
                .write_record(
                    row.iter()
                        .map(|cell| crate::excel::excel_safe(cell).into_owned()),
                )
                .map_err(internal)?;
        }
        writer
            .flush()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    Ok(out)
}

/// The tenant's audit log, newest first.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/audit", tag = "audit",
    params(("tenant_id" = String, Path, description = "The tenant"), AuditParams),
    responses(
        (status = 200, description = "A page of entries (or CSV with format=csv)", body = AuditPage),
        (status = 403, description = "Not allowed", body = super::Problem),
    ))]
async fn tenant_audit(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    Path(tenant): Path<String>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    let tenant = TenantId::parse(&tenant).map_err(|_| ApiError::NotFound("tenant"))?;
    answer(&app, Some(&tenant), &principal, params).await
}

/// The platform's audit log (tenant administration, platform sign-ins).
#[utoipa::path(get, path = "/api/platform/audit", tag = "audit",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of entries (or CSV with format=csv)", body = AuditPage),
        (status = 403, description = "Not allowed", body = super::Problem),
    ))]
async fn platform_audit(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    answer(&app, None, &principal, params).await
}
