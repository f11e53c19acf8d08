//! Lambda entry points, written once: a function's `main` names its route
//! group or its handler, and this module does the rest (configuration,
//! clients, logging, the runtime loop).

use std::future::Future;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::App;
use crate::bootstrap;
use crate::http::{self, Group};
use crate::services::scheduler::Heartbeat;

pub type Error = lambda_runtime::Error;

/// Serves one HTTP route group behind API Gateway (HTTP API, payload 2.0).
pub async fn serve_http(group: Group) -> Result<(), Error> {
    let runtime = bootstrap::from_env().await?;
    lambda_http::run(http::router(runtime.app, &[group])).await
}

/// Serves the browser UI behind API Gateway.
pub async fn serve_ui() -> Result<(), Error> {
    let runtime = bootstrap::from_env().await?;
    lambda_http::run(http::ui_router(runtime.app)).await
}

/// Runs an event handler: `handler(&app, event)` for every invocation.
pub async fn serve_events<E, R, F, Fut>(handler: F) -> Result<(), Error>
where
    E: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
    F: Fn(App, LambdaEvent<E>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Error>> + Send + 'static,
{
    let runtime = bootstrap::from_env().await?;
    let app = runtime.app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<E>| {
        handler(app.clone(), event)
    }))
    .await
}

/// The `send` function: SQS batches of jobs.
pub async fn send(app: App, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    crate::workers::send::handle(&app, event).await
}

/// The `scheduler` function: the EventBridge tick.
pub async fn scheduler(
    app: App,
    event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
) -> Result<Heartbeat, Error> {
    crate::workers::scheduler::handle(&app, event).await
}

/// The `webhook` function: SES events through SNS.
pub async fn webhook(
    app: App,
    event: LambdaEvent<aws_lambda_events::event::sns::SnsEvent>,
) -> Result<crate::workers::webhook::WebhookOutcome, Error> {
    crate::workers::webhook::handle(&app, event).await
}
