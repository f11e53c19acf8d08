//! The HTTP layer: one router per route group, each documented in OpenAPI
//! by the same registration that routes it (utoipa-axum), and the common
//! finish every router gets: problem-body fallback, body limit, tracing.
//! A Lambda function serves one group; the local server serves them all.

pub mod access;
pub mod api_keys;
pub mod assets;
pub mod attributes;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod contacts;
pub mod error;
pub mod exports;
pub mod gdpr;
pub mod imports;
pub mod json;
pub mod lists;
pub mod segments;
pub mod signup_forms;
pub mod suppressions;
pub mod system;
pub mod templates;
pub mod tenants;
pub mod users;

use std::sync::OnceLock;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use error::{ApiError, Problem};
pub use json::{ApiJson, ApiQuery, MAX_JSON_BODY};

use crate::App;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "EMMA API",
        description = "The JSON API of EMMA, the e-mail marketing manager for savings banks."
    ),
    components(schemas(Problem))
)]
struct ApiDoc;

/// A route group: its routes together with their OpenAPI description.
pub type Group = fn() -> OpenApiRouter<App>;

/// The tenant named in a path: an id that cannot exist is simply not found.
pub(crate) fn path_tenant(raw: &str) -> Result<crate::domain::TenantId, ApiError> {
    crate::domain::TenantId::parse(raw).map_err(|_| ApiError::NotFound("tenant"))
}

/// A page size from the query: `default` when absent, else 1 to `max`.
pub(crate) fn page_limit(raw: Option<&str>, default: u32, max: u32) -> Result<u32, ApiError> {
    match raw {
        None => Ok(default),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request("limit", format!("must be a whole number from 1 to {max}"))
            }),
    }
}

/// Every route group, by the function that serves it on AWS.
pub const GROUPS: &[(&str, Group)] = &[
    ("system", system::routes),
    ("auth", auth::routes),
    ("admin", admin_routes),
    ("audit", audit::routes),
    ("contacts", audience_routes),
    ("content", content_routes),
];

/// The `content` group: templates, images and campaigns.
pub fn content_routes() -> OpenApiRouter<App> {
    templates::routes()
        .merge(assets::routes())
        .merge(campaigns::routes())
}

/// The `contacts` group: contacts, their imports and exports.
pub fn audience_routes() -> OpenApiRouter<App> {
    contacts::routes()
        .merge(imports::routes())
        .merge(exports::routes())
        .merge(suppressions::routes())
        .merge(gdpr::routes())
        .merge(lists::routes())
        .merge(segments::routes())
        .merge(attributes::routes())
        .merge(signup_forms::routes())
}

/// The `admin` group: tenants (platform), and users and API keys (per
/// tenant).
pub fn admin_routes() -> OpenApiRouter<App> {
    tenants::routes()
        .merge(users::routes())
        .merge(api_keys::routes())
}

/// The OpenAPI 3.1 document of every route group.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        for (_, group) in GROUPS {
            let (_, part) = group().split_for_parts();
            doc.merge(part);
        }
        doc
    })
}

/// A router that serves the given groups, finished with the common layers.
pub fn router(app: App, groups: &[Group]) -> Router {
    let mut merged = OpenApiRouter::new();
    for group in groups {
        merged = merged.merge(group());
    }
    let (router, _) = merged.split_for_parts();
    guarded(app, router)
}

/// The browser UI's pages, finished like the API: what the `ui` function serves.
pub fn ui_router(app: App) -> Router {
    guarded(app, crate::ui::routes())
}

/// A router of every group and the browser UI: what the local server serves.
pub fn full_router(app: App) -> Router {
    let mut merged = OpenApiRouter::new();
    for (_, group) in GROUPS {
        merged = merged.merge(group());
    }
    let (router, _) = merged.split_for_parts();
    guarded(app, router.merge(crate::ui::routes()))
}

/// Every route passes the access guard (it sees the matched route), then
/// the common finish.
fn guarded(app: App, router: Router<App>) -> Router {
    let router = router.route_layer(axum::middleware::from_fn_with_state(
        app.clone(),
        access::guard,
    ));
    finish(router.with_state(app))
}

fn finish(router: Router) -> Router {
    router
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        // The span names method and path only: a query may carry a code, a
        // state or an address looked for.
        .layer(TraceLayer::new_for_http().make_span_with(
            |request: &axum::http::Request<axum::body::Body>| {
                tracing::debug_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                )
            },
        ))
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::Internal(
                "a handler panicked".into(),
            ))
        }))
}

async fn no_route(uri: Uri) -> ApiError {
    ApiError::NoRoute(uri.path().to_owned())
}

async fn method_not_allowed(method: axum::http::Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} {}", uri.path()))
}
