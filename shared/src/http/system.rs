//! System routes: health and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::{Adapters, App};
use crate::services::scheduler;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(openapi_document))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Health {
    /// "ok", or "degraded" when the store does not answer.
    pub status: String,
    pub version: String,
    pub environment: String,
    #[schema(value_type = Object)]
    pub adapters: serde_json::Value,
    /// When the scheduler last ran, if ever.
    pub scheduler_last_tick: Option<DateTime<Utc>>,
}

/// Whether EMMA is up, its version, and the adapters it runs on.
#[utoipa::path(get, path = "/health", tag = "system",
    responses(
        (status = 200, description = "EMMA is up", body = Health),
        (status = 503, description = "The store does not answer", body = Health),
    ))]
async fn health(State(app): State<App>) -> (StatusCode, Json<Health>) {
    let adapters: Adapters = app.adapters();
    let (status, code, last_tick) = match scheduler::last(&app).await {
        Ok(heartbeat) => ("ok", StatusCode::OK, heartbeat.map(|h| h.last_tick)),
        Err(e) => {
            tracing::warn!(error = %e, "health: store unavailable");
            ("degraded", StatusCode::SERVICE_UNAVAILABLE, None)
        }
    };
    let body = Health {
        status: status.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        environment: app.settings.environment.clone(),
        adapters: serde_json::to_value(adapters).expect("adapters serialize"),
        scheduler_last_tick: last_tick,
    };
    (code, Json(body))
}

/// This document: the OpenAPI 3.1 description of the JSON API.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
async fn openapi_document() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(super::openapi())
}
