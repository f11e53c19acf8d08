//! The queue port: at-least-once delivery of job messages. A message that is
//! received and not acknowledged within its visibility timeout is delivered
//! again; after too many receives it moves to the dead-letter queue.

use std::time::Duration;

use async_trait::async_trait;

/// The largest message body the queue accepts (as in SQS).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// The most messages one receive returns (as in SQS).
pub const MAX_RECEIVE: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("the message is larger than 256 KiB")]
    TooLarge,
    #[error("the receipt is not valid (never handed out, or its message is gone)")]
    InvalidReceipt,
    #[error("the queue is unavailable: {0}")]
    Unavailable(String),
    #[error("the queue failed: {0}")]
    Backend(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    /// Hands the message back: acknowledge or release it with this.
    pub receipt: String,
    pub body: String,
    /// 1 on the first delivery, 2 on the second, ...
    pub receive_count: u32,
}

#[async_trait]
pub trait Queue: Send + Sync + 'static {
    fn backend(&self) -> &'static str;

    /// Enqueues a message, visible after `delay` (at most 15 minutes);
    /// returns its id.
    async fn send(&self, body: &str, delay: Duration) -> Result<String, QueueError>;

    /// Up to `max` (1 to 10) visible messages, hidden from other receivers
    /// for `visibility`. Waits up to `wait` (at most 20 s) when none is visible.
    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError>;

    /// Done with it: the message is deleted. Acks are idempotent, as on SQS:
    /// any receipt the queue handed out for the message works, also a stale
    /// one from an earlier receive (real SQS may then deliver it again, so
    /// processing must be idempotent), and acking a message already deleted
    /// succeeds. A receipt the queue never handed out, or one whose message
    /// moved to the dead-letter queue, is `InvalidReceipt`.
    async fn ack(&self, receipt: &str) -> Result<(), QueueError>;

    /// Not done: make the message visible again after `after`. Any receipt
    /// handed out for a message still in the queue works; one of a deleted
    /// or unknown message is `InvalidReceipt`.
    async fn release(&self, receipt: &str, after: Duration) -> Result<(), QueueError>;

    /// About how many messages wait (visible or in flight).
    async fn approximate_depth(&self) -> Result<u64, QueueError>;
}
