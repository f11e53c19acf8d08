//! Local mode: every route group in one server, and the background steps as
//! tasks that feed the same handlers the Lambda functions run — the send
//! worker from the in-process queue, the scheduler from a timer.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use lambda_runtime::{Context, LambdaEvent};

use crate::App;
use crate::bootstrap::Runtime;
use crate::ports::ReceivedMessage;
use crate::{http, workers};

/// How long a received job stays hidden while the worker runs it.
const JOB_VISIBILITY: Duration = Duration::from_secs(60);

/// The router of the local server: all route groups, plus the presigned
/// blob URLs of the file blob store.
pub fn router(runtime: &Runtime) -> axum::Router {
    let mut router = http::full_router(runtime.app.clone());
    if let Some(blobs) = &runtime.local_blobs {
        router = router.merge(crate::adapters::fs_blobs::router(blobs.clone()));
    }
    if let Some(issuer) = &runtime.dev_issuer
        && let Ok(redirect) = crate::bootstrap::sso_redirect_uri(&runtime.config)
    {
        router = router.merge(crate::ui::dev_idp_routes(issuer.clone(), redirect));
    }
    router
}

/// Serves EMMA on `listen` until `shutdown` completes.
pub async fn serve(
    runtime: Runtime,
    listen: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    tracing::info!(%address, adapters = ?runtime.app.adapters(), "EMMA is listening");
    let router = router(&runtime);
    let mut workers = vec![
        tokio::spawn(send_loop(runtime.app.clone())),
        tokio::spawn(scheduler_loop(runtime.app.clone(), Duration::from_secs(60))),
    ];
    if let Some(store) = runtime.local_store.clone() {
        workers.push(tokio::spawn(sweep_loop(store, Duration::from_secs(3600))));
    }
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    for worker in workers {
        worker.abort();
    }
    result
}

/// Takes jobs from the queue and hands them to the `send` handler in
/// SQS-shaped batches; acknowledges what succeeded and lets the rest come
/// back after a backoff.
pub async fn send_loop(app: App) {
    loop {
        if let Err(e) = send_once(&app, Duration::from_secs(1)).await {
            tracing::warn!(error = %e, "local send worker: queue error");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// One round of the local send worker: receives up to 10 jobs (waiting up to
/// `wait`) and runs them. Returns how many messages it handled.
pub async fn send_once(app: &App, wait: Duration) -> Result<usize, crate::ports::QueueError> {
    let messages = app.jobs.receive(10, JOB_VISIBILITY, wait).await?;
    if messages.is_empty() {
        return Ok(0);
    }
    let event = sqs_event(&messages);
    let response =
        match workers::send::handle(app, LambdaEvent::new(event, Context::default())).await {
            Ok(response) => response,
            Err(e) => {
                tracing::error!(error = %e, "local send worker: handler failed");
                return Ok(messages.len());
            }
        };
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    for message in &messages {
        // One message's failed ack or release must not hold back the rest:
        // the message just comes back after its visibility timeout.
        let settled = if failed.contains(&message.message_id.as_str()) {
            let backoff = Duration::from_secs(2u64.saturating_pow(message.receive_count.min(8)));
            app.jobs.release(&message.receipt, backoff).await
        } else {
            app.jobs.ack(&message.receipt).await
        };
        if let Err(e) = settled {
            tracing::warn!(message_id = %message.message_id, error = %e, "local send worker: could not settle a message");
        }
    }
    Ok(messages.len())
}

/// The SQS event Lambda would deliver for these messages.
pub fn sqs_event(messages: &[ReceivedMessage]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|m| {
            let mut record = SqsMessage::default();
            record.message_id = Some(m.message_id.clone());
            record.receipt_handle = Some(m.receipt.clone());
            record.body = Some(m.body.clone());
            record.attributes = HashMap::from([(
                "ApproximateReceiveCount".to_owned(),
                m.receive_count.to_string(),
            )]);
            record.event_source = Some("emma:local-queue".to_owned());
            record
        })
        .collect();
    event
}

/// Ticks the scheduler every `period`, as EventBridge would.
pub async fn scheduler_loop(app: App, period: Duration) {
    let mut interval = tokio::time::interval(period);
    loop {
        interval.tick().await;
        let mut event: EventBridgeEvent<serde_json::Value> = EventBridgeEvent::default();
        event.detail_type = "Scheduled Event".to_owned();
        event.source = "emma.local".to_owned();
        event.time = Some(app.clock.now());
        let invocation = LambdaEvent::new(event, Context::default());
        if let Err(e) = workers::scheduler::handle(&app, invocation).await {
            tracing::warn!(error = %e, "local scheduler tick failed");
        }
    }
}

/// Deletes expired items from the local store every `period`, as DynamoDB's
/// TTL sweeper does on AWS (reads hide them before that either way).
pub async fn sweep_loop(
    store: std::sync::Arc<crate::adapters::sqlite::SqliteStore>,
    period: Duration,
) {
    let mut interval = tokio::time::interval(period);
    loop {
        interval.tick().await;
        match store.purge_expired().await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "expired items deleted"),
            Err(e) => tracing::warn!(error = %e, "sweeping expired items failed"),
        }
    }
}
