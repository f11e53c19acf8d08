//! The `scheduler` worker: the EventBridge tick, every minute.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;

use crate::App;
use crate::services::scheduler::{self, Heartbeat};

pub async fn handle(
    app: &App,
    event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
) -> Result<Heartbeat, lambda_runtime::Error> {
    tracing::debug!(event_time = ?event.payload.time, "scheduled event");
    let heartbeat = scheduler::tick(app).await?;
    // Due campaigns start; running ones are topped up, resumed or ended.
    // Each failure is logged and tried again on the next tick.
    match crate::services::sending::start_due(app).await {
        Ok(0) => {}
        Ok(started) => tracing::info!(started, "due campaigns started"),
        Err(e) => tracing::error!(error = %e, "starting due campaigns failed"),
    }
    if let Err(e) = crate::services::sending::watch_active(app).await {
        tracing::error!(error = %e, "watching running campaigns failed");
    }
    if let Err(e) = crate::services::sending::pacing::sweep(app).await {
        tracing::warn!(error = %e, "sweeping the sending rate's windows failed");
    }
    // Unconfirmed double opt-in sign-ups past their period (at most once
    // an hour); a failure here must not stop the tick.
    if let Err(e) = crate::services::signup::expire_due(app).await {
        tracing::error!(error = %e, "expiring unconfirmed sign-ups failed");
    }
    Ok(heartbeat)
}
