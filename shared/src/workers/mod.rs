//! Background steps as Lambda handlers: each takes the event exactly as
//! Lambda delivers it (SQS batch, EventBridge schedule, SNS notification)
//! and calls the use cases. Locally, tasks feed them the same events.

pub mod scheduler;
pub mod send;
pub mod webhook;
