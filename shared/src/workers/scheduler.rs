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
    Ok(scheduler::tick(app).await?)
}
