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
    // Unconfirmed double opt-in sign-ups past their period (at most once
    // an hour); a failure here must not stop the tick.
    if let Err(e) = crate::services::signup::expire_due(app).await {
        tracing::error!(error = %e, "expiring unconfirmed sign-ups failed");
    }
    Ok(heartbeat)
}
